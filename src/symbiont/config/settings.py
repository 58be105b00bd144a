"""The settings tree: ``symbi.toml`` sections, ``SYMBI_*`` variables and flags, in that order.

Precedence: command-line flag > environment > file > default. An unknown key or a bad value
stops start-up with the file (or variable), the key and the reason.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticError

from symbiont.core.errors import ConfigError

_STRICT = ConfigDict(extra="forbid", frozen=True)


class DeliveryConfig(BaseModel):
    """``[scheduler.delivery]``: channel settings (values may be ``${ENV}`` templates)."""

    model_config = _STRICT
    webhook_timeout_seconds: float = Field(30, gt=0)
    webhook_retry_attempts: int = Field(3, ge=0, le=20)
    slack_api_token: str | None = None
    slack_default_channel: str | None = None
    smtp_host: str | None = None
    smtp_port: int = Field(587, gt=0, lt=65536)
    smtp_username: str | None = None
    smtp_password: str | None = None
    email_from: str | None = None
    # beyond the spec: see docs/delivery.md
    retry_backoff_seconds: float = Field(1.0, gt=0, le=600)
    retry_max_backoff_seconds: float = Field(30.0, gt=0, le=3600)
    webhook_allowed_hosts: tuple[str, ...] = ()
    webhook_auth_header: str | None = None
    """Default ``Authorization`` of webhooks that set none (``SYMBI_WEBHOOK_AUTH_HEADER``)."""
    slack_webhook_url: str | None = None
    slack_api_url: str = "https://slack.com/api"
    smtp_tls: Literal["starttls", "tls", "none"] | None = None
    """``None``: implicit TLS on port 465, STARTTLS on any other port."""
    smtp_ca_file: str | None = None
    smtp_timeout_seconds: float = Field(30, gt=0)
    log_max_bytes: int = Field(10 * 1024 * 1024, ge=0)
    """Rotate a job's log file past this size; 0 never rotates."""
    log_backups: int = Field(5, ge=0, le=1000)
    public_url: str | None = None
    """The dashboard's public address; messages link to ``{public_url}/runs/{run_id}``."""
    custom_channels: dict[str, str] = Field(default_factory=dict)
    """``custom:NAME`` channels given as ``NAME = "pkg.module:Class"``."""


class SchedulerConfig(BaseModel):
    """``[scheduler]``: the spec's keys, both editions."""

    model_config = _STRICT
    tick_interval_seconds: float = Field(1.0, gt=0, le=60)
    max_jitter_seconds: float = Field(0, ge=0, le=3600)
    max_concurrent_jobs: int = Field(100, ge=1, le=100_000)
    max_concurrent_cron_jobs: int | None = Field(None, ge=1, le=100_000)
    """The older edition's name for ``max_concurrent_jobs`` (wins when both are set)."""
    enable_metrics: bool = True
    default_max_retries: int = Field(3, ge=0)
    shutdown_timeout_seconds: float = Field(60, ge=0)
    kill_grace_seconds: float = Field(5, ge=0, le=600)
    """Between SIGTERM and SIGKILL when a command agent is stopped (beyond the spec)."""
    job_store_path: str | None = None
    """The older edition's SQLite path; ``[store] path`` is the same setting."""
    enable_missed_run_catchup: bool = True
    lease_seconds: float = Field(30, ge=1)
    fire_ahead_seconds: float = Field(2, ge=0, le=60)
    """How long before a burst's instant it is claimed; 0 turns claiming ahead off."""
    fire_ahead_min_runs: int = Field(100, ge=1)
    """The fewest occurrences due at one instant that are claimed ahead (a burst)."""
    approval_timeout_seconds: float = Field(3600, gt=0)
    node_id: str | None = None
    delivery: DeliveryConfig = DeliveryConfig()


class StoreConfig(BaseModel):
    """``[store]``: where jobs and runs live."""

    model_config = _STRICT
    path: str | None = None
    url: str | None = None
    history_max_age_days: float | None = Field(None, gt=0)
    history_max_per_job: int | None = Field(None, ge=1)
    busy_timeout_seconds: float = Field(10, gt=0, le=3600)
    """SQLite: how long a write waits for another process's lock before it fails."""


class ApiConfig(BaseModel):
    """``[api]``: the HTTP API and dashboard."""

    model_config = _STRICT
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, lt=65536)
    key: str | None = None
    """The API key (``SYMBI_API_KEY``); its actor name is ``default``."""
    max_body_bytes: int = Field(1024 * 1024, ge=1024)
    """Request bodies larger than this are refused (413)."""
    keys: dict[str, str] = Field(default_factory=dict)
    """More keys by actor name (``alice = "${ALICE_KEY}"``): the name is who approves."""

    def named_keys(self) -> dict[str, str]:
        """Every key by its actor name."""
        keys = dict(self.keys)
        if self.key:
            keys.setdefault("default", self.key)
        return keys


class AgentPinConfig(BaseModel):
    """``[agentpin]``: identity verification defaults."""

    model_config = _STRICT
    required: bool = False
    domain: str | None = None
    keys_path: str | None = None
    """A discovery document, or a folder of ``<domain>.json`` documents, for offline use;
    unset: fetch each domain's document over HTTPS."""
    discovery_url: str = Field(
        "https://{domain}/.well-known/agent-identity.json", pattern=r"^https?://"
    )
    """Where the discovery document is fetched; ``{domain}`` is replaced by the domain."""
    discovery_ttl_seconds: float = Field(300, gt=0)
    """How long a fetched discovery document is used before it is fetched again."""
    clock_skew_seconds: float = Field(60, ge=0, le=3600)
    """How far the issuer's clock may disagree with ours (``exp``, ``nbf``, ``iat``)."""
    audience: str | None = None
    """When set, credentials must name it in ``aud``; when unset, ones with an ``aud`` fail."""


class LoggingConfig(BaseModel):
    """``[logging]``: the daemon's structured log."""

    model_config = _STRICT
    level: str = "info"
    dir: str | None = None


class Settings(BaseModel):
    """The whole configuration of a daemon or CLI."""

    model_config = _STRICT
    scheduler: SchedulerConfig = SchedulerConfig()
    store: StoreConfig = StoreConfig()
    api: ApiConfig = ApiConfig()
    agentpin: AgentPinConfig = AgentPinConfig()
    logging: LoggingConfig = LoggingConfig()
    agents_dir: str = "agents"
    environment: str | None = None

    @property
    def max_concurrent(self) -> int:
        """The global run limit, whichever edition's key set it."""
        return self.scheduler.max_concurrent_cron_jobs or self.scheduler.max_concurrent_jobs

    def sqlite_path(self, environ: Mapping[str, str]) -> Path:
        """The SQLite file: ``[store] path``, ``job_store_path``, or the XDG default."""
        chosen = self.store.path or self.scheduler.job_store_path
        if chosen:
            return Path(chosen).expanduser()
        data = environ.get("XDG_DATA_HOME") or str(Path(environ.get("HOME", "~")) / ".local/share")
        return Path(data).expanduser() / "symbi" / "symbi.db"


# environment variable -> dotted key; the spec's names and DESIGN §8's
ENV_KEYS: dict[str, str] = {
    "SYMBI_SCHEDULER_MAX_JITTER": "scheduler.max_jitter_seconds",
    "SYMBI_SCHEDULER_MAX_CONCURRENT": "scheduler.max_concurrent_jobs",
    "SYMBI_SLACK_TOKEN": "scheduler.delivery.slack_api_token",
    "SYMBI_WEBHOOK_AUTH_HEADER": "scheduler.delivery.webhook_auth_header",
    "SYMBI_AGENTPIN_REQUIRED": "agentpin.required",
    "SYMBI_AGENTPIN_DOMAIN": "agentpin.domain",
    "SYMBI_DB": "store.path",
    "SYMBI_STORE_URL": "store.url",
    "SYMBI_AGENTS_DIR": "agents_dir",
    "SYMBI_LOG_DIR": "logging.dir",
    "SYMBI_ENV": "environment",
    "SYMBI_API_KEY": "api.key",
    "SYMBI_HOST": "api.host",
    "SYMBI_PORT": "api.port",
}


def load_settings(
    config_file: Path | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Build the settings from a TOML file, the environment and flag *overrides*.

    Args:
        config_file: ``--config``; else ``SYMBI_CONFIG``; else ``./symbi.toml`` if present.
        environ: the environment (defaults to ``os.environ``).
        overrides: dotted keys from command-line flags; None values are ignored.
    """
    env = dict(os.environ if environ is None else environ)
    path = config_file or (Path(env["SYMBI_CONFIG"]) if env.get("SYMBI_CONFIG") else None)
    if path is None and Path("symbi.toml").is_file():
        path = Path("symbi.toml")
    data: dict[str, Any] = _read_toml(path) if path is not None else {}
    source = str(path) if path is not None else "defaults"
    for name, key in ENV_KEYS.items():
        if env.get(name):
            source = f"{source} + environment"
            _set(data, key, env[name], source)
    for key, value in (overrides or {}).items():
        if value is not None:
            _set(data, key, value, f"{source} + flags")
    try:
        return Settings.model_validate(data)
    except PydanticError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"])
        raise ConfigError(source, key, _reason(first)) from None


def _reason(error: Mapping[str, Any]) -> str:
    if error["type"] == "extra_forbidden":
        return "unknown key"
    return f"{error['msg']} (got {error.get('input')!r})"


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(str(path), "-", "file not found") from None
    except OSError as exc:
        raise ConfigError(str(path), "-", f"cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        problem = f"not valid UTF-8 (bad byte at offset {exc.start})"
        raise ConfigError(str(path), "-", problem) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), "-", f"not valid TOML: {exc}") from None


def _set(data: dict[str, Any], dotted: str, value: Any, source: str) -> None:
    """Set *dotted* in *data*; a parent that the file made a value, not a table, is an error."""
    *parents, leaf = dotted.split(".")
    node = data
    for depth, part in enumerate(parents, 1):
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            key = ".".join(parents[:depth])
            raise ConfigError(source, key, f"expected a table, got {type(node).__name__}")
    node[leaf] = value
