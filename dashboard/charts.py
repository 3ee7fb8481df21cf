"""Chart specs: the small JSON the page's script hands to Chart.js (labels, series, unit), built from views.

A spec is data only: ``{"type", "labels", "series": [{"label", "data"}], "unit", "stacked", "horizontal"}``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

__all__ = ["ChartSpec", "bar", "line"]

Unit = Literal["usd", "ms", "percent", "count", "tokens"]
ChartSpec = dict[str, Any]


def bar(
    labels: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    unit: Unit,
    *,
    stacked: bool = False,
    horizontal: bool = False,
) -> ChartSpec:
    """A bar chart with one bar series per entry of ``series`` (None draws no bar)."""
    return _spec("bar", labels, series, unit, stacked=stacked, horizontal=horizontal)


def line(labels: Sequence[str], series: Mapping[str, Sequence[float | None]], unit: Unit) -> ChartSpec:
    """A line chart over ``labels`` (e.g. days)."""
    return _spec("line", labels, series, unit, stacked=False, horizontal=False)


def _spec(
    kind: str,
    labels: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    unit: Unit,
    *,
    stacked: bool,
    horizontal: bool,
) -> ChartSpec:
    for name, data in series.items():
        if len(data) != len(labels):
            raise ValueError(f"series {name!r} has {len(data)} points for {len(labels)} labels")
    return {
        "type": kind,
        "labels": list(labels),
        "series": [{"label": name, "data": list(data)} for name, data in series.items()],
        "unit": unit,
        "stacked": stacked,
        "horizontal": horizontal,
    }
