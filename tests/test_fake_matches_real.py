"""The project's fake CLI (tests/bin/claude) held to the REAL one, so the fake cannot drift.

Every case of tests/real_cli.py runs live through both: the real pinned binary against the
mock Anthropic API, and the fake with the matching scenario, both with the same argv
(`real_cli.cli_argv`, the proxy's command line), the same from-scratch environment
(`real_cli.cli_env`: HOME, API key or OAuth token, CLAUDE_CODE_MAX_RETRIES) and the same
stdin. Compared: the exit code, and line by line the line types, their order, and the
fields the engine reads (tui_proxy/claude/lines.py: message ids and usage keys, block and
delta types, stop reasons, the `error` / `api_error` / `api_error_status` /
`api_error_type` of error lines, rate-limit status, reset, bucket and windows, api_retry fields, the result's
subtype, is_error, terminal_reason, usage keys...). Runs of identical delta lines count
once: how many deltas an answer has is the scenario's choice, not a contract.

`claude auth status` (the doctor's and the engine's probe) is compared the same way.

Without the real CLI the module skips locally and fails in CI (CI=true).
"""

from __future__ import annotations

import asyncio
import difflib
import json
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

from tests.real_cli import (
    CASES,
    FAKE_API_KEY,
    FAKE_OAUTH_TOKEN,
    Case,
    CliRun,
    _spawn,
    cli_argv,
    cli_env,
    find_real_cli,
    require_real_cli,
    run_cases,
)

TESTS = Path(__file__).resolve().parent
FAKE_CLI = str(TESTS / "bin" / "claude")

#: Real-CLI case (tests/real_cli.py) -> (fake scenario, extra fake environment).
FAKE_SCENARIOS: dict[str, tuple[str, dict[str, str]]] = {
    "not_logged_in": ("echo", {"FAKE_CLAUDE_LOGGED_IN": "0"}),
    "text": ("text chunks=4", {}),
    "text_api_key": ("text chunks=4", {}),
    "thinking": ("thinking chunks=3", {}),
    "tool_use": ("tool_use_attempt", {}),
    "max_tokens": ("max_output_tokens", {}),
    "401": ("oauth_expired", {}),
    "401_api_key": ("invalid_api_key", {}),
    "403": ("forbidden", {}),
    "404_model": ("model_not_found", {}),
    "400_credit": ("billing", {}),
    "400_prompt_too_long": ("prompt_too_long", {}),
    "400_other": ("bad_request", {}),
    "429_api_key": ("rate_limit_api_key", {}),
    "429_subscription": ("rate_limit_subscription", {}),
    "429_subscription_api_key": ("rate_limit_api_key", {}),
    "rate_limit_warning": ("rate_limit_warning", {}),
    "quota_warning": ("quota_warning", {}),
    "extra_usage": ("extra_usage", {}),
    "400_extra_usage": ('bad_request msg="Third-party apps now draw from your extra usage, not your plan limits. Add more at claude.ai/settings/usage and keep going."', {}),
    "429_recovers": ("retry_recovers retries=2 status=429", {}),
    "529_retries": ("retry_recovers retries=2 status=529", {}),
    "500": ("server_error", {}),
    "529": ("overloaded", {}),
    "529_recovers": ("529_recovers", {}),
    "midstream_error": ("midstream_error", {}),
    "midstream_error_fallback_fails": ("midstream_error times=2", {}),
    "drop": ("drop", {}),
    "drop_no_retry": ("drop", {}),
    "stall": ("stall", {}),
    "big_delta": ("bigline", {}),
    "unicode": ("unicode", {}),
}
#: Cases where the fake answers the mock's own texts: the final text must be the same too.
SAME_TEXT = ("midstream_error", "midstream_error_fallback_fails", "drop", "drop_no_retry", "529_recovers")


# -- what the engine reads of a line -------------------------------------------------


def engine_view(line: dict[str, Any]) -> dict[str, Any]:
    """The parts of one stdout line that tui_proxy/claude/lines.py and outcome.py use."""
    kind = line.get("type")
    view: dict[str, Any] = {"type": kind, "sub_agent": line.get("parent_tool_use_id") is not None}
    if kind == "system":
        subtype = view["subtype"] = line.get("subtype")
        if subtype == "init":
            view.update(
                model=line.get("model"),
                version=line.get("claude_code_version"),
                tools=line.get("tools"),
                apiKeySource=line.get("apiKeySource"),
                session_id=isinstance(line.get("session_id"), str),
            )
        elif subtype == "status":
            view["status"] = line.get("status")
        elif subtype == "api_retry":
            view.update({key: line.get(key) for key in ("attempt", "max_retries", "error_status", "error")})
    elif kind == "stream_event":
        event = line["event"]
        view.update(event=event.get("type"), index=event.get("index"), abandoned="abandoned_blocks" in line)
        if "content_block" in event:
            block = event["content_block"]
            view.update(block=block.get("type"), tool_id="id" in block, tool_name="name" in block)
        if "delta" in event:
            view.update(delta=event["delta"].get("type"), stop_reason=event["delta"].get("stop_reason"))
        if event.get("type") == "message_start":
            view.update(message_id=isinstance(event["message"].get("id"), str), usage=sorted(event["message"].get("usage") or {}))
        if "usage" in event:
            view["usage"] = sorted(event["usage"])
    elif kind == "assistant":
        message = line["message"]
        view.update(
            blocks=[block.get("type") for block in message.get("content") or []],
            message_id=isinstance(message.get("id"), str),
            synthetic=message.get("model") == "<synthetic>",
            stop_reason=message.get("stop_reason"),
            **{key: line.get(key) for key in ("error", "api_error", "api_error_status", "api_error_type", "is_api_error_message")},
        )
    elif kind == "user":
        content = line["message"]["content"]
        blocks = content if isinstance(content, list) else []
        view.update(blocks=[b.get("type") for b in blocks], tool_error=[b.get("is_error") for b in blocks if b.get("type") == "tool_result"])
    elif kind == "rate_limit_event":
        info = line.get("rate_limit_info") or {}
        view.update(
            status=info.get("status"),
            rateLimitType=info.get("rateLimitType"),
            resetsAt=isinstance(info.get("resetsAt"), (int, float)),
            overageStatus=info.get("overageStatus"),
            isUsingOverage=info.get("isUsingOverage"),
            surpassedThreshold=info.get("surpassedThreshold"),
            # quota/windows.py reads every window's figures.
            windows={name: sorted(window) for name, window in (info.get("unifiedWindows") or {}).items()},
        )
    elif kind == "result":
        text = line.get("result")
        view.update(
            {key: line.get(key) for key in ("subtype", "is_error", "stop_reason", "terminal_reason", "api_error_status", "api_error_type", "api_error", "num_turns", "errors")},
            result=isinstance(text, str),
            too_long="too long" in (text or "").lower(),  # outcome.py looks for it on invalid_request
            usage=sorted(line.get("usage") or {}),
            cost=isinstance(line.get("total_cost_usd"), (int, float)),
            model_usage=bool(line.get("modelUsage")),
        )
    return view


def engine_views(run: CliRun) -> list[str]:
    views: list[str] = []
    for line in run.events:
        text = json.dumps(engine_view(line), sort_keys=True)
        if views and text == views[-1] and '"content_block_delta"' in text:
            continue  # a run of the same delta: the count is the scenario's business
        views.append(text)
    return views


# -- running both --------------------------------------------------------------------


async def _run_fake(case: Case) -> CliRun:
    scenario, extra = FAKE_SCENARIOS[case.name]
    with tempfile.TemporaryDirectory(prefix=f"fake-cli-{case.name}-") as scratch:
        root = Path(scratch)
        home, tmp, cwd = root / "home", root / "tmp", root / "cwd"
        for directory in (home, tmp, cwd):
            directory.mkdir()
        system_prompt_file = root / "system-prompt.txt"
        system_prompt_file.write_text("fake system prompt")
        env = cli_env(home, tmp, case.auth, "http://127.0.0.1:9" if case.use_mock else None, case.max_retries)
        env.update(extra, FAKE_CLAUDE_SCENARIO=scenario)
        return await _spawn(case, cli_argv(FAKE_CLI, system_prompt_file), env, cwd, [])


async def _run_fakes() -> dict[str, CliRun]:
    runs = await asyncio.gather(*(_run_fake(case) for case in CASES))
    return {run.case.name: run for run in runs}


@pytest.fixture(scope="module")
def real_cli() -> str:
    return require_real_cli(find_real_cli())


@pytest.fixture(scope="module")
def both(real_cli: str) -> dict[str, tuple[CliRun, CliRun]]:
    started = time.monotonic()
    real = asyncio.run(run_cases(real_cli, CASES))
    fake = asyncio.run(_run_fakes())
    print(f"\nfake vs real: {len(CASES)} cases in {time.monotonic() - started:.1f} s")
    return {name: (real[name], fake[name]) for name in real}


def test_every_real_case_has_a_fake_scenario() -> None:
    assert sorted(FAKE_SCENARIOS) == sorted(case.name for case in CASES)


@pytest.mark.parametrize("name", [case.name for case in CASES])
def test_fake_prints_what_the_real_cli_prints(both: dict[str, tuple[CliRun, CliRun]], name: str) -> None:
    real, fake = both[name]
    assert not real.timed_out and not fake.timed_out, (real.duration, fake.duration)
    assert fake.exit_code == real.exit_code, f"exit: real {real.exit_code}, fake {fake.exit_code}; fake stderr: {fake.stderr[-500:]}"
    theirs, ours = engine_views(real), engine_views(fake)
    diff = "\n".join(difflib.unified_diff(theirs, ours, "real", f"fake ({FAKE_SCENARIOS[name][0]})", lineterm="", n=1))
    assert ours == theirs, f"the fake drifted from the real CLI in {name}:\n{diff}"
    if name in SAME_TEXT:
        assert (fake.result or {}).get("result", "").split(" If it persists")[0] == (real.result or {}).get("result", "").split(" If it persists")[0]


# -- auth status ---------------------------------------------------------------------


AUTH_ENVS = {
    "none": {},
    "oauth_token": {"CLAUDE_CODE_OAUTH_TOKEN": FAKE_OAUTH_TOKEN},
    "api_key": {"ANTHROPIC_API_KEY": FAKE_API_KEY},
    "both": {"ANTHROPIC_API_KEY": FAKE_API_KEY, "CLAUDE_CODE_OAUTH_TOKEN": FAKE_OAUTH_TOKEN},
    "quiet": {"CLAUDE_CODE_OAUTH_TOKEN": FAKE_OAUTH_TOKEN, "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1"},
}


def _auth_status(cli: str, home: Path, extra: dict[str, str]) -> tuple[int, dict[str, Any]]:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), **extra}
    if cli == FAKE_CLI and not extra.get("ANTHROPIC_API_KEY") and not extra.get("CLAUDE_CODE_OAUTH_TOKEN"):
        env["FAKE_CLAUDE_LOGGED_IN"] = "0"  # the fake's default is a claude.ai login
    completed = subprocess.run([cli, "auth", "status"], env=env, cwd=home, capture_output=True, stdin=subprocess.DEVNULL, timeout=60)
    return completed.returncode, json.loads(completed.stdout)


@pytest.mark.parametrize("auth", list(AUTH_ENVS))
def test_auth_status_like_the_real_one(real_cli: str, tmp_path: Path, auth: str) -> None:
    real_code, real = _auth_status(real_cli, tmp_path, AUTH_ENVS[auth])
    fake_code, fake = _auth_status(FAKE_CLI, tmp_path, AUTH_ENVS[auth])
    assert fake_code == real_code
    assert list(fake) == list(real)  # same fields, same order
    assert fake == real
