"""Fit an answer into the client's tool-output limit; the full text goes to ``stored_output``."""

from __future__ import annotations

import json
import uuid

from sqlalchemy import Engine
from sqlmodel import Session

from server.engine.scope import Scope
from server.store.models import StoredOutput

__all__ = ["CHARS_PER_TOKEN", "cut_to_limit", "load_output", "stored_output"]

# Conservative: code and non-English text run under 4 characters a token, and overshooting the limit costs
# the caller the whole answer, so assume 3.
CHARS_PER_TOKEN = 3
# Room for the provenance line and the structured fields around the answer.
_RESERVE_CHARS = 2_000
# Room for the note that says where the rest is.
_NOTE_CHARS = 300


def _sent_chars(text: str, copies: int) -> int:
    """Characters the client receives for ``text`` sent ``copies`` times: once plain, the rest JSON-escaped."""
    if copies <= 1:
        return len(text)
    return len(text) + (copies - 1) * (len(json.dumps(text, ensure_ascii=False)) - 2)


def cut_to_limit(text: str, max_tokens: int, output_id: str, copies: int = 1) -> tuple[str, bool]:
    """``text``, or its head with a note naming ``output_id``, so that it fits in ``max_tokens``.

    ``copies`` is how many times the client receives it: 2 when it is both the text content and a field of
    structuredContent, where JSON escaping makes it longer still (quotes, backslashes, newlines). Everything
    the client receives counts against its limit, so the head is cut until every copy together fits.
    """
    budget = max(500, max_tokens * CHARS_PER_TOKEN - _RESERVE_CHARS)
    if _sent_chars(text, copies) <= budget:
        return text, False
    limit = budget // copies
    # Each round removes at least the overflow, so this ends within a few rounds (escaping at most doubles).
    while limit > 0 and _sent_chars(text[:limit], copies) > budget - _NOTE_CHARS * copies:
        limit -= max(1, (_sent_chars(text[:limit], copies) - budget + _NOTE_CHARS * copies) // copies)
    limit = max(limit, 0)
    note = (
        f"\n\n[cut: the answer is {len(text)} characters, over the client's tool-output limit; the first {limit} "
        f"are above. Call get_output with output_id={output_id!r} (offset={limit}) for the rest, or read the "
        f"resource switchboard://outputs/{output_id}.]"
    )
    return text[:limit] + note, True


def stored_output(
    content: str, session_id: str | None, kind: str = "delegation", *, project_dir: str | None = None
) -> StoredOutput:
    return StoredOutput(id=uuid.uuid4().hex, session_id=session_id, kind=kind, content=content, project_dir=project_dir)


def load_output(engine: Engine, output_id: str, scope: Scope) -> str | None:
    """The stored text, or None when there is none that ``scope`` may read (the caller says "unknown" either way)."""
    with Session(engine) as db:
        row = db.get(StoredOutput, output_id)
        return row.content if row is not None and scope.owns(row.session_id, row.project_dir) else None
