"""The sans-io run reader fed the REAL CLI's transcripts (tests/golden) directly: no process,
no server. What the proxy answers is decided here; the through-the-proxy tests
(test_golden_through_proxy.py) check the same cases end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tui_proxy.claude import lines as L
from tui_proxy.claude.output_limits import OutputLimiter
from tui_proxy.claude.reader import RunReader
from tui_proxy.claude.run_events import Done, Restart, Text, Thinking
from tui_proxy.errors import ProxyError
from tui_proxy.tools.stream_calls import ToolCallArguments, ToolCallStarted

GOLDEN = Path(__file__).resolve().parent / "golden"


def lines(case: str) -> list[str]:
    return (GOLDEN / f"{case}.jsonl").read_text(encoding="utf-8").splitlines()


def meta(case: str) -> dict:
    return json.loads((GOLDEN / f"{case}.meta.json").read_text(encoding="utf-8"))


def result_text(case: str) -> str:
    for line in lines(case):
        obj = json.loads(line)
        if obj.get("type") == "result":
            return obj["result"]
    raise AssertionError("no result line")


def read(case: str, reader: RunReader | None = None) -> tuple[RunReader, list]:
    """Feed a transcript as the run does: until the reader says the answer is over."""
    reader = reader or RunReader()
    events: list = []
    for line in lines(case):
        events.extend(reader.feed(line))
        if reader.stop is not None:
            break
    reader.facts.returncode = meta(case)["exit_code"]
    return reader, events


def answer(events: list) -> str:
    """The text a non-streaming client gets: a Restart truncates what came before."""
    text = ""
    for event in events:
        if type(event) is Text:
            text += event.text
        elif type(event) is Restart:
            text = text[: event.keep]
    return text


@pytest.mark.parametrize("case", ["text", "text_api_key", "unicode", "thinking", "rate_limit_warning", "529_recovers", "big_delta", "midstream_error", "drop"])
def test_successes_end_in_done_with_the_cli_result_text(case):
    reader, events = read(case)
    assert reader.stop == "result"
    last, done = reader.judge(now=0)
    events += last
    assert answer(events) == result_text(case)
    assert isinstance(done, Done) and done.finish_reason == "stop"
    assert done.usage.prompt_tokens > 0 and done.usage.completion_tokens > 0
    assert done.resolved_model  # from the init line


def test_thinking_arrives_apart_from_the_text():
    reader, events = read("thinking")
    thinking = "".join(e.text for e in events if type(e) is Thinking)
    assert thinking and thinking not in answer(events)


@pytest.mark.parametrize("case", ["midstream_error", "drop"])
def test_a_retry_that_rewrites_the_turn_is_a_restart(case):
    """The CLI's retry after a failed stream wrote a different answer: the reader voids the
    text already passed on (a streaming face must fail, a non-streaming one truncates)."""
    _, events = read(case)
    restarts = [e for e in events if type(e) is Restart]
    assert restarts and restarts[0].keep == 0
    assert sum(len(e.text) for e in events[: events.index(restarts[0])] if type(e) is Text) > 0


@pytest.mark.parametrize(
    ("case", "status", "code"),
    [
        ("not_logged_in", 401, "cli_not_authenticated"),
        ("401", 401, "cli_not_authenticated"),
        ("404_model", 404, "model_not_found"),
        ("400_credit", 402, "insufficient_quota"),
        ("400_prompt_too_long", 400, "context_length_exceeded"),
        ("400_other", 400, "upstream_invalid_request"),
        ("429_api_key", 429, "rate_limit_exceeded"),
        ("500", 502, "upstream_error"),
        ("529", 503, "upstream_overloaded"),
    ],
)
def test_failures_are_judged_from_the_lines(case, status, code):
    reader, events = read(case)
    assert answer(events) == ""  # an error's text is never answer text
    with pytest.raises(ProxyError) as caught:
        reader.judge(now=0)
    assert (caught.value.status, caught.value.code) == (status, code)


def test_a_subscription_limit_carries_the_seconds_to_its_reset():
    reader, _ = read("429_subscription")
    resets_at = reader.facts.rate_limit.resets_at
    with pytest.raises(ProxyError) as caught:
        reader.judge(now=resets_at - 120)
    assert caught.value.status == 429 and caught.value.retry_after == 120


def test_the_cli_output_limit_is_length_with_continuations_joined():
    reader, events = read("max_tokens")
    last, done = reader.judge(now=0)
    text = answer(events + last)
    assert done.finish_reason == "length" and text and "\n\n" not in text


def test_a_stop_sequence_cuts_the_answer_and_ends_it():
    full = result_text("text")
    cut_at = full.index(" ", 3)
    reader = RunReader(OutputLimiter(stop=(full[cut_at : cut_at + 4],)))
    reader, events = read("text", reader)
    assert reader.stop == "output_limit"
    assert answer(events) == full[:cut_at]
    assert reader.cut_done().finish_reason == "stop"


def test_a_transcript_without_a_result_is_a_crash():
    reader = RunReader()
    for line in lines("text")[:-1]:  # the CLI died before its result line
        reader.feed(line)
    reader.facts.returncode = 3
    reader.facts.stderr_tail = "panic"
    with pytest.raises(ProxyError) as caught:
        reader.judge(now=0)
    assert caught.value.code == "cli_crashed" and "panic" in caught.value.message


def test_client_tool_calls_end_the_answer_and_a_resume_starts_the_next():
    """A client tool call (the CLI names it mcp__client__<name>) ends the answer with the call;
    the next request's answer starts clean after `resume()`."""

    def line(obj: dict) -> str:
        return json.dumps(obj)

    def event(obj: dict) -> str:
        return line({"type": "stream_event", "event": obj})

    reader = RunReader()
    out: list = []
    for raw in [
        line({"type": "system", "subtype": "init", "model": "claude-sonnet-5-5", "tools": [], "mcp_servers": [{"name": "client", "status": "connected"}]}),
        event({"type": "message_start", "message": {"id": "msg_1", "usage": {"input_tokens": 10, "output_tokens": 1}}}),
        event({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        event({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Checking."}}),
        event({"type": "content_block_stop", "index": 0}),
        event({"type": "content_block_start", "index": 1, "content_block": {"type": "tool_use", "id": "toolu_1", "name": "mcp__client__get_weather", "input": {}}}),
        event({"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": '{"city":"Paris"}'}}),
        event({"type": "content_block_stop", "index": 1}),
        event({"type": "message_delta", "delta": {"stop_reason": "tool_use"}, "usage": {"output_tokens": 12}}),
    ]:
        out += reader.feed(raw)
    assert reader.stop == "tool_calls"
    assert [type(e) for e in out] == [Text, ToolCallStarted, ToolCallArguments]
    done = reader.tool_calls_done()
    assert done.finish_reason == "tool_calls" and [(c.name, c.arguments) for c in done.tool_calls] == [("get_weather", '{"city":"Paris"}')]
    assert done.usage.completion_tokens == 12

    answered = reader.resume(OutputLimiter())
    assert [c.id for c in answered.calls] == ["toolu_1"] and reader.stop is None
    after = reader.feed(event({"type": "message_start", "message": {"id": "msg_2", "usage": {"input_tokens": 30, "output_tokens": 1}}}))
    after += reader.feed(event({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "18C."}}))
    assert after == [Text("18C.")]  # no separator from the earlier answer: a new request's answer


# -- lines read together ----------------------------------------------------------------------


def _outcome(reader: RunReader, events: list, case: str) -> tuple:
    """What a client gets from a reading: the events with each run of Text joined (a delta's
    boundaries are not part of the answer), where the reading stopped, and the judgment."""
    joined: list = []
    for event in events:
        if type(event) is Text and joined and type(joined[-1]) is Text:
            joined[-1] = Text(joined[-1].text + event.text)
        else:
            joined.append(Text(event.text) if type(event) is Text else event)
    reader.facts.returncode = meta(case)["exit_code"]
    try:
        judged: object = reader.judge(now=0)
    except ProxyError as error:
        judged = (error.status, error.code, error.message)
    return joined, reader.stop, judged


def read_in_reads(case: str, sizes: list[int]) -> tuple[RunReader, list]:
    """Feed a transcript as the run does, a read at a time (`sizes`: lines per read, cycled)."""
    reader = RunReader()
    events: list = []
    all_lines = lines(case)
    start = 0
    turn = 0
    while start < len(all_lines):
        block = all_lines[start : start + sizes[turn % len(sizes)]]
        start += len(block)
        turn += 1
        at = 0
        while at < len(block):
            more, at = reader.feed_lines(block, at)
            events += more
            if reader.stop is not None:
                return reader, events
    return reader, events


@pytest.mark.parametrize("case", sorted(p.stem for p in GOLDEN.glob("*.jsonl")))
def test_lines_read_together_give_what_each_line_fed_alone_gives(case):
    """The run feeds the lines of each read of the CLI's stdout together (`feed_lines`): the
    answer, the other events, where it stops and the judgment are those of feeding each line
    alone, however the reads split the transcript."""
    alone = _outcome(*read(case), case)
    for sizes in ([1], [2], [3, 1], [7], [1, 5, 2], [10_000]):
        assert _outcome(*read_in_reads(case, sizes), case) == alone, sizes


def test_text_deltas_read_together_are_one_text_that_counts_them():
    reader, events = read_in_reads("text", [10_000])
    texts = [e for e in events if type(e) is Text]
    deltas = sum(1 for line in lines("text") if '"text_delta"' in line)
    assert deltas > 1 and len(texts) == 1 and texts[0].count == deltas
    _, alone = read("text")
    assert texts[0].text == "".join(e.text for e in alone if type(e) is Text)


def test_with_a_limiter_each_delta_is_fed_alone():
    """max_tokens is estimated delta by delta: joining deltas would change where it cuts."""
    reader = RunReader(OutputLimiter(max_tokens=3))
    events, _ = reader.feed_lines(lines("text"))
    per_line = RunReader(OutputLimiter(max_tokens=3))
    _, alone = read("text", per_line)
    assert events == alone and all(e.count == 1 for e in events if type(e) is Text)


def _event(obj: dict) -> str:
    """A stream event line as the CLI writes it (compact: the reader's fast path reads these)."""
    return json.dumps({"type": "stream_event", "event": obj, "session_id": "s", "parent_tool_use_id": None, "uuid": "u"}, separators=(",", ":"))


def _delta(text: str) -> str:
    return _event({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text}})


def test_a_retry_repeating_what_was_sent_is_skipped_in_a_read_as_line_by_line():
    """The CLI retried a dropped stream (a message without a stop reason) and wrote the same
    start again: what was already sent is not sent twice, whether read together or not."""
    start = _event({"type": "message_start", "message": {"id": "m", "usage": {"input_tokens": 5, "output_tokens": 1}}})
    transcript = [start, _delta("Hello "), _delta("wor"), start, _delta("Hello "), _delta("world"), _delta("!")]
    assert all(L.text_delta_text(line) is not None for line in transcript if '"text_delta"' in line)
    per_line = RunReader()
    alone = [e for line in transcript for e in per_line.feed(line)]
    assert answer(alone) == "Hello world!"
    for split in range(len(transcript) + 1):
        reader = RunReader()
        together = reader.feed_lines(transcript[:split])[0] + reader.feed_lines(transcript[split:])[0]
        assert answer(together) == "Hello world!" and Restart not in map(type, together), split


def test_lines_after_the_end_of_an_answer_wait_for_the_next_request():
    """Read together with the model's tool calls: what follows belongs to the answer after the
    client's results, so reading stops at the calls and goes on after `resume()`."""
    transcript = [
        _event({"type": "message_start", "message": {"id": "m1", "usage": {"input_tokens": 10, "output_tokens": 1}}}),
        _delta("Checking."),
        _event({"type": "content_block_start", "index": 1, "content_block": {"type": "tool_use", "id": "toolu_1", "name": "mcp__client__get_weather", "input": {}}}),
        _event({"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": "{}"}}),
        _event({"type": "content_block_stop", "index": 1}),
        _event({"type": "message_delta", "delta": {"stop_reason": "tool_use"}, "usage": {"output_tokens": 12}}),
        _event({"type": "message_start", "message": {"id": "m2", "usage": {"input_tokens": 30, "output_tokens": 1}}}),
        _delta("18C."),
    ]
    reader = RunReader()
    events, at = reader.feed_lines(transcript)
    assert reader.stop == "tool_calls" and at == 6
    assert [type(e) for e in events] == [Text, ToolCallStarted, ToolCallArguments] and events[0].text == "Checking."
    reader.tool_calls_done()
    reader.resume(OutputLimiter())
    after, at = reader.feed_lines(transcript, at)
    assert after == [Text("18C.")] and at == len(transcript)


def test_assistant_lines_are_read_for_their_error_only():
    """The CLI repeats each message whole in an `assistant` line (MBs for a big answer): the
    reader skips it unless it may hold the CLI's error, and gets the same as a full read."""
    assistant = [line for path in sorted(GOLDEN.glob("*.jsonl")) for line in path.read_text().splitlines() if line.startswith('{"type":"assistant",')]
    quoted = json.dumps({"type": "assistant", "message": {"id": "m", "content": [{"type": "text", "text": 'say "error" twice: "error"'}]}}, separators=(",", ":"))
    assert any(L.parse_line(line).error for line in assistant) and not all(L.parse_line(line).error for line in assistant)
    for line in [*assistant, quoted]:
        reader = RunReader()
        assert reader.feed(line) == []
        expected = L.parse_line(line)
        assert (reader.facts.error_message == expected) if expected.error else reader.facts.error_message is None
