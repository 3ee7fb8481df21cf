from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from server.engine.output import CHARS_PER_TOKEN, cut_to_limit


@given(text=st.text(max_size=20_000), max_tokens=st.integers(min_value=1, max_value=8_000))
def test_a_cut_answer_is_a_prefix_of_the_full_one_and_fits_the_limit(text: str, max_tokens: int) -> None:
    shown, truncated = cut_to_limit(text, max_tokens, "out-1")
    if not truncated:
        assert shown == text
        return
    head, _, note = shown.rpartition("\n\n[cut: ")
    assert text.startswith(head) and len(head) < len(text)
    assert "out-1" in note
    assert len(shown) <= max(500, max_tokens * CHARS_PER_TOKEN) + 400


def test_an_answer_within_the_limit_is_returned_whole() -> None:
    text = "a" * 10_000
    assert cut_to_limit(text, 25_000, "x") == (text, False)
