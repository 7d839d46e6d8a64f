"""Settings: production refuses to start without a secret; secrets never print."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from rapport.app import create_app
from rapport.config import MissingSecretKeyError, Settings


def _production(tmp_path: Path, secret_key: str | None) -> Settings:
    return Settings(env="production", data_dir=tmp_path, secret_key=secret_key)


def test_production_without_secret_key_refuses_key_ring(tmp_path: Path) -> None:
    with pytest.raises(MissingSecretKeyError):
        _production(tmp_path, None).secret_keys()


def test_production_with_blank_secret_key_refuses_key_ring(tmp_path: Path) -> None:
    with pytest.raises(MissingSecretKeyError):
        _production(tmp_path, "  ").secret_keys()


def test_create_app_refuses_production_without_secret_key(tmp_path: Path) -> None:
    with pytest.raises(MissingSecretKeyError):
        create_app(_production(tmp_path, None))


def test_production_never_writes_a_local_key(tmp_path: Path) -> None:
    with pytest.raises(MissingSecretKeyError):
        _production(tmp_path, None).secret_keys()
    assert not (tmp_path / "secret.key").exists()


def test_secret_key_is_secret_str_and_hidden_in_repr(tmp_path: Path) -> None:
    settings = _production(tmp_path, "super-secret-value-123" * 2)
    assert isinstance(settings.secret_key, SecretStr)
    assert "super-secret-value-123" not in repr(settings)
    assert "super-secret-value-123" not in str(settings.model_dump())


def test_comma_separated_secret_key_is_a_ring_newest_first(tmp_path: Path) -> None:
    new, old = "n" * 32, "o" * 40
    settings = _production(tmp_path, f"{new} , {old}")
    assert settings.secret_keys() == [new.encode(), old.encode()]


def test_production_refuses_a_short_secret_key(tmp_path: Path) -> None:
    with pytest.raises(MissingSecretKeyError, match="at least 32 characters"):
        _production(tmp_path, "n" * 32 + ",short").secret_keys()


def test_development_keeps_a_private_local_key(tmp_path: Path) -> None:
    settings = Settings(env="development", data_dir=tmp_path)
    first = settings.secret_keys()
    assert settings.secret_keys() == first
    assert (tmp_path / "secret.key").stat().st_mode & 0o777 == 0o600


def test_default_database_is_sqlite_in_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path / 'rapport.db'}"


def test_the_sign_in_window_is_at_most_a_day(tmp_path: Path) -> None:
    # Failed sign-ins are deleted after two days: a longer window would count fewer.
    assert Settings(data_dir=tmp_path, sign_in_window_minutes=1440).sign_in_window_minutes == 1440
    with pytest.raises(ValidationError, match="sign_in_window_minutes"):
        Settings(data_dir=tmp_path, sign_in_window_minutes=1441)
