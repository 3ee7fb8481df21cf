"""Portable SQL helpers: percentiles by window functions, and sums that keep NULL apart from zero."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel
from sqlalchemy import ColumnElement, and_, case, func, or_
from sqlmodel import Session, col
from sqlmodel.sql.expression import Select

__all__ = ["Percentiles", "count_if", "percentiles", "ratio", "select_columns", "sum_if"]


class Percentiles(BaseModel):
    """Nearest-rank percentiles of a group's values."""

    p50: float | None = None
    p95: float | None = None


def count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    """``COUNT`` of the rows where ``condition`` holds (portable: no FILTER clause)."""
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def sum_if(condition: ColumnElement[bool], value: Any) -> ColumnElement[Any]:
    """``SUM(value)`` over the rows where ``condition`` holds; 0 when none."""
    return func.coalesce(func.sum(case((condition, value), else_=0)), 0)


def select_columns(*columns: Any) -> Select[*tuple[Any, ...]]:
    """A SELECT of a column list built at run time (sqlmodel's ``select`` overloads need fixed arity)."""
    return Select(*columns)


def _rank_clause(rank: Any, size: Any, percent: int) -> ColumnElement[bool]:
    # Nearest rank: the smallest r with r/n >= p, i.e. r*100 >= p*n > (r-1)*100; integers only, so
    # SQLite and PostgreSQL agree without CEIL or float division.
    return and_(rank * 100 >= size * percent, (rank - 1) * 100 < size * percent)


def percentiles(
    db: Session, value: Any, groups: Sequence[Any], where: Sequence[ColumnElement[bool]]
) -> dict[tuple[Any, ...], Percentiles]:
    """p50 and p95 of ``value`` per group, computed in the database.

    Args:
        db: An open session.
        value: The column to rank (rows where it is NULL are ignored).
        groups: Columns to group by (may be empty: one group, keyed ``()``).
        where: Conditions selecting the rows.

    Returns:
        A map from each group's key tuple to its percentiles.
    """
    partition = list(groups) or None
    ranked = (
        select_columns(
            *groups,
            col(value).label("v"),
            func.row_number().over(partition_by=partition, order_by=value).label("rn"),
            func.count().over(partition_by=partition).label("n"),
        )
        .where(col(value).is_not(None), *where)
        .subquery()
    )
    keys = [ranked.c[c.key] for c in groups]
    rank, size = ranked.c.rn, ranked.c.n
    rows = db.exec(
        select_columns(*keys, ranked.c.v, rank, size).where(
            or_(_rank_clause(rank, size, 50), _rank_clause(rank, size, 95))
        )
    ).all()
    result: dict[tuple[Any, ...], Percentiles] = {}
    for row in rows:
        key = tuple(row[: len(keys)])
        v, r, n = row[len(keys)], row[len(keys) + 1], row[len(keys) + 2]
        entry = result.setdefault(key, Percentiles())
        if r * 100 >= n * 50 and (r - 1) * 100 < n * 50:
            entry.p50 = float(v)
        if r * 100 >= n * 95 and (r - 1) * 100 < n * 95:
            entry.p95 = float(v)
    return result


def ratio(part: int, whole: int) -> float | None:
    """``part / whole``, or None when there is nothing to divide."""
    return part / whole if whole else None
