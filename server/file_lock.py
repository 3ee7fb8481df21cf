"""An exclusive ``flock`` held for a short critical section, waited for up to a bound.

``flock`` has no timeout of its own, so the wait polls a non-blocking attempt. The kernel drops the lock when its
holder dies (``kill -9`` included), so a lock file left behind never blocks anyone. The file is created 0600.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Generator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["held"]


@contextmanager
def held(path: Path, timeout_s: float, poll_s: float, busy: Callable[[], Exception]) -> Generator[None]:
    """Hold an exclusive lock on ``path``, polling every ``poll_s`` for up to ``timeout_s``.

    Raises:
        The exception ``busy()`` returns, when another holder kept the lock for over ``timeout_s``.
    """
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise busy() from None
                time.sleep(poll_s)
        yield
    finally:
        os.close(fd)  # closing releases the lock
