"""Claude Code's JSON files read and written back unchanged where install does not touch them."""

from __future__ import annotations

import json
import re
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from server.install.jsonfile import JsonFormat, RawNumber, dumps, loads

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=25,
)


def _like_node(data: Any, indent: int | None, ascii_only: bool) -> str:
    """What ``JSON.stringify`` would write: lone surrogates as escapes, whatever else Python writes."""
    text = json.dumps(data, indent=indent, ensure_ascii=ascii_only)
    return re.sub("[\ud800-\udfff]", lambda m: f"\\u{ord(m[0]):04x}", text)


@given(data=st.dictionaries(st.text(max_size=8), _json, max_size=6), indent=st.sampled_from([None, 2, 4]))
def test_any_json_object_round_trips_byte_for_byte(data: dict[str, Any], indent: int | None) -> None:
    for ascii_only in (False, True):
        text = _like_node(data, indent, ascii_only)
        assert dumps(loads(text), JsonFormat.of(text)) == text


def test_numbers_keep_their_text_even_where_a_float_would_not() -> None:
    text = '{"a": 1e400, "b": 0.10000000000000000555, "c": -0.0, "d": ' + "7" * 5000 + ', "e": 1.50}'
    data = loads(text)
    assert data["a"] == RawNumber("1e400") and dumps(data, JsonFormat.of(text)) == text


def test_a_lone_surrogate_stays_an_escape_and_the_file_stays_utf8() -> None:
    text = '{\n  "cut": "abc\\ud83d",\n  "whole": "\U0001f600"\n}'
    out = dumps(loads(text), JsonFormat.of(text))
    assert out == text and out.encode("utf-8")


@given(data=st.dictionaries(st.text(max_size=8), _json, min_size=1, max_size=6))
def test_a_compact_file_stays_compact(data: dict[str, Any]) -> None:
    text = json.dumps({**data, "x": '": y'}, separators=(",", ":"), ensure_ascii=True)
    assert dumps(loads(text), JsonFormat.detect(text, loads(text))) == text
