"""Reading the store after an in-process call: the recorder writes behind the response, so wait for it first."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import Session

from server.store.recorder import Recorder


def recorded(engine: Engine) -> Session:
    """A session on ``engine`` opened once every recorder of this process has written what it holds."""
    assert Recorder.wait_all_idle(20), "the recorder did not finish writing"
    return Session(engine)
