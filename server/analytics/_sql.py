"""Portable SQL helpers: conditional counts and sums, percentiles, durations, and a GROUP BY key for SQLite."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel
from sqlalchemy import ColumnElement, case, func
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import Session, col
from sqlmodel.sql.expression import Select

__all__ = [
    "Percentiles",
    "count_if",
    "group_key",
    "microseconds_between",
    "nearest_rank",
    "percentiles",
    "ratio",
    "select_columns",
    "sum_if",
]

SEEK_ABOVE = 20_000
"""Past this many values, :func:`percentiles` seeks each rank in SQL instead of fetching every value."""


class group_key(FunctionElement[Any]):
    """A GROUP BY / PARTITION BY key that keeps SQLite from scanning the key's own index.

    Given a time-window condition and a GROUP BY on an indexed column, SQLite prefers walking the whole
    GROUP BY column's index (no sort needed) over a range scan of the time index: on a million-row store
    that made a 7-day query read every row. SQLite's unary ``+`` (a no-op on the value) hides the index;
    other databases get the plain column.
    """

    inherit_cache = True
    name = "group_key"


@compiles(group_key)
def _group_key(element: group_key, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(group_key, "sqlite")
def _group_key_sqlite(element: group_key, compiler: SQLCompiler, **kw: Any) -> str:
    return "+" + compiler.process(element.clauses, **kw)


class microseconds_between(FunctionElement[int]):
    """Whole microseconds from the first datetime column to the second (``end - start``), exact on every dialect.

    SQLite keeps times as ``YYYY-MM-DD HH:MM:SS.ffffff`` text: whole seconds from ``strftime('%s')`` plus the
    microsecond digits, in integer arithmetic (``julianday`` floats would drift by tens of microseconds).
    """

    inherit_cache = True
    name = "microseconds_between"


@compiles(microseconds_between)
def _microseconds_between(element: microseconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return f"CAST(EXTRACT(EPOCH FROM ({end} - {start})) * 1000000 AS BIGINT)"


@compiles(microseconds_between, "sqlite")
def _microseconds_between_sqlite(element: microseconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    seconds = f"(CAST(strftime('%s', {end}) AS INTEGER) - CAST(strftime('%s', {start}) AS INTEGER))"
    micros = f"(CAST(substr({end}, 21, 6) AS INTEGER) - CAST(substr({start}, 21, 6) AS INTEGER))"
    return f"({seconds} * 1000000 + {micros})"


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


def nearest_rank(ordered: Sequence[float], percent: int) -> float:
    """The nearest-rank percentile of ``ordered`` (sorted, non-empty): the value at rank ceil(p/100 * n)."""
    rank = (len(ordered) * percent + 99) // 100
    return ordered[max(rank, 1) - 1]


def percentiles(
    db: Session,
    value: Any,
    groups: Sequence[Any],
    where: Sequence[ColumnElement[bool]],
    sizes: dict[tuple[Any, ...], int] | None = None,
    seek_above: int | None = None,
) -> dict[tuple[Any, ...], Percentiles]:
    """p50 and p95 of ``value`` per group (nearest rank).

    Up to ``SEEK_ABOVE`` values are fetched and ranked here: portable, and on the benchmark store
    (bench/bench_analytics.py) several times faster than SQLite's window functions. Past that, when the caller
    knows each group's count of non-NULL values (``sizes``), each rank is one ``ORDER BY value LIMIT 1 OFFSET``
    query from the nearer end: with an index on (group columns, value, filter columns) the database steps
    through the index instead of handing every value to Python (250,000 tool calls: ~370 ms -> ~10 ms).

    Args:
        db: An open session.
        value: The column to rank (rows where it is NULL are ignored).
        groups: Columns to group by (may be empty: one group, keyed ``()``).
        where: Conditions selecting the rows.
        sizes: Optional count of non-NULL ``value`` rows per group key under ``where``.
        seek_above: Seek ranks past this many values in all (default ``SEEK_ABOVE``).

    Returns:
        A map from each group's key tuple to its percentiles.
    """
    limit = SEEK_ABOVE if seek_above is None else seek_above
    if sizes is not None and sum(sizes.values()) > limit:
        return _seek_percentiles(db, value, groups, where, sizes)
    values: dict[tuple[Any, ...], list[float]] = {}
    width = len(groups)
    statement = select_columns(*groups, value).where(col(value).is_not(None), *where)
    # Core execution: plain tuples, without the ORM's per-row loading (a third of the time on 20,000 rows).
    for row in db.connection().execute(statement).all():
        values.setdefault(tuple(row[:width]), []).append(row[width])
    result: dict[tuple[Any, ...], Percentiles] = {}
    for key, found in values.items():
        found.sort()
        result[key] = Percentiles(p50=float(nearest_rank(found, 50)), p95=float(nearest_rank(found, 95)))
    return result


def _seek_percentiles(
    db: Session,
    value: Any,
    groups: Sequence[Any],
    where: Sequence[ColumnElement[bool]],
    sizes: dict[tuple[Any, ...], int],
) -> dict[tuple[Any, ...], Percentiles]:
    connection = db.connection()
    result: dict[tuple[Any, ...], Percentiles] = {}
    for key, size in sizes.items():
        if size <= 0:
            continue
        in_group = [col(g).is_(None) if k is None else col(g) == k for g, k in zip(groups, key, strict=True)]
        base = select_columns(value).where(col(value).is_not(None), *in_group, *where).limit(1)

        def at(percent: int, base: Select[*tuple[Any, ...]] = base, size: int = size) -> float | None:
            rank = max((size * percent + 99) // 100, 1)
            # Step from the nearer end: the p95 is the (size - rank + 1)-th largest, 5% of the way from the top.
            if rank * 2 > size:
                statement = base.order_by(col(value).desc()).offset(size - rank)
            else:
                statement = base.order_by(value).offset(rank - 1)
            # Each statement reads its own snapshot: a row deleted since the count leaves no value at the rank.
            row = connection.execute(statement).first()
            return None if row is None else float(row[0])

        result[key] = Percentiles(p50=at(50), p95=at(95))
    return result


def ratio(part: int, whole: int) -> float | None:
    """``part / whole``, or None when there is nothing to divide."""
    return part / whole if whole else None
