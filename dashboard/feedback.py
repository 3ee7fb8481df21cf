"""``POST /routing/feedback``: the page's good/bad control on a delegation, its one state-changing route.

Cross-site request forgery is refused three ways: the form must carry the page's token (an HMAC of a secret made
when the app starts, so only a page this app served has it: another site cannot read it), ``Sec-Fetch-Site``,
when sent, must be ``same-origin``, and the app's Origin check (:mod:`dashboard.origin`, every route) refuses a
foreign or ``null`` ``Origin``. The Routing page is therefore served with ``Referrer-Policy: same-origin``: under
the app's default ``no-referrer`` a browser sends ``Origin: null`` even from the page's own form. The token gate
(off-loopback) and the Host check run before this, as for every route.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

import anyio
from sqlalchemy import Engine
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from server.routing.feedback import FeedbackError, give_feedback

__all__ = ["PAGE_HEADERS", "csrf_token", "new_secret", "post_feedback"]

FIELD = "csrf"
PAGE_HEADERS = {"referrer-policy": "same-origin"}
"""Headers of the page that carries the form: its own origin in ``Origin``, and no referrer to other sites."""


def new_secret() -> bytes:
    return secrets.token_bytes(32)


def csrf_token(secret: bytes) -> str:
    """The token the page puts in its forms."""
    return hmac.new(secret, b"routing-feedback", hashlib.sha256).hexdigest()


def _same_origin(request: Request) -> bool:
    return request.headers.get("sec-fetch-site", "same-origin") == "same-origin"


async def post_feedback(request: Request) -> Response:
    """Store the verdict from the form (``request_id``, ``good`` = ``1``/``0``) and go back to the page."""
    form = await request.form()
    token = form.get(FIELD)
    secret: bytes = request.app.state.csrf_secret
    if not isinstance(token, str) or not hmac.compare_digest(token, csrf_token(secret)) or not _same_origin(request):
        raise HTTPException(403, "refused: this form did not come from this page (reload the page and try again)")
    request_id, good = form.get("request_id"), form.get("good")
    if not isinstance(request_id, str) or not request_id or len(request_id) > 64 or good not in ("1", "0"):
        raise HTTPException(400, "request_id and good (1 or 0) are required")
    engine: Engine = request.app.state.engine
    try:
        await anyio.to_thread.run_sync(
            lambda: give_feedback(
                engine, request_id, good == "1", session_id=None, source="dashboard", any_session=True
            )
        )
    except FeedbackError as exc:
        raise HTTPException(404, str(exc)) from exc
    request.app.state.views.forget("routing")
    days = request.query_params.get("days", "")
    query = [f"days={days}"] if days.replace(".", "", 1).isdigit() else []
    query += ["who=me"] if request.query_params.get("who") == "me" else []
    return RedirectResponse("/routing" + ("?" + "&".join(query) if query else ""), 303)
