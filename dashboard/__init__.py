"""The analytics web page: a Starlette app over the store, served by ``switchboard dashboard``."""

from dashboard.app import build_app

__all__ = ["build_app"]
