"""The service files in contrib/ (README, "Running as a service") are valid and say what the
README promises: `--headless`, restart on failure, logs, a PATH that finds `claude`, the
optional login token, and never ANTHROPIC_API_KEY."""

from __future__ import annotations

import os
import plistlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
UNIT = ROOT / "contrib" / "systemd" / "claude-max-tui.service"
PLIST = ROOT / "contrib" / "launchd" / "com.claude-max-tui.plist"

#: The keys this unit may use, per section, from systemd.unit(5), systemd.service(5) and
#: systemd.exec(5) (a typo such as `RestartSecs=` is only a warning to systemd: here it fails).
KNOWN_KEYS = {
    "Unit": {"Description", "Documentation", "After", "Wants", "Requires", "Before"},
    "Service": {
        "Type", "ExecStart", "Environment", "EnvironmentFile", "UnsetEnvironment", "PassEnvironment",
        "Restart", "RestartSec", "TimeoutStopSec", "StandardOutput", "StandardError", "SyslogIdentifier",
        "WorkingDirectory", "KillSignal", "NoNewPrivileges",
    },
    "Install": {"WantedBy"},
}
RESTART_VALUES = {"no", "on-success", "on-failure", "on-abnormal", "on-watchdog", "on-abort", "always"}
TYPES = {"simple", "exec", "forking", "oneshot", "dbus", "notify", "idle"}
OUTPUTS = {"inherit", "null", "tty", "journal", "kmsg", "journal+console", "kmsg+console"}


def parse_unit(text: str) -> dict[str, list[tuple[str, str]]]:
    """systemd's unit syntax, strictly: `[Section]` headers, `Key=value` lines, `#`/`;`
    comments, no line outside a section, no key systemd does not know for its section."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current: str | None = None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        assert not line.endswith("\\"), f"line {number}: keep each setting on one line"
        if line.startswith("["):
            assert line.endswith("]") and line[1:-1] in KNOWN_KEYS, f"line {number}: unknown section {line}"
            current = line[1:-1]
            assert current not in sections, f"line {number}: section [{current}] given twice"
            sections[current] = []
            continue
        assert current is not None, f"line {number}: a setting outside any section"
        key, sep, value = line.partition("=")
        key, value = key.strip(), value.strip()
        assert sep and key, f"line {number}: not Key=value: {raw!r}"
        assert key in KNOWN_KEYS[current], f"line {number}: {key}= is not a [{current}] setting used here"
        sections[current].append((key, value))
    return sections


def values(section: list[tuple[str, str]], key: str) -> list[str]:
    return [value for name, value in section if name == key]


def test_the_systemd_unit_parses_and_runs_headless_with_restart_and_logs():
    unit = parse_unit(UNIT.read_text(encoding="utf-8"))
    assert set(unit) == {"Unit", "Service", "Install"}
    service = unit["Service"]
    (exec_start,) = values(service, "ExecStart")
    program, *args = exec_start.split()
    assert program.endswith("/claude-max-tui") and program.startswith(("/", "%h/")) and args == ["--headless"]
    assert values(service, "Type") == ["exec"] and set(values(service, "Type")) <= TYPES
    assert values(service, "Restart") == ["on-failure"] and set(values(service, "Restart")) <= RESTART_VALUES
    assert float(values(service, "RestartSec")[0]) > 0
    # Shutdown is bounded at 10 s (README, Reliability): systemd must wait at least that long.
    assert float(values(service, "TimeoutStopSec")[0]) > 10
    assert values(service, "StandardOutput") == ["journal"] and values(service, "StandardError") == ["journal"]
    assert set(values(service, "StandardOutput") + values(service, "StandardError")) <= OUTPUTS
    assert values(unit["Install"], "WantedBy") == ["default.target"]  # a user unit: started with the user manager


def test_the_systemd_unit_gives_the_cli_its_environment_and_never_an_api_key():
    service = parse_unit(UNIT.read_text(encoding="utf-8"))["Service"]
    assignments = dict(value.split("=", 1) for value in values(service, "Environment"))
    path = assignments["PATH"].split(":")
    assert "%h/.local/bin" in path and "/usr/local/bin" in path and "/usr/bin" in path  # where `claude` is installed
    # The token file is optional ("-"): a user logged in with `claude` needs none.
    assert values(service, "EnvironmentFile") == ["-%h/.config/claude-max-tui/env"]
    assert "ANTHROPIC_API_KEY" not in assignments
    assert "ANTHROPIC_API_KEY" in " ".join(values(service, "UnsetEnvironment")).split()


def test_the_strict_parser_rejects_what_systemd_would_only_warn_about():
    good = UNIT.read_text(encoding="utf-8")
    for bad in (good.replace("RestartSec=", "RestartSecs="), good.replace("[Install]", "[Installs]"), "ExecStart=/bin/true\n"):
        with pytest.raises(AssertionError):
            parse_unit(bad)


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed (the parser tests above still run)")
def test_systemd_analyze_verifies_the_unit(tmp_path):
    # %h is the user's home: give it one where the README's symlink exists.
    home, runtime = tmp_path / "home", tmp_path / "run"
    (home / ".local" / "bin").mkdir(parents=True)
    runtime.mkdir(mode=0o700)
    (home / ".local" / "bin" / "claude-max-tui").symlink_to(Path(sys.executable).parent / "claude-max-tui")
    env = {**os.environ, "HOME": str(home), "XDG_RUNTIME_DIR": str(runtime), "SYSTEMD_LOG_LEVEL": "notice"}
    result = subprocess.run(
        ["systemd-analyze", "--user", "verify", str(UNIT)], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    # Unknown keys and bad values are warnings with exit 0: any output is a failure.
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_the_launchd_plist_runs_headless_keeps_alive_and_logs():
    with PLIST.open("rb") as f:
        plist = plistlib.load(f)  # what `plutil -lint` checks: well-formed XML of plist types
    assert plist["Label"] == "com.claude-max-tui" and PLIST.stem == plist["Label"]
    program, *args = plist["ProgramArguments"]
    assert program.endswith("/claude-max-tui") and program.startswith("/") and args == ["--headless"]
    assert plist["RunAtLoad"] is True
    assert plist["KeepAlive"] == {"SuccessfulExit": False}  # restart on failure, not after a clean stop
    assert plist["ExitTimeOut"] > 10  # launchd waits out the proxy's bounded shutdown
    for key in ("StandardOutPath", "StandardErrorPath"):
        assert plist[key].startswith("/Users/YOU/Library/Logs/claude-max-tui")
    env = plist["EnvironmentVariables"]
    assert "/Users/YOU/.local/bin" in env["PATH"].split(":") and "/opt/homebrew/bin" in env["PATH"].split(":")
    assert not [key for key in env if key.startswith("ANTHROPIC_")]


def test_the_readme_shows_the_unit_as_it_is():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("```ini\n", 1)[1].split("```", 1)[0]
    unit_lines = {line.strip() for line in UNIT.read_text(encoding="utf-8").splitlines()}
    shown = [line.strip() for line in block.splitlines() if line.strip()]
    assert len(shown) > 10 and [line for line in shown if line not in unit_lines] == []


def test_the_plist_has_one_home_placeholder_that_the_readme_command_fills_in():
    text = PLIST.read_text(encoding="utf-8")
    filled = plistlib.loads(text.replace("/Users/YOU", "/Users/alice").encode())
    assert "YOU" not in repr(filled) and filled["ProgramArguments"][0] == "/Users/alice/.local/bin/claude-max-tui"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert 'sed "s|/Users/YOU|$HOME|g" contrib/launchd/com.claude-max-tui.plist' in readme
    assert "contrib/systemd/claude-max-tui.service" in readme
