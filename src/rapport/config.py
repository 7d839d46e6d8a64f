"""Settings: the only reader of the environment."""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATA_DIR = Path("var")
MIN_SECRET_LENGTH = 32


class MissingSecretKeyError(RuntimeError):
    """Raised when production mode starts without RAPPORT_SECRET_KEY."""


class Settings(BaseSettings):
    """Every knob Rapport reads from `RAPPORT_*` environment variables."""

    model_config = SettingsConfigDict(env_prefix="RAPPORT_", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    data_dir: Path = DEFAULT_DATA_DIR
    database_url: str = ""
    secret_key: SecretStr | None = Field(
        default=None,
        description="Master secret; comma-separated for rotation (first signs, all verify).",
    )
    base_url: str = "http://127.0.0.1:8000"
    assets_dir: Path | None = None
    forwarded_allow_ips: str | None = Field(
        default=None,
        description="Addresses of trusted reverse proxies (comma-separated, or *) whose "
        "X-Forwarded-For names the client; unset, the direct peer is the client.",
    )
    run_worker: bool = True
    ingest_processes: int | None = Field(
        default=None,
        ge=0,
        le=32,
        description="Processes that parse and seal large ingestion batches beside the server, "
        "on CPUs of their own; unset: one per CPU beyond the first, at most 4; 0: none.",
    )
    body_buffer_mb: int = Field(
        default=64,
        ge=1,
        description="Megabytes of request bodies one server process holds at once (arriving "
        "or being handled); beyond it requests get 503 with Retry-After.",
    )
    bodies_per_address: int = Field(
        default=16,
        ge=1,
        description="Request bodies one client address may be sending at once (429 beyond).",
    )
    max_connections: int = Field(
        default=4096,
        ge=16,
        description="Connections and requests `rapport serve` handles at once (503 beyond).",
    )
    ingest_events_per_second: int = Field(
        default=5000,
        ge=0,
        description="Calls a second one source may send (secret keys: one allowance per "
        "workspace), bursts of five seconds' worth allowed; beyond it ingestion answers 429 and "
        "Segment's libraries retry. 0: no limit.",
    )
    worker_concurrency: int = 4
    database_ping_after_idle: float = Field(
        default=30.0,
        ge=0,
        description="PostgreSQL: seconds a pooled connection may sit idle before it is pinged "
        "on checkout (a closed one is always seen without a ping); 0 pings every reuse, for "
        "a database behind a virtual IP or a proxy that can fail over without closing links.",
    )
    redis_url: str | None = Field(
        default=None,
        description="Redis for realtime pushes between server processes (redis://host:6379/0); "
        "set it when several `rapport serve` processes share PostgreSQL; unset: in-process hub.",
    )
    log_level: str = "INFO"
    session_idle_minutes: int = 60
    session_absolute_hours: int = 12
    sign_in_max_failures_per_account: int = 5
    sign_in_max_failures_per_ip: int = 20
    sign_in_window_minutes: int = Field(
        default=15,
        ge=1,
        le=1440,
        description="Minutes over which failed sign-ins count (at most a day: failures are "
        "deleted after two).",
    )
    smtp_host: str | None = Field(
        default=None,
        description="SMTP server for outbound email (agent replies, invitations); unset: "
        "replies wait queued and invitations are passed on by hand.",
    )
    smtp_port: int = Field(default=587, ge=1, le=65535, description="SMTP server port.")
    smtp_username: str | None = Field(default=None, description="SMTP login, if it needs one.")
    smtp_password: SecretStr | None = Field(default=None, description="SMTP password.")
    smtp_starttls: bool = Field(
        default=True, description="Upgrade the SMTP connection with STARTTLS (verified)."
    )
    mail_from: str = Field(
        default="Rapport <rapport@localhost>",
        description="From address of every email Rapport sends; its domain names Message-IDs.",
    )
    twilio_api_url: str = Field(
        default="https://api.twilio.com",
        description="Twilio's REST API address (SMS replies go out through it).",
    )
    webhooks_allow_private: bool = Field(
        default=False,
        description="Let outbound webhooks reach loopback and private addresses, over plain "
        "HTTP too (tests, a receiver on the same network); off: public HTTPS only.",
    )
    assistant_allow_private_endpoints: bool = Field(
        default=False,
        description="Let workspaces point the assistant's generative mode at loopback and "
        "private addresses, over plain HTTP too (a model server such as Ollama on this host "
        "or network); off: public HTTPS endpoints only.",
    )
    imap_allow_private_hosts: bool = Field(
        default=False,
        description="Let workspaces poll IMAP mailboxes on loopback and private addresses (a "
        "mail server on this host or network); off: public addresses only.",
    )

    @model_validator(mode="after")
    def _defaults(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{self.data_dir / 'rapport.db'}"
        return self

    @property
    def preparation_processes(self) -> int:
        """Return how many ingestion preparation processes to run."""
        if self.ingest_processes is not None:
            return self.ingest_processes
        return max(0, min(4, (os.cpu_count() or 1) - 1))

    @property
    def is_sqlite(self) -> bool:
        """Tell whether the database is the embedded SQLite."""
        return self.database_url.startswith("sqlite")

    @property
    def secure_cookies(self) -> bool:
        """Tell whether cookies must carry Secure (anything but plain-http localhost)."""
        return self.base_url.startswith("https://")

    def secret_keys(self) -> list[bytes]:
        """Return the master key ring, newest first; dev and test keep one in data_dir."""
        if self.secret_key is not None and self.secret_key.get_secret_value().strip():
            raw = self.secret_key.get_secret_value()
            keys = [part.strip().encode() for part in raw.split(",") if part.strip()]
            if self.env == "production" and any(len(key) < MIN_SECRET_LENGTH for key in keys):
                raise MissingSecretKeyError(
                    f"Every RAPPORT_SECRET_KEY must be at least {MIN_SECRET_LENGTH} characters."
                )
            return keys
        if self.env == "production":
            raise MissingSecretKeyError(
                "RAPPORT_SECRET_KEY must be set in production (generate one with "
                "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`)."
            )
        return [self._local_secret_key()]

    def _local_secret_key(self) -> bytes:
        path = self.data_dir / "secret.key"
        if not path.exists():
            private_directory(path.parent)
            with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as key:
                key.write(secrets.token_urlsafe(48))
        return path.read_text().strip().encode()


def private_directory(path: Path) -> None:
    """Create `path` (and missing parents) readable by its owner only; leave an existing one."""
    if not path.exists():
        path.mkdir(parents=True, mode=0o700)
        # mkdir's mode passes through the umask; say it exactly.
        path.chmod(0o700)


@lru_cache
def get_settings() -> Settings:
    """Return the process-wide settings read from the environment."""
    return Settings()
