"""Which ``Host`` names a local HTTP server answers to: the dashboard and ``serve --http`` share this.

DNS rebinding lets any web page point a name it owns (``evil.example``) at 127.0.0.1 and read what answers
there as its own origin; the browser then sends ``Host: evil.example:PORT``. A server on loopback therefore
answers only to loopback's own names (``127.0.0.1``, ``localhost``, ``[::1]``, and the address it is bound
to), which can never be an attacker's.
"""

from __future__ import annotations

import ipaddress

__all__ = ["LOOPBACK_NAMES", "allowed_hosts", "as_host_header", "is_loopback"]

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


def is_loopback(host: str) -> bool:
    """Whether ``host`` binds only this machine (127.0.0.0/8, ::1 or ``localhost``)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def as_host_header(host: str) -> str:
    """``host`` as it appears in a Host header (an IPv6 literal in brackets), lower case."""
    bare = host.strip("[]").lower()
    return f"[{bare}]" if ":" in bare else bare


def allowed_hosts(bind_host: str) -> list[str] | None:
    """The ``Host`` names (without port) a server bound to ``bind_host`` answers to; None: any (a wildcard bind).

    A wildcard (``0.0.0.0``, ``::``) is reached by names this process cannot know; such a bind requires a
    token, and a rebinding page never holds it.
    """
    shown = as_host_header(bind_host)
    if is_loopback(bind_host):
        return list(dict.fromkeys((*LOOPBACK_NAMES, shown)))
    try:
        if ipaddress.ip_address(bind_host.strip("[]")).is_unspecified:
            return None
    except ValueError:
        pass  # a name such as "myhost.lan": it answers to that name only
    return [shown]
