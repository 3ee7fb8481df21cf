"""The JSON API under ``/api/``: each endpoint returns the same view its page renders, as JSON."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from dashboard.export import export_csv
from dashboard.page_table import Page
from dashboard.pages import PAGES
from server.json_output import dumps
from server.redact import redact

__all__ = ["routes"]


def _json(view: BaseModel) -> Response:
    # Same second redaction pass as the pages (see dashboard.pages._shown), on every string of the view.
    body = dumps(redact(view.model_dump(mode="json")), separators=(",", ":"))
    return Response(body, media_type="application/json", headers={"cache-control": "no-store"})


def endpoint(page: Page[Any]) -> Any:
    """The ``/api`` handler for ``page``: its loader's view as JSON."""

    async def answer(request: Request) -> Response:
        return _json(await page.loader(request))

    answer.__name__ = page.name
    return answer


def routes(pages: Sequence[Page[Any]] = PAGES) -> list[BaseRoute]:
    """Each page's JSON twin (query strings as its page's: ``days``, ``who=me|all``, the sessions' filters), and
    the CSV export."""
    return [
        *(Route(page.api_path, endpoint(page)) for page in pages),
        Route("/export/{table}.csv", export_csv),
    ]
