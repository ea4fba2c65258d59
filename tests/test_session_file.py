"""The history as native messages and as the CLI's session records (no CLI needed)."""

from __future__ import annotations

import json
import os
import stat

from tui_proxy.claude.history import Message, NotNative, native_messages, tool_use_id
from tui_proxy.claude.session_file import CliContext, appended_records, project_dir, session_records, write_session_file
from tui_proxy.conversation import Conversation, ImagePart, TextPart, ToolCall, Turn


def conv(*turns: Turn) -> Conversation:
    return Conversation(system=None, turns=turns)


def u(text: str, *extra) -> Turn:
    return Turn("user", (TextPart(text), *extra))


def a(text: str = "", *calls: ToolCall) -> Turn:
    return Turn("assistant", (TextPart(text),) if text else (), tool_calls=calls)


def tool(call_id: str, text: str, is_error: bool = False) -> Turn:
    return Turn("tool", (TextPart(text),), tool_call_id=call_id, is_error=is_error)


def test_turns_become_alternating_messages_with_native_tool_blocks_in_order():
    image = ImagePart(media_type="image/png", data="AAAA")
    messages = native_messages(conv(
        u("Look", image),
        a("Calling.", ToolCall("call_1", "get_weather", '{"city":"Paris"}'), ToolCall("call 2!", "get_time", "")),
        tool("call_1", "18C"),
        tool("call 2!", "boom", is_error=True),
        u("Thanks"),
    ))
    assert not isinstance(messages, NotNative)
    assert [m.role for m in messages] == ["user", "assistant", "user"]
    assert messages[0].content == ({"type": "text", "text": "Look"}, {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AAAA"}})
    stand_in = tool_use_id("call 2!")
    assert stand_in.startswith("toolu_") and stand_in == tool_use_id("call 2!")  # stable from turn to turn
    assert messages[1].content == (
        {"type": "text", "text": "Calling."},
        {"type": "tool_use", "id": "call_1", "name": "mcp__client__get_weather", "input": {"city": "Paris"}},
        {"type": "tool_use", "id": stand_in, "name": "mcp__client__get_time", "input": {}},
    )
    # The results lead the next user message, then the user's text.
    assert messages[2].content == (
        {"tool_use_id": "call_1", "type": "tool_result", "content": [{"type": "text", "text": "18C"}]},
        {"tool_use_id": stand_in, "type": "tool_result", "content": [{"type": "text", "text": "boom"}], "is_error": True},
        {"type": "text", "text": "Thanks"},
    )


def test_histories_a_session_file_cannot_express_say_why():
    call = ToolCall("c1", "f", "{}")
    cases = {
        "starts_with_assistant": conv(a("Hi"), u("Hello")),
        "ends_with_assistant": conv(u("Hi"), a("Hel")),
        "tool_call_without_result": conv(u("Hi"), a("", call), u("Never mind")),
        "tool_result_without_call": conv(u("Hi"), a("Sure"), tool("c9", "x")),
        "empty_user_message": conv(u("")),
        "tool_arguments_not_json": conv(u("Hi"), a("", ToolCall("c1", "f", "{nope")), tool("c1", "x")),
    }
    for reason, conversation in cases.items():
        assert native_messages(conversation) == NotNative(reason), reason


def test_records_chain_attachments_then_messages(tmp_path):
    messages = (Message("user", ({"type": "text", "text": "Q1"},)), Message("assistant", ({"type": "text", "text": "A1"},)), Message("user", ({"type": "text", "text": "Q2"},)))
    context = CliContext(environment={"workingDirectory": "/w"}, models={"sonnet": {"type": "model", "identity": {"modelId": "m"}, "text": "T"}})
    records = session_records(messages, session_id="s-1", cwd="/w", model_name="m", attachments=context.attachments("sonnet", "2026-12-02"))
    kinds = [(r["type"], r.get("attachment", {}).get("type")) for r in records]
    assert kinds == [("attachment", "environment"), ("attachment", "model"), ("attachment", "date"), ("user", None), ("assistant", None), ("user", None)]
    assert [r["parentUuid"] for r in records[1:]] == [r["uuid"] for r in records[:-1]] and records[0]["parentUuid"] is None
    assert not [r for r in records if r.get("attachment", {}).get("type") == "prompt_snapshot"]
    assert records[4]["message"]["stop_reason"] == "end_turn" and records[-1]["message"] == {"role": "user", "content": [{"type": "text", "text": "Q2"}]}
    assert {r["sessionId"] for r in records} == {"s-1"} and {r["cwd"] for r in records} == {"/w"}

    directory = project_dir(str(tmp_path), "/w/x.y")
    assert directory == os.path.join(str(tmp_path), ".claude", "projects", "-w-x-y")
    session = write_session_file(directory, "s-1", records)
    assert stat.S_IMODE(os.stat(session.path).st_mode) == 0o600 and stat.S_IMODE(os.stat(directory).st_mode) == 0o700
    with open(session.path, "a") as f:  # what the CLI appends, with persistence on
        f.write(json.dumps({"type": "attachment", "attachment": {"type": "model", "identity": {"modelId": "x"}, "text": "You are x."}}) + "\n")
    learnt = CliContext()
    learnt.learn("opus", appended_records(session))
    assert learnt.models == {"opus": {"type": "model", "identity": {"modelId": "x"}, "text": "You are x."}} and not learnt.knows("opus")


def test_an_unknown_model_or_environment_is_left_for_the_cli_to_write():
    context = CliContext()
    assert context.attachments("sonnet", "2026-12-02") == [{"type": "date", "date": "2026-12-02"}]


def test_learnt_records_are_kept_for_the_next_start_of_the_same_cli(tmp_path):
    path = str(tmp_path / "cli-records.json")
    context = CliContext.load(path, "2.1.328")
    assert context.needs_check("sonnet") and not context.knows("sonnet")
    context.learn("sonnet", [
        {"type": "attachment", "attachment": {"type": "environment", "snapshot": {"workingDirectory": "/w"}}},
        {"type": "attachment", "attachment": {"type": "model", "identity": {"modelId": "m"}, "text": "You are m."}},
    ])
    assert context.knows("sonnet") and not context.needs_check("sonnet")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    again = CliContext.load(path, "2.1.328")
    # Known, but checked again by the new engine's first run (the CLI mends what changed).
    assert again.knows("sonnet") and again.needs_check("sonnet")
    assert again.attachments("sonnet", "2026-12-03")[0] == {"type": "environment", "snapshot": {"workingDirectory": "/w"}}
    assert not CliContext.load(path, "2.1.400").knows("sonnet")  # another CLI version: learn afresh
