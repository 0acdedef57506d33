"""Tortoise configuration and migrations for the configured database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tortoise import Tortoise
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.migrations.api import migrate as run_migrations

from app.settings import get_settings
from app.sqlite import BUSY_TIMEOUT_MS
from models import MODEL_MODULES


def connection_config(database_url: str) -> str | dict[str, Any]:
    """PostgreSQL through app.postgres (asyncpg without the pool's release reset); SQLite
    through app.sqlite (immediate write transactions, WAL, a busy timeout), so a second writer
    process makes writes wait instead of fail."""
    if database_url.startswith(("postgres://", "postgresql://", "asyncpg://")):
        pg: dict[str, Any] = expand_db_url(database_url)
        pg["engine"] = "app.postgres"
        return pg
    if not database_url.startswith("sqlite://"):
        return database_url
    config: dict[str, Any] = expand_db_url(database_url)
    config["engine"] = "app.sqlite"
    config["credentials"].setdefault("busy_timeout", BUSY_TIMEOUT_MS)
    return config


def tortoise_config(database_url: str) -> dict[str, Any]:
    return {
        "connections": {"default": connection_config(database_url)},
        "apps": {
            "models": {
                "models": MODEL_MODULES,
                "default_connection": "default",
                "migrations": "models.migrations",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def ensure_sqlite_dir(database_url: str) -> None:
    prefix = "sqlite://"
    if database_url.startswith(prefix) and ":memory:" not in database_url:
        Path(database_url[len(prefix) :]).parent.mkdir(parents=True, exist_ok=True)


async def migrate(database_url: str) -> None:
    ensure_sqlite_dir(database_url)
    try:
        await run_migrations(config=tortoise_config(database_url))
    finally:
        # The migration API opens connections it does not close; aiosqlite's thread
        # would keep the process alive.
        await Tortoise.close_connections()


def __getattr__(name: str) -> Any:
    """For tortoise's own CLI: `tortoise -c app.db.TORTOISE_ORM makemigrations`.
    Lazy, so importing this module never reads the environment."""
    if name == "TORTOISE_ORM":
        return tortoise_config(get_settings().database_url)
    raise AttributeError(name)
