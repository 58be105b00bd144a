"""``symbi config show``: the effective configuration, secrets masked."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from symbiont.cli._output import fail
from symbiont.config import load_settings
from symbiont.core.errors import SymbiontError

app = typer.Typer(no_args_is_help=True, help="Inspect the configuration.")

_SECRET_WORDS = ("key", "token", "password", "secret")
MASK = "***"


def mask(value: Any, name: str = "") -> Any:
    """Mask values whose key names a secret, unless they are bare ``${VAR}`` templates."""
    if isinstance(value, dict):
        secret_map = any(word in name for word in _SECRET_WORDS)
        return {k: mask(v, k if not secret_map else "key") for k, v in value.items()}
    if isinstance(value, list):
        return [mask(v, name) for v in value]
    if isinstance(value, str) and any(word in name.lower() for word in _SECRET_WORDS):
        is_template = value.startswith("${") and value.endswith("}") and value.count("${") == 1
        return value if is_template else MASK
    return value


@app.command("show")
def show(
    config: Annotated[Path | None, typer.Option("--config", help="TOML file.")] = None,
) -> None:
    """Print the effective configuration (flags > SYMBI_* > file > defaults) as JSON."""
    try:
        settings = load_settings(config)
    except SymbiontError as exc:
        fail(exc)
    typer.echo(json.dumps(mask(settings.model_dump(mode="json")), indent=2, sort_keys=True))
