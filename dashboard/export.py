"""``GET /api/export/{table}.csv?days=N``: a store table as CSV, what the page's tables link to for a spreadsheet.

The same rows as ``switchboard export --table T`` (:mod:`server.store.export`), streamed; behind the same gates as
the rest of ``/api``.
"""

from __future__ import annotations

from datetime import timedelta

from starlette.concurrency import iterate_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse

from server.store.export import ExportError, export_rows, time_column
from server.store.models import utcnow

__all__ = ["export_csv"]

MAX_DAYS = 3650.0


async def export_csv(request: Request) -> Response:
    table = str(request.path_params["table"])
    days_text = request.query_params.get("days")
    try:
        days = float(days_text) if days_text else None
        if days is not None and not 0 < days <= MAX_DAYS:
            raise ValueError
        time_column(table)  # an unknown table is refused before the response starts
    except ValueError as exc:
        reason = str(exc) if isinstance(exc, ExportError) else f"days must be a number from 0 to {MAX_DAYS:g}"
        return PlainTextResponse(reason + "\n", status_code=400)
    since = utcnow() - timedelta(days=days) if days is not None and time_column(table) else None
    rows = export_rows(request.app.state.engine, table, since, "csv")
    headers = {"content-disposition": f'attachment; filename="{table}.csv"'}
    return StreamingResponse(iterate_in_threadpool(rows), media_type="text/csv; charset=utf-8", headers=headers)
