"""``symbi run AGENT --input TEXT``: output on stdout, exit 0 / 1 / 2 / 3."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from symbiont.cli.main import app

SHOUT = "import os, sys; print(sys.stdin.read().upper(), os.environ['SYMBI_RUN_ID'][:7])"
BROKEN = "import sys; sys.stderr.write('disk gone\\nfor good\\n'); sys.exit(3)"


@pytest.fixture
def runner() -> CliRunner:
    """A Typer runner that keeps stdout and stderr apart."""
    return CliRunner()


@pytest.fixture
def agents_dir(tmp_path: Path) -> Path:
    """A folder with one ``.symbi`` file defining two command agents."""
    folder = tmp_path / "agents"
    folder.mkdir()
    (tmp_path / "shout.py").write_text(SHOUT, encoding="utf-8")
    (tmp_path / "broken.py").write_text(BROKEN, encoding="utf-8")
    text = (
        f'agent shout {{ command: "{sys.executable} {tmp_path}/shout.py" }}\n'
        f'agent broken {{ command: "{sys.executable} {tmp_path}/broken.py" }}\n'
    )
    (folder / "tools.symbi").write_text(text, encoding="utf-8")
    return folder


def test_runs_the_agent_and_prints_its_output(runner: CliRunner, agents_dir: Path) -> None:
    """The agent's output goes to stdout; the run id is ``manual-<uuid>``; exit 0."""
    result = runner.invoke(
        app, ["run", "shout", "--input", "hello", "--agents-dir", str(agents_dir)]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == "HELLO manual-\n"
    assert result.stderr == ""


def test_file_option_loads_the_given_files(runner: CliRunner, agents_dir: Path) -> None:
    """``--file`` loads the named files instead of the folder."""
    path = agents_dir / "tools.symbi"
    result = runner.invoke(
        app, ["run", "shout", "-i", "x", "--file", str(path), "--agents-dir", "/nope"]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("X ")


def test_unknown_agent_exits_3_listing_the_agents(runner: CliRunner, agents_dir: Path) -> None:
    """An unknown agent exits 3 and names the agents that exist."""
    result = runner.invoke(app, ["run", "nobody", "--agents-dir", str(agents_dir)])
    assert result.exit_code == 3
    assert result.stderr == "symbi run: no agent named 'nobody'; defined agents: broken, shout\n"


def test_failing_agent_exits_1_with_one_line(runner: CliRunner, agents_dir: Path) -> None:
    """A failing agent exits 1 with one readable line on stderr and no traceback."""
    result = runner.invoke(app, ["run", "broken", "--agents-dir", str(agents_dir)])
    assert result.exit_code == 1
    assert result.stderr == (
        "symbi run: agent 'broken' failed: command exited with code 3; "
        "stderr (last 2048 bytes): disk gone | for good\n"
    )
    assert result.stdout == ""


def test_missing_folder_is_a_usage_error(runner: CliRunner, tmp_path: Path) -> None:
    """A missing agents folder exits 2 and says how to point at one."""
    result = runner.invoke(app, ["run", "shout", "--agents-dir", str(tmp_path / "none")])
    assert result.exit_code == 2
    assert "pass --agents-dir DIR or --file FILE" in result.stderr


def test_invalid_file_is_a_usage_error(runner: CliRunner, tmp_path: Path) -> None:
    """A file that does not parse exits 2 with its file:line:col error."""
    bad = tmp_path / "bad.symbi"
    bad.write_text('agent a { comand: "true" }\n', encoding="utf-8")
    result = runner.invoke(app, ["run", "a", "--file", str(bad)])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"symbi run: {bad}:1:")


def test_duplicate_agent_names_are_refused(runner: CliRunner, agents_dir: Path) -> None:
    """The same agent name in two files exits 2 and names both places."""
    (agents_dir / "again.symbi").write_text('agent shout { command: "true" }\n', encoding="utf-8")
    result = runner.invoke(app, ["run", "shout", "--agents-dir", str(agents_dir)])
    assert result.exit_code == 2
    assert "agent 'shout' is already defined at" in result.stderr
