"""Fit an answer into the client's tool-output limit; the full text goes to ``stored_output``."""

from __future__ import annotations

import uuid

from sqlalchemy import Engine
from sqlmodel import Session

from server.store.models import StoredOutput

__all__ = ["CHARS_PER_TOKEN", "cut_to_limit", "load_output", "stored_output"]

# Conservative: code and non-English text run under 4 characters a token, and overshooting the limit costs
# the caller the whole answer, so assume 3.
CHARS_PER_TOKEN = 3
# Room for the note and the structured fields around the answer.
_RESERVE_CHARS = 2_000


def cut_to_limit(text: str, max_tokens: int, output_id: str) -> tuple[str, bool]:
    """``text``, or its head with a note naming ``output_id``, so that it fits in ``max_tokens``."""
    limit = max(500, max_tokens * CHARS_PER_TOKEN - _RESERVE_CHARS)
    if len(text) <= limit:
        return text, False
    note = (
        f"\n\n[cut: the answer is {len(text)} characters, over the client's tool-output limit; the first {limit} "
        f"are above. Call get_output with output_id={output_id!r} (offset={limit}) for the rest, or read the "
        f"resource switchboard://outputs/{output_id}.]"
    )
    return text[:limit] + note, True


def stored_output(content: str, session_id: str | None, kind: str = "delegation") -> StoredOutput:
    return StoredOutput(id=uuid.uuid4().hex, session_id=session_id, kind=kind, content=content)


def load_output(engine: Engine, output_id: str) -> str | None:
    with Session(engine) as db:
        row = db.get(StoredOutput, output_id)
        return None if row is None else row.content
