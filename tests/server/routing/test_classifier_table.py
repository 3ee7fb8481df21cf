"""The classifier on its published table (docs/task-types.md): realistic prompts and the type each must get."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.classify import classify
from server.task_types import TASK_TYPE_MEANINGS, TASK_TYPES

TABLE = Path(__file__).parents[3] / "docs" / "task-types.md"


def table_rows() -> list[tuple[str, str]]:
    text = TABLE.read_text(encoding="utf-8").split("## Table", 1)[1]
    rows = [line.strip().strip("|").rsplit("|", 1) for line in text.splitlines() if line.startswith("| ")]
    return [(prompt.strip(), expected.strip()) for prompt, expected in rows if expected.strip() != "expected"]


def test_the_published_table_has_at_least_40_prompts_and_covers_every_type() -> None:
    rows = table_rows()
    assert len(rows) >= 40
    assert {expected for _, expected in rows} == set(TASK_TYPES)


@pytest.mark.parametrize(("prompt", "expected"), table_rows())
def test_the_classifier_gives_each_published_prompt_its_type(prompt: str, expected: str) -> None:
    assert classify(prompt) == expected


def test_the_published_meanings_are_the_ones_the_tools_describe() -> None:
    text = TABLE.read_text(encoding="utf-8")
    for name, meaning in TASK_TYPE_MEANINGS.items():
        assert f"| `{name}` | {meaning} |" in text
