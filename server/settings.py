"""Process settings from the environment (``SWITCHBOARD_*``).

These say *where* things live. What switchboard *does* (providers, routing, budgets) is in the TOML
config file named by ``SWITCHBOARD_CONFIG``; see :mod:`server.config`.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from server.home import STORE_FILE, default_home

__all__ = ["Settings", "default_home"]


class Settings(BaseSettings):
    """Where switchboard keeps its state, read from ``SWITCHBOARD_*`` environment variables."""

    model_config = SettingsConfigDict(env_prefix="SWITCHBOARD_", extra="ignore")

    home: Path = Field(default_factory=default_home, description="Holds the spool, logs and the default SQLite file.")
    database_url: str | None = Field(default=None, description="Any SQLAlchemy URL; default: SQLite under home.")
    config: Path | None = Field(default=None, description="The TOML config file; default: project, then user file.")
    ingest_interval_s: float = Field(default=5.0, description="How often long-running processes ingest the spool.")
    service_idle_s: float = Field(default=1800.0, description="The service exits after this long with no session.")
    service_port: int | None = Field(
        default=None, description="The service's dashboard and OTLP port; default: config [dashboard] port."
    )

    @cached_property
    def spool_dir(self) -> Path:
        return self.home / "spool"

    @cached_property
    def log_dir(self) -> Path:
        return self.home / "logs"

    @cached_property
    def sqlite_path(self) -> Path:
        return self.home / STORE_FILE

    @property
    def resolved_database_url(self) -> str:
        """The database URL in force: the setting, else the SQLite file under ``home``."""
        return self.database_url or f"sqlite:///{self.sqlite_path}"
