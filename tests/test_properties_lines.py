"""Property-based: the CLI line parser gives a typed record for any line (known types with any
shape, unknown types, non-JSON, invalid UTF-8 decoded with replacement), never an exception;
stdout framing splits any byte stream on b"\\n" exactly, whatever the chunking and line size."""

from __future__ import annotations

import asyncio
import dataclasses
import json

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tui_proxy.claude import lines as L
from tui_proxy.claude.process import CliProcess

SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])

RECORDS = tuple(t for t in L.CliLine.__args__)  # every type parse_line may return

scalars = st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=20)
any_json = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=5), max_leaves=25)

KNOWN_TYPES = ["system", "assistant", "user", "result", "stream_event", "rate_limit_event", "tool_progress", None, 5]
SUBTYPES = ["init", "api_retry", "status", "success", "error_max_turns", "error_during_execution", None, []]
EVENT_TYPES = ["content_block_delta", "message_start", "content_block_start", "content_block_stop", "message_delta", "message_stop", "ping", None]
DELTA_TYPES = ["text_delta", "thinking_delta", "input_json_delta", "signature_delta", None, 3]


def maybe(value: st.SearchStrategy) -> st.SearchStrategy:
    return value | any_json


#: Lines shaped like the CLI's, with every field possibly of the wrong type.
cli_object = st.fixed_dictionaries(
    {"type": maybe(st.sampled_from(KNOWN_TYPES))},
    optional={
        "subtype": maybe(st.sampled_from(SUBTYPES)),
        "parent_tool_use_id": st.none() | st.text(max_size=5),
        "event": maybe(
            st.fixed_dictionaries(
                {"type": maybe(st.sampled_from(EVENT_TYPES))},
                optional={
                    "index": any_json,
                    "delta": maybe(st.fixed_dictionaries({"type": maybe(st.sampled_from(DELTA_TYPES))}, optional={"text": any_json, "thinking": any_json, "partial_json": any_json, "stop_reason": any_json})),
                    "message": maybe(st.fixed_dictionaries({}, optional={"id": any_json, "usage": any_json})),
                    "content_block": any_json,
                    "usage": any_json,
                },
            )
        ),
        "message": maybe(st.fixed_dictionaries({}, optional={"id": any_json, "model": any_json, "content": maybe(st.lists(any_json, max_size=3))})),
        "error": any_json,
        "api_error": any_json,
        "is_error": any_json,
        "result": any_json,
        "errors": maybe(st.lists(any_json, max_size=3)),
        "usage": any_json,
        "total_cost_usd": any_json,
        "api_error_status": any_json,
        "rate_limit_info": maybe(st.fixed_dictionaries({}, optional={"status": any_json, "resetsAt": any_json, "rateLimitType": any_json})),
        "tools": maybe(st.lists(any_json, max_size=3)),
        "structured_output": any_json,
    },
)


def parse(line: str):
    record = L.parse_line(line)
    assert isinstance(record, RECORDS), type(record)
    # Typed records carry typed fields: a consumer can use them without checking again.
    for f in dataclasses.fields(record):
        value = getattr(record, f.name)
        if f.type in ("str | None",):
            assert value is None or isinstance(value, str), (f.name, value)
        if f.type in ("int | None",):
            assert value is None or (isinstance(value, int) and not isinstance(value, bool)), (f.name, value)
        if f.type == "str":
            assert isinstance(value, str), (f.name, value)
        if f.type == "bool":
            assert isinstance(value, bool), (f.name, value)
    return record


@SETTINGS
@given(st.text(max_size=300))
@example('{"type":"result"')
@example("{" * 5000)
@example("\u2028{}")
def test_any_text_line_parses(line):
    parse(line)


def test_a_line_nested_deeper_than_the_decoder_goes_is_not_json():
    line = '{"type":"assistant","message":{"content":[{"type":"tool_use","input":' + '{"a":' * 100_000 + "1" + "}" * 100_000 + "}]}}"
    assert isinstance(L.parse_line(line), L.NotJson)


@SETTINGS
@given(any_json)
def test_any_json_line_parses(value):
    parse(json.dumps(value))


@SETTINGS
@given(cli_object)
@example({"type": "result", "subtype": "success", "is_error": False, "result": "ok", "usage": {}, "api_error_status": "500"})
@example({"type": "stream_event", "event": {"type": "content_block_delta", "index": True, "delta": {"type": "text_delta", "text": None}}})
@example({"type": "rate_limit_event", "rate_limit_info": {"resetsAt": "soon"}})
def test_cli_shaped_lines_with_wrong_field_types_parse(obj):
    record = parse(json.dumps(obj, allow_nan=True))
    if isinstance(record, L.TextDelta):
        assert isinstance(record.text, str)
    if isinstance(record, L.Result):
        assert isinstance(record.usage, dict) and all(isinstance(e, str) for e in record.errors)


@SETTINGS
@given(st.binary(max_size=300))
def test_any_bytes_decoded_as_the_run_decodes_them_parse(raw):
    parse(raw.decode("utf-8", "replace"))  # what CliRun does with each stdout line


# -- stdout framing ---------------------------------------------------------------------------


class _Pipe:
    """Stands in for the child's stdout: hands out the given chunks, then EOF."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = list(chunks)

    async def read(self, n: int) -> bytes:
        await asyncio.sleep(0)
        return self.chunks.pop(0) if self.chunks else b""


class _Proc:
    def __init__(self, chunks: list[bytes]) -> None:
        self.stdout = _Pipe(chunks)


async def frame(chunks: list[bytes]) -> list[str]:
    process = CliProcess(["claude"], env={}, cwd="/")
    process._proc = _Proc(chunks)  # type: ignore[assignment]
    return [line async for lines in process.stdout_reads() for line in lines]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=64) | st.sampled_from([b"\n", b"\n\n", b"{\"a\":1}\n"]), max_size=20))
def test_framing_splits_on_newline_bytes_whatever_the_chunks(chunks):
    data = b"".join(chunks)
    expected = data.split(b"\n")
    if expected and expected[-1] == b"":
        expected.pop()  # a final newline ends the last line; it does not start an empty one
    # Lines are decoded a read at a time: the same text as each line decoded alone, broken
    # characters included.
    assert asyncio.run(frame([c for c in chunks if c])) == [line.decode("utf-8", "replace") for line in expected]


def test_framing_has_no_line_size_cap():
    big = b'{"type":"stream_event","event":{"type":"content_block_delta","delta":{"type":"text_delta","text":"' + b"x" * 5_000_000 + b'"}}}'
    chunks = [big[i : i + 65536] for i in range(0, len(big), 65536)] + [b"\n{}\n"]
    lines = asyncio.run(frame(chunks))
    assert lines == [big.decode(), "{}"]
    record = L.parse_line(lines[0])
    assert isinstance(record, L.TextDelta) and len(record.text) == 5_000_000


def test_u2028_and_other_unicode_line_breaks_do_not_split_lines():
    line = json.dumps({"type": "stream_event", "event": {"type": "content_block_delta", "delta": {"type": "text_delta", "text": "a\u2028b\u0085c\rd"}}}, ensure_ascii=False).encode()
    lines = asyncio.run(frame([line + b"\n"]))
    assert len(lines) == 1 and L.parse_line(lines[0]).text == "a\u2028b\u0085c\rd"
