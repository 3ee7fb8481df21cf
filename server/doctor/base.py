"""What a doctor check is: a function from a :class:`DoctorContext` to :class:`Check` findings."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from server.settings import Settings

__all__ = ["Check", "CheckFunction", "DoctorContext"]


@dataclass(frozen=True)
class Check:
    """One finding: ``ok`` says whether it is a problem; ``fix`` says what to do when it is (a hint when it is not)."""

    name: str
    ok: bool
    detail: str
    fix: str | None = None


@dataclass
class DoctorContext:
    """What the checks look at: the process settings, the project folder and the user's home."""

    settings: Settings = field(default_factory=Settings)
    project: Path = field(default_factory=Path.cwd)
    user_home: Path = field(default_factory=Path.home)


CheckFunction = Callable[[DoctorContext], Iterable[Check]]
