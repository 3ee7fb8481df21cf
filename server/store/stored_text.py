"""Secrets out of what ``delegate`` and ``consensus`` keep: the rows they write pass the redaction ingest uses.

Tasks, attached file contents, questions, answers and provider error messages land in ``thread_message``,
``stored_output``, ``consensus_run``, ``delegation`` and ``provider_event``. Each free-text (``Text``) column of a
row is redacted just before it is written, so a table added later is covered without a list to keep up to date.
What is *sent* to a provider is not redacted: that is the user's choice. A thread continued later therefore sends
its earlier turns as stored, with ``[REDACTED:kind]`` in place of a secret.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import Text
from sqlmodel import SQLModel

from server.redact import redact_text

__all__ = ["redact_rows"]

_Rows = TypeVar("_Rows", bound=Sequence[SQLModel])


def _text_columns(row: SQLModel) -> list[str]:
    table: Any = getattr(type(row), "__table__", None)
    if table is None:
        return []
    return [column.key for column in table.columns if isinstance(column.type, Text)]


def redact_rows(rows: _Rows) -> _Rows:
    """``rows``, each free-text column redacted in place (see :func:`server.redact.redact_text`)."""
    for row in rows:
        for name in _text_columns(row):
            value = getattr(row, name)
            if isinstance(value, str):
                setattr(row, name, redact_text(value))
    return rows
