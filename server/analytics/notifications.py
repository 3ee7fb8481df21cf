"""Claude Code's ``<task-notification>`` messages: they arrive through ``UserPromptSubmit`` but are not prompts.

When a background subagent ends, Claude Code injects a user message that starts with ``<task-notification>``
(the subagent's summary and result) and the ``UserPromptSubmit`` hook sees it like a typed prompt. Counting
it as one made a session with one prompt and one background subagent show "Prompts 2", and put the
subagent's report among the user's prompts. The rows stay in ``prompt`` (as captured; stores ingested before
this keep theirs too); analytics tell them apart by this prefix.
"""

from __future__ import annotations

import re

from sqlalchemy import ColumnElement
from sqlmodel import col

from server.store.models import Prompt

__all__ = ["TASK_NOTIFICATION", "is_task_notification", "notification_label", "typed_prompts"]

TASK_NOTIFICATION = "<task-notification>"

_SUMMARY = re.compile(r"<summary>(.*?)</summary>", re.S)
_TAGS = re.compile(r"<[^>]{1,60}>")


def is_task_notification(text: str) -> bool:
    return text.lstrip().startswith(TASK_NOTIFICATION)


def typed_prompts() -> ColumnElement[bool]:
    """The condition keeping the prompts a user submitted, without Claude Code's task notifications."""
    return ~col(Prompt.text).startswith(TASK_NOTIFICATION, autoescape=True)


def notification_label(text: str) -> str:
    """The notification's ``<summary>`` when it has one, else its text without tags, cut to 200 characters."""
    found = _SUMMARY.search(text)
    plain = found.group(1) if found else _TAGS.sub(" ", text)
    return " ".join(plain.split())[:200]
