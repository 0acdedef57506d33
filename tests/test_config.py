from __future__ import annotations

import pytest

from app.settings import ConfigError, Settings

STRONG = "k" * 40


def test_unset_configuration_is_the_embedded_default(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATABASE_URL", "REDIS_URL", "SMTP_HOST", "ENVIRONMENT"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.database_url.startswith("sqlite://")
    assert settings.redis_url is None
    assert settings.smtp_host is None


def test_production_refuses_the_default_secret() -> None:
    with pytest.raises(ConfigError) as refused:
        Settings(environment="production", database_url="postgres://db/portal", _env_file=None)  # type: ignore[call-arg]
    assert refused.value.key == "SECRET_KEY"


def test_production_refuses_sqlite() -> None:
    with pytest.raises(ConfigError) as refused:
        Settings(
            environment="production",
            secret_key=STRONG,
            database_url="sqlite://x.db",
            _env_file=None,  # type: ignore[call-arg]
        )
    assert refused.value.key == "DATABASE_URL"


def test_production_starts_with_real_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("SECRET_KEY", STRONG)
    monkeypatch.setenv("DATABASE_URL", "postgres://db/portal")
    monkeypatch.setenv("SMTP_HOST", "smtp.example")
    monkeypatch.setenv("ALLOWED_ORIGINS", '["https://app.example"]')
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.is_production
    assert settings.allowed_origins == ["https://app.example"]


def test_production_refuses_to_start_without_smtp() -> None:
    """Without SMTP mail is only logged and marked sent: links would never arrive."""
    with pytest.raises(ConfigError) as refused:
        Settings(
            environment="production",
            secret_key=STRONG,
            database_url="postgres://db/portal",
            _env_file=None,  # type: ignore[call-arg]
        )
    assert refused.value.key == "SMTP_HOST"
