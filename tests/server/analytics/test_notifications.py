"""Claude Code's <task-notification> messages come through UserPromptSubmit; they are not the user's prompts.

Before: a session with one prompt and one background subagent showed "Prompts 2", and the subagent's
report sat in the timeline as a prompt that owned what followed.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlmodel import Session

from server.analytics.notifications import is_task_notification, notification_label
from server.analytics.session_detail import session_detail
from server.analytics.sessions import recent_sessions
from server.analytics.window import Window
from server.settings import Settings
from server.store.ingest import ingest_spool
from server.store.spool import Spool
from tests.server.store.spool_support import hook, spool_event

T0 = 1_700_000_000.0

NOTIFICATION = (
    "<task-notification>\n<task-id>agent-a</task-id>\n<status>completed</status>\n"
    '<summary>Agent "Explore the parser" completed</summary>\n<result>The parser lives in src/parse.py.</result>\n'
    "</task-notification>"
)


def test_a_session_with_one_prompt_and_one_background_subagent_shows_one_prompt_and_a_notification(
    settings: Settings, engine: Engine
) -> None:
    spool = settings.spool_dir
    spool_event(spool, hook("SessionStart", source="startup"), at=T0)
    spool_event(spool, hook("UserPromptSubmit", prompt="explore the parser in the background"), at=T0 + 1)
    spool_event(spool, hook("SubagentStart", agent_id="agent-a", agent_type="Explore"), at=T0 + 2)
    spool_event(spool, hook("SubagentStop", agent_id="agent-a", agent_type="Explore"), at=T0 + 30)
    spool_event(spool, hook("UserPromptSubmit", prompt=NOTIFICATION), at=T0 + 31)
    assert ingest_spool(engine, Spool(spool)).error is None
    with Session(engine) as db:
        [row] = recent_sessions(db, Window())
        detail = session_detail(db, row.session_id)
    assert (row.prompts, row.subagents) == (1, 1)
    assert detail is not None
    [prompt] = detail.timeline
    assert prompt.kind == "prompt" and prompt.label == "explore the parser in the background"
    kinds = {child.kind: child for child in prompt.children}
    assert set(kinds) == {"subagent", "notification"}
    assert kinds["notification"].label == 'Agent "Explore the parser" completed'


def test_a_prompt_that_only_mentions_the_tag_is_still_a_prompt() -> None:
    assert not is_task_notification("why does Claude send <task-notification> messages?")
    assert is_task_notification("  " + NOTIFICATION)


@given(st.text(max_size=300))
def test_a_notification_label_is_short_and_has_no_tags(body: str) -> None:
    label = notification_label(f"<task-notification><result>{body}</result></task-notification>")
    assert len(label) <= 200 and "<result>" not in label and "<task-notification>" not in label
