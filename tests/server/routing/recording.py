"""Writing rows as the recorder does (its batch writer, same transaction as the routing_stat fold), for tests
that seed a store."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Engine
from sqlmodel import SQLModel

from server.store.record_batches import write
from server.store.recorder import Batch

__all__ = ["save_rows"]


def save_rows(engine: Engine, rows: Sequence[SQLModel]) -> None:
    write(engine, [Batch(list(rows))])
