"""The request and response tabs of the detail view, as generators of lines.

Generators, so the view builds them in slices of the event loop (`text_lines.collect`)
and never holds it for a 600-message conversation or a 5 MB body; a `None` is a pause
point in long stretches that produce no line (counting what a cut left out).
"""

from __future__ import annotations

import json
from typing import Any, Iterator, Optional

from rich.text import Text

from . import formatting as fmt
from ..anthropic.messages_request import display_turns as messages_display_turns
from ..openai.responses_request import display_turns as responses_display_turns
from .body_text import content_text, parse_body, redact_headers, ROLE_STYLES
from .exchange_view import ExchangeView
from .widgets.cli_panel import full_transcript
from .widgets.text_lines import JsonLine, Line

#: Lines of a body shown before "press f for the rest" (mitmproxy stops at 512 too).
BODY_LINES = 512
#: Characters of one message shown before "press f for the rest".
MESSAGE_CHARS = 4000

Lines = Iterator[Optional[Line]]


def section(title: str) -> Lines:
    yield ""
    yield Text(title, style="bold underline")


def header_lines(headers: dict[str, str]) -> Lines:
    width = max((len(name) for name in headers), default=0)
    for name, value in headers.items():
        yield Text.assemble((name.ljust(width), "bold cyan"), "  ", value)


#: `data` of a body not parsed yet, and of one that is not JSON.
UNPARSED = object()
NOT_JSON = object()


def parsed(raw: str | bytes) -> Any:
    """The body as JSON, or NOT_JSON."""
    try:
        return json.loads(raw)
    except (ValueError, TypeError):
        return NOT_JSON


def json_lines(raw: str | bytes, limit: int | None, data: Any = UNPARSED) -> Lines:
    """Pretty JSON (the raw text when it does not parse), cut after `limit` lines.
    `data`: the body already parsed (`parsed(raw)`), so a big one is parsed once."""
    if data is UNPARSED:
        data = parsed(raw)
    if data is NOT_JSON:
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
        pieces: Iterator[str] = iter(text.split("\n"))
        wrap = str
    else:
        pieces = _pretty(data, "", "", "")
        wrap = JsonLine
    shown = 0
    for piece in pieces:
        if piece is None:
            yield None
            continue
        if limit is not None and shown >= limit:
            more = 1
            for more, _ in enumerate(pieces, 2):
                if not more % 256:
                    yield None  # a pause point while counting
            yield Text(f"… {more} more lines: press f to load all", style="bold yellow")
            return
        yield wrap(piece)
        shown += 1


#: Strings longer than this are escaped in pieces, with pause points between them.
STRING_PIECE = 64 * 1024


def _pretty(value: Any, pad: str, prefix: str, suffix: str) -> Iterator[str | None]:
    """`json.dumps(value, indent=2)` line by line, with pause points (None).

    json's own encoder escapes a 5 MB string in one C call (30-60 ms on the loop);
    here a long string is escaped in pieces, so the view can pause between them.
    """
    if isinstance(value, dict) and value:
        yield f"{pad}{prefix}{{"
        last = len(value) - 1
        for index, (key, item) in enumerate(value.items()):
            yield from _pretty(item, pad + "  ", json.dumps(str(key), ensure_ascii=False) + ": ", "," if index < last else "")
        yield f"{pad}}}{suffix}"
    elif isinstance(value, list) and value:
        yield f"{pad}{prefix}["
        last = len(value) - 1
        for index, item in enumerate(value):
            yield from _pretty(item, pad + "  ", "", "," if index < last else "")
        yield f"{pad}]{suffix}"
    elif isinstance(value, str) and len(value) > STRING_PIECE:
        pieces = [f"{pad}{prefix}\""]
        for start in range(0, len(value), STRING_PIECE):
            pieces.append(json.dumps(value[start : start + STRING_PIECE], ensure_ascii=False)[1:-1])
            yield None
        pieces.append(f"\"{suffix}")
        line = "".join(pieces)
        yield None  # joining 5 MB took 4 ms, and the line is copied once more where it is shown
        yield line
    else:
        yield f"{pad}{prefix}{json.dumps(value, ensure_ascii=False)}{suffix}"


def text_lines(text: str, style: str = "") -> Lines:
    for line in text.split("\n"):
        yield Text(line, style=style) if style else line


def conversation_lines(body: bytes, max_chars: int | None, path: str = "", data: Any = UNPARSED) -> Lines:
    """Each message as `▌ role` then its text; long messages are cut (the body has them).
    The face the request came in by (its path) says how to read its turns."""
    if data is UNPARSED:
        data = parse_body(body)
    elif data is NOT_JSON:
        data = None
    if path.startswith("/v1/messages"):
        turns = messages_display_turns(data)
    elif path.startswith("/v1/responses"):
        turns = responses_display_turns(data)
    else:
        turns = _chat_turns(data)
    if not turns:
        yield Text("(no messages in this body)", style="dim")
        return
    for role, text in turns:
        if max_chars is not None and len(text) > max_chars:
            text = text[:max_chars] + f"… ({len(text) - max_chars} more characters: press f)"
        yield Text(f"▌ {role}", style=ROLE_STYLES.get(role, "bold"))
        yield from text_lines(text.strip())
        yield ""


def _chat_turns(data) -> list[tuple[str, str]]:
    messages = data.get("messages") if isinstance(data, dict) else None
    turns = []
    for message in messages if isinstance(messages, list) else []:
        if not isinstance(message, dict):
            continue
        text = content_text(message.get("content"))
        for call in message.get("tool_calls") or []:
            function = call.get("function", {}) if isinstance(call, dict) else {}
            text += f"\n→ {function.get('name', '?')}({function.get('arguments', '')})"
        turns.append((str(message.get("role", "?")), text))
    return turns


def request_lines(view: ExchangeView, full: bool) -> Lines:
    head = Text()
    head.append(f"{view.method} {view.path}", style="bold")
    head.append(f"   client {view.client or '-'}   from {view.remote or '-'}   {'stream' if view.stream else 'no stream'}")
    if view.replay_of:
        head.append(f"   replay of {view.replay_of}", style="magenta")
    yield head
    yield from section("Headers")
    yield from header_lines(redact_headers(view.headers))
    # Parsed once for both views of it (up to 1 MB kept: tens of ms each time).
    data = parsed(view.body)
    yield None
    yield from section("Conversation")
    yield from conversation_lines(view.body, None if full else MESSAGE_CHARS, view.path, data)
    yield from section(f"Body ({fmt.count(view.body_size)} bytes)")
    if view.body_cut:
        yield Text(f"Only the first {fmt.count(len(view.body))} bytes are kept in memory; the capture store has it all.", style="yellow")
    yield from json_lines(view.body, None if full else BODY_LINES, data)


def response_lines(view: ExchangeView, full: bool) -> Lines:
    if view.response_status is None and view.in_flight:
        yield Text("No response yet: the proxy holds the headers until the model speaks.", style="dim")
        return
    head = Text()
    status = view.status if view.status is not None else view.response_status
    head.append(f"{status} ", style=fmt.status_style(view))
    head.append(f"{'text/event-stream' if view.stream else 'application/json'}")
    if view.finish_reason:
        head.append(f"   finish {view.finish_reason}")
    if view.usage:
        u = view.usage
        head.append(f"   tokens {u.prompt_tokens} in / {u.completion_tokens} out   cache read {u.cached_tokens}")
        if view.cache_share is not None:
            head.append(f" ({view.cache_share:.0%} of the prompt)")
        head.append(f", write {u.cache_creation_tokens}")
        if u.cost_usd is not None:
            head.append(f"   ${u.cost_usd:.4f}")
    else:
        head.append("   usage not reported yet" if view.in_flight else "   usage missing", style="yellow")
    yield head
    yield from section("Headers")
    yield from header_lines(view.response_headers)
    if view.tool_calls:
        yield from section(f"Tool calls ({len(view.tool_calls)})")
        for call_id, name, arguments in view.tool_calls:
            yield Text.assemble((name, "bold"), (f"  {call_id}", "dim"))
            yield from json_lines(arguments, None)
    limit = None if full else BODY_LINES
    if not view.stream:
        yield from section("Body")
        if view.chunks:
            yield from json_lines(view.chunks[-1], limit)
        else:
            yield Text("(none)", style="dim")
        return
    yield from section("Final text")
    yield from text_lines(str(view.text) or "(none)")
    chunks = list(view.chunks)
    yield from section(f"Chunks ({view.chunks_total})")
    if view.chunks_total > len(chunks):
        yield Text(f"… {view.chunks_total - len(chunks)} earlier chunks dropped (per-request cap)", style="dim")
    shown = chunks if limit is None else chunks[:limit]
    for chunk in shown:
        yield JsonLine(f"data: {chunk}")
    if len(shown) < len(chunks):
        yield Text(f"… {len(chunks) - len(shown)} more chunks: press f to load all", style="bold yellow")


def transcript_lines(view: ExchangeView, pretty: bool) -> Lines:
    """The CLI run: argv, stdin, every stdout/stderr line with its time, exit."""
    for line in full_transcript(view, pretty):
        yield JsonLine(line)
