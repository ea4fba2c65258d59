"""Conversations through the proxy with the REAL pinned CLI, judged on what reached the Messages API.

The proxy writes each request's history into a new session file that the CLI resumes, so a
conversation goes upstream as native messages whose prefix stays byte-identical from turn to
turn (what the prompt cache needs: tests/mock_anthropic records every body). Also: an edited,
regenerated, trimmed or re-prompted history and two clients at once each get exactly their own
history upstream; a CLI that cannot resume is answered through the transcript, visibly; no
session file or run folder outlives its run.

Everything runs once per module (one engine, one mock); the tests judge the records.
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.contract_env import Profile, Rig
from tests.mock_anthropic.replies import CACHE_CREATION_INPUT_TOKENS, CACHE_READ_INPUT_TOKENS, INPUT_TOKENS
from tests.real_cli import find_real_cli, require_real_cli
from tests.test_images import PNG
from tests.test_tools_real_cli import WEATHER
from tui_proxy.claude import run as run_module
from tui_proxy.events import Event, HistorySent

LONG_SYSTEM = " ".join(f"Rule {i}: answer plainly, cite nothing, keep to the point of question {i}." for i in range(120))
TURNS = 6


def user(text: str, tag: str) -> dict:
    return {"role": "user", "content": f"{text} [id:{tag}]"}


@dataclass
class Record:
    bodies: dict[str, dict] = field(default_factory=dict)  # by tag: the upstream body that answered it
    answers: dict[str, str] = field(default_factory=dict)
    usage: dict[str, object] = field(default_factory=dict)
    during: dict[str, list[dict]] = field(default_factory=dict)  # by tag: every body the mock got meanwhile
    sequences: dict[str, list[str]] = field(default_factory=dict)  # conversation -> tags in order
    history_events: list[HistorySent] = field(default_factory=list)
    leftovers: dict[str, list[str]] = field(default_factory=dict)
    cli_records_appended: int = 0


def _tag_of(body: dict) -> str | None:
    """The [id:...] tag of the last user message that carries text (the one answered)."""
    for message in reversed(body.get("messages") or []):
        if message.get("role") != "user":
            continue
        content = message["content"]
        texts = [content] if isinstance(content, str) else [b.get("text", "") for b in content if isinstance(b, dict)]
        found = re.findall(r"\[id:([\w-]+)\]", " ".join(texts))
        if found:
            return found[-1]
    return None


async def _ask(rig: Rig, record: Record, tag: str, messages: list[dict], **extra) -> dict:
    client = rig.clients["oauth"]
    before = len(rig.mock.message_requests())
    reply = await client.chat.completions.create(model="sonnet", messages=messages, **extra)  # type: ignore[arg-type]
    message = reply.choices[0].message
    record.answers[tag] = message.content or ""
    record.usage[tag] = reply.usage
    record.during[tag] = [r.body for r in rig.mock.message_requests()[before:]]
    new = [body for body in record.during[tag] if _tag_of(body) == tag]
    if new:
        record.bodies[tag] = new[-1]
    return message.model_dump(exclude_none=True)


async def _conversation(rig: Rig, record: Record, name: str, system: str, first: dict | None = None, turns: int = TURNS) -> list[dict]:
    messages: list[dict] = [{"role": "system", "content": system}]
    record.sequences[name] = []
    for turn in range(turns):
        tag = f"{name}-{turn}"
        messages.append(first if (turn == 0 and first) else user(f"Question {turn} of {name}: " + "tell me more. " * 40, tag))
        answer = await _ask(rig, record, tag, messages)
        messages.append({"role": "assistant", "content": answer["content"]})
        record.sequences[name].append(tag)
    return messages


async def _tool_conversation(rig: Rig, record: Record) -> None:
    """Turn 1 carries an image and makes the model call the client's tool; the client answers
    it (the waiting CLI goes on); turns 3 and 4 are new runs with all of that as native blocks."""
    name = "tools"
    record.sequences[name] = []
    image = {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}}
    messages: list[dict] = [
        {"role": "system", "content": LONG_SYSTEM},
        {"role": "user", "content": [{"type": "text", "text": "Look, and check the weather. [[mock:tool_once]] [id:tools-0]"}, image]},
    ]
    answer = await _ask(rig, record, "tools-0", messages, tools=[WEATHER])
    (call,) = answer["tool_calls"]
    messages += [answer, {"role": "tool", "tool_call_id": call["id"], "content": "18C and sunny [id:tools-1]"}]
    answer = await _ask(rig, record, "tools-1", messages, tools=[WEATHER])
    messages.append({"role": "assistant", "content": answer["content"]})
    for turn in (2, 3, 4):
        tag = f"tools-{turn}"
        messages.append(user(f"And then {turn}?", tag))
        answer = await _ask(rig, record, tag, messages, tools=[WEATHER])
        messages.append({"role": "assistant", "content": answer["content"]})
        record.sequences[name].append(tag)


async def _variants(rig: Rig, record: Record, base: list[dict]) -> None:
    # base: system, u0, a0, u1, a1, u2, a2, ...
    edited = copy.deepcopy(base[:6])  # system u0 a0 u1 a1 u2
    edited[4]["content"] = "EDITED-ANSWER-7f3a"
    edited[5] = user("After the edit?", "edited")
    await _ask(rig, record, "edited", edited)

    regen = copy.deepcopy(base[:5]) + [user("Regenerate me.", "regen")]
    await _ask(rig, record, "regen", regen)
    record.bodies["regen-first"] = record.bodies["regen"]
    await _ask(rig, record, "regen", regen)

    trimmed = [base[0]] + copy.deepcopy(base[5:9]) + [user("After the trim?", "trimmed")]
    await _ask(rig, record, "trimmed", trimmed)

    reprompted = [{"role": "system", "content": "NEW-SYSTEM-PROMPT-b21c"}] + copy.deepcopy(base[1:6]) + [user("Under the new prompt?", "reprompted")]
    await _ask(rig, record, "reprompted", reprompted)

    # Two clients, the same conversation, at once (each its own next message).
    both = [copy.deepcopy(base[:6]) + [user(f"Branch {b}?", f"branch-{b}")] for b in "ab"]
    await asyncio.gather(*(_ask(rig, record, f"branch-{b}", messages) for b, messages in zip("ab", both)))

    # A starting assistant turn cannot be a session file: the transcript, on purpose.
    await _ask(rig, record, "assistant-first", [{"role": "assistant", "content": "Hello there."}, user("Hi?", "assistant-first")])


async def _fallback(rig: Rig, record: Record, base: list[dict]) -> None:
    """The CLI cannot find the session (gone before it started): answered by the transcript.
    (A file in another project folder is no test: the CLI looks for the id in all of them.)"""
    real = run_module.write_session_file

    def lost(directory, session_id, records):
        written = real(directory, session_id, records)
        os.unlink(written.path)
        return written

    run_module.write_session_file = lost
    try:
        await _ask(rig, record, "fallback", copy.deepcopy(base[:5]) + [user("Fallback?", "fallback")])
    finally:
        run_module.write_session_file = real


async def _run_all(cli: str, root: Path) -> Record:
    record = Record()
    rig = await Rig(cli, root, [Profile("oauth")]).start()
    engine = rig.engines["oauth"]

    def on(event: Event) -> None:
        if isinstance(event, HistorySent):
            record.history_events.append(event)

    engine.bus.subscribe(on)
    settings = engine.runs.settings
    try:
        # The engine's first run learns the CLI's own environment and model records.
        await _ask(rig, record, "warmup", [user("Warm up.", "warmup")])
        base = await _conversation(rig, record, "plain", LONG_SYSTEM)
        await _tool_conversation(rig, record)
        await _variants(rig, record, base)
        await _fallback(rig, record, base)
        for _ in range(250):  # runs are reaped just after their answers
            if not len(engine.runs):
                break
            await asyncio.sleep(0.02)
        # Session files and run folders are removed and emptied off the event loop, just after.
        assert settings.folders is not None and await asyncio.to_thread(settings.folders.settled, 10)
        record.leftovers = {
            # (the CLI keeps an empty `memory/` folder there: removed when the engine stops)
            "sessions": sorted(p for p in os.listdir(settings.sessions_dir) if p != "memory") if os.path.isdir(settings.sessions_dir) else [],
            # Anything but the empty spare folders kept for later runs (`cwd/` and `tmp/`, empty).
            "runs": sorted(
                name for name in os.listdir(settings.runs_dir)
                if sorted(os.listdir(os.path.join(settings.runs_dir, name))) != ["cwd", "tmp"]
                or any(os.listdir(os.path.join(settings.runs_dir, name, sub)) for sub in ("cwd", "tmp"))
            ),
            "cwd": sorted(os.listdir(settings.workdir)),
        }
    finally:
        await rig.close()
    record.leftovers["after_stop"] = [str(p) for p in Path(settings.workdir).parent.glob("runs-*")]
    if os.path.exists(settings.sessions_dir):
        record.leftovers["after_stop"].append(settings.sessions_dir)
    return record


@pytest.fixture(scope="module")
def record() -> Record:
    cli = require_real_cli(find_real_cli())
    with tempfile.TemporaryDirectory(prefix="conversations-real-cli-") as scratch:
        return asyncio.run(_run_all(cli, Path(scratch)))


# -- helpers on upstream bodies ----------------------------------------------------------


def _stripped(value):
    """A body part without its cache_control markers (they move to the end each turn), string
    content written as the one text block it stands for (the API's own shorthand: the CLI sends
    the environment message of a one-message session as a block, of a longer one as a string)."""
    if isinstance(value, dict):
        if isinstance(value.get("content"), str) and "role" in value:
            value = {**value, "content": [{"type": "text", "text": value["content"]}]}
        return {k: _stripped(v) for k, v in value.items() if k != "cache_control"}
    if isinstance(value, list):
        return [_stripped(v) for v in value]
    return value


def _last_breakpoint(messages: list[dict]) -> int:
    last = -1
    for index, message in enumerate(messages):
        content = message.get("content")
        if isinstance(content, list) and any(isinstance(b, dict) and "cache_control" in b for b in content):
            last = index
    return last


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _cwd_of(body: dict) -> str:
    text = json.dumps(body["messages"][1])
    (cwd,) = re.findall(r"Primary working directory: ([^\\\\]+)", text)
    return cwd


def _texts(body: dict) -> list[tuple[str, str]]:
    out = []
    for message in body["messages"]:
        content = message["content"]
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
        for block in blocks:
            out.append((message["role"], block.get("type"), block.get("text") or block.get("id") or block.get("tool_use_id") or ""))
    return out


# -- the tests ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["plain", "tools"])
def test_each_turn_repeats_the_previous_prefix_byte_for_byte(record: Record, name: str) -> None:
    tags = record.sequences[name]
    assert len(tags) >= 3
    bodies = [record.bodies[tag] for tag in tags]
    for before, after in zip(bodies, bodies[1:]):
        assert _dumps(after["system"]) == _dumps(before["system"])  # system[0] fingerprint included
        assert _dumps(after["tools"]) == _dumps(before["tools"])
        cut = _last_breakpoint(before["messages"])
        assert cut >= 1, "the previous request had no cache breakpoint in its messages"
        assert _dumps(_stripped(after["messages"][: cut + 1])) == _dumps(_stripped(before["messages"][: cut + 1]))
        assert len(after["messages"]) == len(before["messages"]) + 2  # + the answer and the new question
        assert _cwd_of(after) == _cwd_of(before)
    # The conversation's own turns, nothing else after the first message's environment:
    assert [m["role"] for m in bodies[-1]["messages"]][:2] == ["user", "system"]
    assert all(m["role"] != "system" for m in bodies[-1]["messages"][2:])


def test_the_run_after_a_tool_round_repeats_the_continued_runs_prefix(record: Record) -> None:
    # The continued CLI's request with the tool result; the next turn is a new run from a session file.
    (continued,) = record.during["tools-1"]
    after = record.bodies["tools-2"]
    assert any(b.get("type") == "tool_result" for b in continued["messages"][-1]["content"])
    assert _dumps(after["system"]) == _dumps(continued["system"]) and _dumps(after["tools"]) == _dumps(continued["tools"])
    cut = _last_breakpoint(continued["messages"])
    assert _dumps(_stripped(after["messages"][: cut + 1])) == _dumps(_stripped(continued["messages"][: cut + 1]))


def test_the_system_prompt_reaches_the_api_as_sent(record: Record) -> None:
    body = record.bodies["plain-3"]
    assert body["system"][2]["text"] == LONG_SYSTEM
    assert body["system"][1]["text"] == "You are a Claude agent, built on Anthropic's Claude Agent SDK."  # no append prompt


def test_tool_calls_results_and_images_go_upstream_as_native_blocks_in_order(record: Record) -> None:
    body = record.bodies["tools-2"]  # a new run: the first was continued over MCP
    kinds = [(m["role"], [b["type"] for b in m["content"]] if isinstance(m["content"], list) else ["str"]) for m in body["messages"]]
    assert kinds[0] == ("user", ["text", "image"])
    assert kinds[2][0] == "assistant" and "tool_use" in kinds[2][1]
    assert kinds[3] == ("user", ["tool_result"])
    result = body["messages"][3]["content"][0]
    call = [b for b in body["messages"][2]["content"] if b["type"] == "tool_use"][0]
    assert result["tool_use_id"] == call["id"] and call["name"] == "mcp__client__get_weather"
    assert "18C and sunny" in json.dumps(result["content"])
    assert "<tool_call" not in json.dumps(body["messages"]) and "<conversation_history>" not in json.dumps(body["messages"])


def test_an_edited_history_is_sent_as_edited(record: Record) -> None:
    body = record.bodies["edited"]
    texts = [t for role, kind, t in _texts(body) if role == "assistant"]
    assert texts[-1] == "EDITED-ANSWER-7f3a"
    assert texts.count("EDITED-ANSWER-7f3a") == 1 and record.answers["edited"]


def test_a_regenerated_turn_sends_the_same_history_again(record: Record) -> None:
    first, second = record.bodies["regen-first"], record.bodies["regen"]
    assert first is not second
    assert _dumps(_stripped(first["messages"])) == _dumps(_stripped(second["messages"]))
    assert [role for role, _, _ in _texts(second)] == ["user", "system", "assistant", "user", "assistant", "user"]


def test_a_trimmed_history_starts_where_the_client_cut_it(record: Record) -> None:
    body = record.bodies["trimmed"]
    first_text = _texts(body)[0][2]
    assert "Question 2 of plain" in first_text
    assert not any("Question 0 of plain" in t or "Question 1 of plain" in t for _, _, t in _texts(body))


def test_a_changed_system_prompt_is_obeyed_at_once(record: Record) -> None:
    body = record.bodies["reprompted"]
    assert body["system"][2]["text"] == "NEW-SYSTEM-PROMPT-b21c"
    assert LONG_SYSTEM not in json.dumps(body)


def test_two_clients_with_one_conversation_each_get_their_own_history(record: Record) -> None:
    a, b = record.bodies["branch-a"], record.bodies["branch-b"]
    assert "Branch a?" in _texts(a)[-1][2] and "Branch b?" in _texts(b)[-1][2]
    assert "Branch b" not in json.dumps(a) and "Branch a" not in json.dumps(b)
    assert _dumps(_stripped(a["messages"][:-1])) == _dumps(_stripped(b["messages"][:-1]))


def test_a_history_a_session_file_cannot_express_goes_as_a_transcript_on_purpose(record: Record) -> None:
    body = record.bodies["assistant-first"]
    assert "<conversation_history>" in json.dumps(body["messages"][0])
    event = [e for e in record.history_events if e.mode == "transcript" and not e.fallback]
    assert [e.reason for e in event] == ["starts_with_assistant"]


def test_a_failed_resume_falls_back_to_the_transcript_visibly(record: Record) -> None:
    body = record.bodies["fallback"]
    assert "<conversation_history>" in json.dumps(body["messages"][0])  # the transcript run answered
    assert record.answers["fallback"] == "Hello from the mock Anthropic API."
    (event,) = [e for e in record.history_events if e.fallback]
    assert event.mode == "transcript" and event.reason.startswith("resume_failed: No conversation found with session ID")


@pytest.mark.parametrize("tag", ["plain-3", "fallback"])
def test_usage_counts_the_cache_of_the_one_api_call_that_answered(record: Record, tag: str) -> None:
    # The mock reports fixed counts per call; a failed resume makes no call, so adds nothing.
    usage = record.usage[tag]
    assert usage.prompt_tokens == INPUT_TOKENS + CACHE_READ_INPUT_TOKENS + CACHE_CREATION_INPUT_TOKENS
    assert usage.prompt_tokens_details.cached_tokens == CACHE_READ_INPUT_TOKENS


def test_every_other_run_resumed_a_session_file(record: Record) -> None:
    modes = [e.mode for e in record.history_events if not e.fallback]
    assert modes.count("transcript") == 1  # only the assistant-first history
    assert modes.count("session") >= 2 * TURNS


def test_no_session_file_or_run_folder_is_left(record: Record) -> None:
    assert record.leftovers["sessions"] == []
    assert record.leftovers["runs"] == []
    assert record.leftovers["cwd"] == []
    assert record.leftovers["after_stop"] == []
