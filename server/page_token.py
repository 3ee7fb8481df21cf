"""The dashboard page's token, Jupyter's way: one URL with ``?token=`` that the page turns into a cookie.

Every local user can reach 127.0.0.1, so the page asks for this token on loopback too. It lives in
``$SWITCHBOARD_HOME/page_token`` (0600): ``switchboard dashboard`` and the service read the same one, so the URL the
command prints opens either.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from server.token_file import token_file

__all__ = ["PAGE_TOKEN_FILE", "page_token", "page_url"]

PAGE_TOKEN_FILE = "page_token"


def page_token(home: Path) -> str:
    """The page token of the switchboard home ``home``, made on first use."""
    return token_file(home / PAGE_TOKEN_FILE)


def page_url(port: int, token: str, host: str = "127.0.0.1") -> str:
    """The address that opens the page and leaves the token behind as a cookie."""
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/?token={quote(token, safe='')}"
