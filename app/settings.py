"""Configuration from the environment; unset means the embedded default.

This module imports nothing of ours, so every layer may read it.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET = "dev-only-secret-change-me"  # noqa: S105 - the value production refuses


class ConfigError(Exception):
    """A setting that makes the service unsafe or unable to start; names the key."""

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(f"{key}: {reason}")
        self.key = key


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = "sqlite://data/portal.sqlite3"
    redis_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    public_base_url: str = Field(default="", description="Defaults to http://127.0.0.1:PORT")
    secret_key: str = DEFAULT_SECRET
    allowed_origins: list[str] = Field(default_factory=list)
    # Addresses of the reverse proxy whose X-Forwarded-For/-Proto headers are believed (uvicorn's
    # forwarded_allow_ips: comma-separated IPs or networks, "*" for any). Empty: no proxy is
    # trusted and the TCP peer is the client, so nobody picks the address the per-address
    # sign-in and recovery limits and the audit trail see.
    forwarded_allow_ips: str = ""

    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    smtp_from: str = "Client Portal <no-reply@localhost>"

    session_idle_minutes: int = Field(default=30, gt=0)
    session_absolute_hours: int = Field(default=12, gt=0)
    # An open WebSocket re-checks its session at least this often, in case an event was lost.
    ws_recheck_seconds: float = Field(default=30, gt=0)

    max_query_depth: int = Field(default=10, gt=0)
    max_aliases: int = Field(default=15, gt=0)
    max_tokens: int = Field(default=1000, gt=0)
    max_logo_bytes: int = Field(default=512 * 1024, gt=0)
    # A document staff share with a client (shareDocument), and how long its link works.
    max_document_bytes: int = Field(default=10 * 1024 * 1024, gt=0)
    document_link_seconds: int = Field(default=300, gt=0, le=3600)
    # Request limits checked before any work (app/limits.py, schema/text_rule.py).
    max_body_bytes: int = Field(default=1024 * 1024, gt=0)
    # A GET query string; well under what uvicorn itself refuses with a plain-text 400.
    max_query_string_bytes: int = Field(default=32 * 1024, gt=0)
    upload_margin_bytes: int = Field(default=64 * 1024, ge=0)
    max_text_chars: int = Field(default=20_000, gt=0)

    @model_validator(mode="after")
    def _derive_and_check(self) -> Settings:
        if not self.public_base_url:
            self.public_base_url = f"http://127.0.0.1:{self.port}"
        if self.environment == "production":
            self.check_production()
        return self

    def check_production(self) -> None:
        if self.secret_key == DEFAULT_SECRET or len(self.secret_key) < 32:
            raise ConfigError("SECRET_KEY", "set a random value of at least 32 characters")
        if self.database_url.startswith("sqlite"):
            raise ConfigError("DATABASE_URL", "production runs on PostgreSQL")
        if not self.smtp_host:
            # Without it mail would only be logged: invitation and reset links never arrive.
            raise ConfigError("SMTP_HOST", "production sends mail; set the SMTP server")

    @property
    def max_multipart_bytes(self) -> int:
        """An upload's whole body: the largest file allowed (a logo or a document) plus room
        for the operation and the map."""
        return max(self.max_logo_bytes, self.max_document_bytes) + self.upload_margin_bytes

    @property
    def is_production(self) -> bool:
        return self.environment == "production"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
