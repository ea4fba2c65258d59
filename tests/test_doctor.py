"""`claude-max-tui doctor` and the probe behind it, on the real CLI, the fake one and broken ones."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from pathlib import Path

import pytest

from tests.mock_anthropic import MockAnthropic
from tests.real_cli import FAKE_API_KEY, FAKE_OAUTH_TOKEN, find_real_cli, require_real_cli
from tui_proxy.claude.probe import probe_cli, resolve_cli
from tui_proxy.commands import doctor

FAKE_CLI = Path(__file__).resolve().parent / "bin" / "claude"
# Looked up at import, before clean_env hides HOME (the install cache lives under it).
REAL_CLI = find_real_cli()


@pytest.fixture
def real_cli() -> str:
    return require_real_cli(REAL_CLI)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    """Only PATH and a fresh HOME: no real login, key or CLAUDE_* variable from the host leaks in."""
    path = os.environ.get("PATH", os.defpath)
    for name in list(os.environ):
        monkeypatch.delenv(name)
    monkeypatch.setenv("PATH", path)
    monkeypatch.setenv("HOME", str(tmp_path))


def run_doctor(capsys, *argv: str) -> tuple[int, str]:
    parser = argparse.ArgumentParser(prog="claude-max-tui")
    doctor.add_parser(parser.add_subparsers(dest="command"))
    exit_code = doctor.run(parser.parse_args(["doctor", *argv]))
    return exit_code, capsys.readouterr().out


def executable(tmp_path: Path, name: str, script: str) -> str:
    path = tmp_path / name
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(0o755)
    return str(path)


# -- CLI missing ----------------------------------------------------------------


def test_missing_cli_path(capsys, tmp_path):
    exit_code, out = run_doctor(capsys, "--claude", str(tmp_path / "nowhere" / "claude"))
    assert exit_code == 1
    assert "not found" in out
    assert "npm install -g @anthropic-ai/claude-code" in out and "--claude PATH" in out


def test_missing_cli_on_path(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory
    exit_code, out = run_doctor(capsys, "--json")
    status = json.loads(out)
    assert exit_code == 1
    assert (status["found"], status["path"], status["requested"], status["usable"]) == (False, None, "claude", False)
    assert "not on PATH" in status["error"]


def test_cli_from_environment_variable(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("CLAUDE_MAX_TUI_CLAUDE", str(tmp_path / "configured-claude"))
    _, out = run_doctor(capsys, "--json")
    assert json.loads(out)["requested"] == str(tmp_path / "configured-claude")


# -- not logged in ------------------------------------------------------------------


def test_real_cli_without_credentials_is_not_logged_in(capsys, real_cli):
    exit_code, out = run_doctor(capsys, "--claude", real_cli)
    assert exit_code == 1
    assert real_cli in out and "2.1." in out
    assert "logged in" in out and "not logged in" in out
    assert "/login" in out and "claude setup-token" in out and "CLAUDE_CODE_OAUTH_TOKEN" in out


def test_fake_cli_not_logged_in(capsys, monkeypatch):
    if not FAKE_CLI.exists():
        pytest.skip("the fake CLI tests/bin/claude is not there yet")
    monkeypatch.setenv("FAKE_CLAUDE_LOGGED_IN", "0")
    exit_code, out = run_doctor(capsys, "--claude", str(FAKE_CLI), "--json")
    status = json.loads(out)
    assert exit_code == 1
    assert (status["found"], status["logged_in"], status["auth_method"]) == (True, False, "none")
    assert "/login" in status["hint"]


# -- logged in ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variable", "value", "auth_method", "shown"),
    [
        ("ANTHROPIC_API_KEY", FAKE_API_KEY, "api_key", "Anthropic API key"),
        ("CLAUDE_CODE_OAUTH_TOKEN", FAKE_OAUTH_TOKEN, "oauth_token", "Claude subscription"),
    ],
)
def test_real_cli_logged_in_offline(capsys, monkeypatch, real_cli, variable, value, auth_method, shown):
    async def probe_with_mock() -> tuple[int, str, list]:
        async with MockAnthropic() as mock:
            monkeypatch.setenv("ANTHROPIC_BASE_URL", mock.base_url)
            monkeypatch.setenv(variable, value)
            exit_code, out = await asyncio.to_thread(run_doctor, capsys, "--claude", real_cli)
            return exit_code, out, mock.requests

    exit_code, out, requests = asyncio.run(probe_with_mock())
    assert exit_code == 0, out
    assert f"yes, {shown}" in out and "OK:" in out
    assert requests == []  # `auth status` trusts the variable; it never calls the API
    status = asyncio.run(probe_cli(real_cli, env={"PATH": os.environ["PATH"], "HOME": os.environ["HOME"], variable: value}))
    assert (status.logged_in, status.auth_method, status.usable) == (True, auth_method, True)
    assert status.version is not None and status.version[0].isdigit()


def test_api_key_login_warns_about_billing(capsys, monkeypatch, real_cli):
    monkeypatch.setenv("ANTHROPIC_API_KEY", FAKE_API_KEY)
    _, out = run_doctor(capsys, "--claude", real_cli)
    assert "Note: ANTHROPIC_API_KEY is set" in out


def test_fake_cli_logged_in(capsys):
    if not FAKE_CLI.exists():
        pytest.skip("the fake CLI tests/bin/claude is not there yet")
    exit_code, out = run_doctor(capsys, "--claude", str(FAKE_CLI))
    assert exit_code == 0, out
    assert "yes, " in out


# -- broken CLIs and resolution (probe) ---------------------------------------------------


def test_resolve_cli(tmp_path, monkeypatch):
    cli = executable(tmp_path, "claude", "exit 0\n")
    monkeypatch.setenv("PATH", str(tmp_path))
    assert resolve_cli("claude") == cli
    assert resolve_cli(cli) == cli
    assert resolve_cli("") is None
    (tmp_path / "not-executable").write_text("")
    assert resolve_cli(str(tmp_path / "not-executable")) is None
    monkeypatch.chdir(tmp_path)
    assert resolve_cli("./claude") == cli  # relative paths become absolute


def test_cli_that_hangs_is_killed_at_the_timeout(tmp_path):
    marker = tmp_path / "still-running"
    cli = executable(tmp_path, "claude", f"sleep 2 && touch {marker}\n")
    started = time.monotonic()
    status = asyncio.run(probe_cli(cli, env={"PATH": os.environ["PATH"]}, timeout=0.3))
    assert time.monotonic() - started < 3
    assert (status.found, status.logged_in, status.usable) == (True, None, False)
    assert "did not answer within 0.3 s" in status.error
    time.sleep(2.5)
    assert not marker.exists()  # the child (sleep) was killed with the process group


def test_cli_without_version_or_auth_status(tmp_path):
    no_version = executable(tmp_path, "no-version", "echo 'usage: something else' >&2; exit 2\n")
    status = asyncio.run(probe_cli(no_version, env={"PATH": os.environ["PATH"]}))
    assert status.version is None and "printed no version (exit 2): usage: something else" in status.error

    old = executable(tmp_path, "old-claude", 'if [ "$1" = --version ]; then echo "1.0.0 (Claude Code)"; else echo "error: unknown command auth" >&2; exit 1; fi\n')
    status = asyncio.run(probe_cli(old, env={"PATH": os.environ["PATH"]}))
    assert (status.version, status.logged_in) == ("1.0.0", None)
    assert "gave no login state" in status.error and "Update the CLI" in status.hint
