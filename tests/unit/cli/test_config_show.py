"""symbi config show: effective settings with precedence, secrets masked, bad keys refused."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from typer.testing import CliRunner

from symbiont.cli.main import app
from symbiont.config.build import scheduler_settings
from symbiont.config.settings import load_settings


def test_show_applies_precedence_and_masks_secrets(tmp_path: Path) -> None:
    """Environment beats the file; literal secrets are masked, templates shown."""
    config = tmp_path / "symbi.toml"
    config.write_text(
        "[scheduler]\nmax_jitter_seconds = 30\nmax_concurrent_jobs = 20\n"
        '[scheduler.delivery]\nsmtp_password = "hunter2"\nslack_api_token = "${SLACK_API_TOKEN}"\n'
        '[api]\nkey = "plain-key"\n'
    )
    result = CliRunner().invoke(
        app, ["config", "show", "--config", str(config)], env={"SYMBI_SCHEDULER_MAX_JITTER": "5"}
    )
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert shown["scheduler"]["max_jitter_seconds"] == 5
    assert shown["scheduler"]["max_concurrent_jobs"] == 20
    assert shown["scheduler"]["delivery"]["smtp_password"] == "***"
    assert shown["scheduler"]["delivery"]["slack_api_token"] == "${SLACK_API_TOKEN}"
    assert shown["api"]["key"] == "***"
    assert "hunter2" not in result.output


def test_unknown_key_stops_with_file_and_key(tmp_path: Path) -> None:
    """An unknown key names the file and the key, exit 2, one line."""
    config = tmp_path / "symbi.toml"
    config.write_text("[scheduler]\nmax_jiter_seconds = 30\n")
    result = CliRunner().invoke(app, ["config", "show", "--config", str(config)])
    assert result.exit_code == 2
    assert f"{config}" in result.output
    assert "scheduler.max_jiter_seconds: unknown key" in result.output


def test_fire_ahead_keys_reach_the_scheduler(tmp_path: Path) -> None:
    """[scheduler] fire_ahead_seconds / fire_ahead_min_runs set claiming ahead; 0 turns it off."""
    config = tmp_path / "symbi.toml"
    config.write_text("[scheduler]\nfire_ahead_seconds = 0\nfire_ahead_min_runs = 50\n")
    settings = scheduler_settings(load_settings(config, environ={}))
    assert (settings.fire_ahead, settings.fire_ahead_min) == (timedelta(0), 50)
    empty = tmp_path / "empty.toml"
    empty.write_text("")
    defaults = scheduler_settings(load_settings(empty, environ={}))
    assert (defaults.fire_ahead, defaults.fire_ahead_min) == (timedelta(seconds=2), 100)
