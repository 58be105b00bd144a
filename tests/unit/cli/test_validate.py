"""``symbi validate FILE...``: one line per file, exit 0 / 1 / 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from symbiont.cli.main import app

EXAMPLES = Path(__file__).parents[3] / "examples"
VALID = 'agent a { command: "true" }\nschedule { name: "s" agent: "a" cron: "0 0 * * *" }\n'


@pytest.fixture
def runner() -> CliRunner:
    """A Typer runner that keeps stdout and stderr apart."""
    return CliRunner()


def write(folder: Path, name: str, text: str) -> Path:
    """Write *text* to *folder*/*name* and return the path."""
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_valid_files(runner: CliRunner, tmp_path: Path) -> None:
    """Each valid file gets an ``ok`` line with its counts, and the exit code is 0."""
    one = write(tmp_path, "one.symbi", VALID)
    two = write(tmp_path, "two.symbi", "# empty\n")
    result = runner.invoke(app, ["validate", str(one), str(two)])
    assert result.exit_code == 0
    assert result.stdout == (
        f"ok  {one}  (1 agent, 1 schedule)\nok  {two}  (0 agents, 0 schedules)\n"
    )
    assert result.stderr == ""


def test_invalid_file(runner: CliRunner, tmp_path: Path) -> None:
    """An invalid file prints its located error on stderr and the exit code is 1."""
    good = write(tmp_path, "good.symbi", VALID)
    bad = write(tmp_path, "bad.symbi", 'schedule {\n  name: "s"\n  crn: "x"\n}\n')
    result = runner.invoke(app, ["validate", str(bad), str(good)])
    assert result.exit_code == 1
    assert result.stderr == f"{bad}:3:3: unknown key 'crn' in schedule (did you mean 'cron'?)\n"
    assert result.stdout == f"ok  {good}  (1 agent, 1 schedule)\n"


def test_warnings_go_to_stderr_and_keep_exit_zero(runner: CliRunner, tmp_path: Path) -> None:
    """Warnings are printed on stderr; the file still counts as valid."""
    text = 'schedule {\n  name: "s"\n  agent: "a"\n  cron: "0 0 * * *"\n  slack_channel: "#x"\n}\n'
    path = write(tmp_path, "warn.symbi", text)
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 0
    assert result.stderr == (
        f"{path}:5:3: warning: 'slack_channel' has no effect: 'slack' is not in 'delivery'\n"
    )
    assert result.stdout == f"ok  {path}  (0 agents, 1 schedule)\n"


def test_missing_file_is_a_usage_error(runner: CliRunner, tmp_path: Path) -> None:
    """A missing file is reported in one line, without a traceback, with exit code 2."""
    good = write(tmp_path, "good.symbi", VALID)
    missing = tmp_path / "missing.symbi"
    result = runner.invoke(app, ["validate", str(good), str(missing)])
    assert result.exit_code == 2
    assert result.stderr == f"symbi validate: no such file: {missing}\n"
    assert result.stdout == ""


def test_directory_is_a_usage_error(runner: CliRunner, tmp_path: Path) -> None:
    """A directory argument is a usage error that suggests a glob."""
    result = runner.invoke(app, ["validate", str(tmp_path)])
    assert result.exit_code == 2
    assert result.stderr == (
        f"symbi validate: {tmp_path} is a directory; name the files, e.g. {tmp_path}/*.symbi\n"
    )


def test_no_arguments_is_a_usage_error(runner: CliRunner) -> None:
    """Calling the command without files exits with code 2."""
    result = runner.invoke(app, ["validate"])
    assert result.exit_code == 2


def test_examples_validate(runner: CliRunner) -> None:
    """The shipped examples all validate."""
    paths = sorted(str(path) for path in EXAMPLES.glob("*.symbi"))
    result = runner.invoke(app, ["validate", *paths])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.count("ok  ") == len(paths)
    assert result.stderr == ""
