"""A CLI run's stdout, read without I/O: lines in, run events and facts out.

`RunReader.feed(line)` takes one stdout line (text, without its newline) and returns the run
events it makes (`Text`, `Thinking`, `Restart`, tool-call pieces); `stop` then tells whether
the answer is over, and why. `judge()` judges the run once stdout ended or the result came:
it raises the run's `ProxyError`, or returns the last events and the `Done`. Nothing here
spawns, reads, writes, publishes or sleeps: the run (`claude/run.py`) does that, and the tests
feed this the golden transcripts of the real CLI directly (tests/test_reader.py).

What it handles (README "Streaming", "stop and max_tokens", "Client tools"):
- the CLI's retries: a message that ends without a stop reason is retried; its repeat is
  skipped, a different answer is a `Restart` (TurnText);
- successive turns (after a tool round, or the CLI's own "output limit hit, resume"), joined
  by a separator or not;
- `stop` / `max_tokens` emulated by the limiter: a cut ends the answer (`stop == "output_limit"`);
- client tool calls: at `stop_reason: tool_use` the answer ends with the calls
  (`stop == "tool_calls"`) while the CLI waits; `resume()` starts the next request's answer;
- structured output: prose is skipped, the validated JSON of the result is the answer;
- the result line: text the CLI never streamed (its non-streaming fallback) is added.
"""

from __future__ import annotations

import json
from typing import Callable, Literal

from ..tools.names import SERVER_NAME
from ..tools.stream_calls import ToolCallCollector
from . import lines as L
from . import outcome
from .outcome import RunFacts, failure
from .output_limits import OutputLimiter, estimate_tokens
from .run_events import Done, RunEvent, Text, Thinking
from .turn_text import TurnText
from .usage import usage_from_cli

#: Init statuses of an MCP server the CLI could not use.
_MCP_FAILED = frozenset({"failed", "needs-auth"})
_COUNTS = ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens", "output_tokens")

Stop = Literal["output_limit", "tool_calls", "result"]
#: How the CLI starts an `assistant` line (see `feed`).
_ASSISTANT = '{"type":"assistant",'

#: Told of what the CLI says about the upstream as it says it: its quota report (a
#: `rate_limit_event`) and its retries (`api_retry`). Not run events: no answer depends on them.
UpstreamNote = Callable[["L.RateLimit | L.ApiRetry"], None]


class RunReader:
    __slots__ = (
        "facts", "limiter", "calls", "structured", "tools_offered", "stop", "init_model", "on_upstream",
        "_turn", "_aborted_message", "_last_stop_reason", "_message_usage", "_reported_usage", "_cost_before",
    )  # fmt: skip

    def __init__(self, limiter: OutputLimiter | None = None, *, parallel_tool_calls: bool = True, structured: bool = False, tools_offered: bool = False, on_upstream: UpstreamNote | None = None) -> None:
        self.facts = RunFacts()
        self.on_upstream = on_upstream
        self.limiter = limiter or OutputLimiter()
        self.calls = ToolCallCollector(parallel_tool_calls)
        #: A JSON schema was asked for: the answer is the result's structured output.
        self.structured = structured
        self.tools_offered = tools_offered
        #: Why the answer is over, once it is: the caller stops feeding (or, at tool calls, waits).
        self.stop: Stop | None = None
        #: The model the CLI resolved (its init line).
        self.init_model: str | None = None
        self._turn = TurnText()
        self._aborted_message = False  # the last message ended without a stop reason: a retry follows
        self._last_stop_reason: str | None = None
        self._message_usage: dict = {}
        #: Usage already reported to an earlier request of this run (the CLI's counts sum all calls).
        self._reported_usage: dict = {}
        #: Cost already reported by earlier turns of this process (the result's cost is cumulative).
        self._cost_before = 0.0

    # -- lines -----------------------------------------------------------------------------

    def feed_lines(self, lines: list[str], start: int = 0) -> tuple[list[RunEvent], int]:
        """The events of `lines[start:]` (lines read together), up to the last line or to the
        one that ends the answer (`stop` is then set); returned with the index of the first line
        not read. Raises like `feed`.

        Text deltas in a row make one `Text` (its `count` says how many): an event per delta
        through the run, the relay and the socket cost the proxy more than the rest of a delta's
        path. Not when a limiter counts the text (its estimate goes by delta) or the answer is
        structured output: then each line goes through `feed` alone.
        """
        end = len(lines)
        if self.stop is not None or self.structured or self.limiter.active:
            i = start
            events: list[RunEvent] = []
            while i < end:
                events += self.feed(lines[i])
                i += 1
                if self.stop is not None:
                    break
            return events, i
        out: list[RunEvent] = []
        deltas: list[str] = []
        text_delta_text = L.text_delta_text
        i = start
        while i < end:
            line = lines[i]
            i += 1
            delta = text_delta_text(line)
            if delta is not None:
                deltas.append(delta)
                continue
            if deltas:
                self._text_deltas(deltas, out)
                deltas = []
            out += self.feed(line)
            if self.stop is not None:
                break
        if deltas:
            self._text_deltas(deltas, out)
        return out, i

    def feed(self, line: str) -> list[RunEvent]:
        """The events one stdout line makes. Raises the run's error when the line is fatal."""
        delta = L.text_delta_text(line)
        if delta is not None:  # nearly every line of an answer: no record, no type dispatch
            events: list[RunEvent] = []
            if not self.structured:
                self._text_delta(delta, events)
            return events
        if line.startswith(_ASSISTANT) and '"error"' not in line:
            # The model's message again, whole (MBs for a big answer): only an error in it
            # matters here, and its key would be there. Inside a string it is escaped (\").
            return []
        parsed = L.parse_json_line(line)  # not a delta by the shortcut: `parse_line` would try it again
        kind = type(parsed)
        out: list[RunEvent] = []
        if kind is L.TextDelta:
            if not self.structured:  # prose around the StructuredOutput call; the answer is the JSON
                self._text_delta(parsed.text, out)
        elif kind is L.ThinkingDelta:
            if parsed.text:
                out.append(Thinking(parsed.text))
        elif kind is L.MessageStart:
            self._message_start(parsed, out)
        elif kind is L.BlockStart:
            started = self.calls.block_start(parsed.index, parsed.tool_id, parsed.tool_name)
            if started:
                self._release_held(out)  # text before the calls comes first
                out.append(started)
        elif kind is L.ToolInputDelta:
            piece = self.calls.arguments(parsed.index, parsed.partial_json)
            if piece:
                out.append(piece)
        elif kind is L.BlockStop:
            piece = self.calls.block_stop(parsed.index)
            if piece:
                out.append(piece)
        elif kind is L.MessageDelta:
            self._aborted_message = parsed.stop_reason is None
            self._last_stop_reason = parsed.stop_reason
            self._message_usage = {**self._message_usage, **parsed.usage}
            if parsed.stop_reason == "tool_use" and self.calls.has_calls:
                # The client runs its tools. The CLI waits for them; the run is either finished
                # (the CLI stopped) or resumed with the results.
                out.extend(self.calls.close_open())
                self.stop = "tool_calls"
        elif kind is L.AssistantMessage:
            if parsed.error:
                self.facts.error_message = parsed
        elif kind is L.RateLimit:
            if self.facts.rate_limit is None or parsed.status == "rejected":
                self.facts.rate_limit = parsed
            if self.on_upstream is not None:
                self.on_upstream(parsed)
        elif kind is L.ApiRetry:
            if self.on_upstream is not None:
                self.on_upstream(parsed)
        elif kind is L.Result:
            self.facts.result = parsed
            # Text the CLI never streamed (a non-streaming fallback after a failed stream).
            if not self.structured and not parsed.is_error and parsed.result and not self.facts.error_message:
                missing = self._turn.missing_from(parsed.result)
                if self._turn.diverged:
                    out.append(self._turn.restart())
                if missing:
                    self._limited(missing, out)
            self.stop = "result"  # even if that text reached a limit: the run ended on its own
        elif kind is L.Init:
            self.init_model = parsed.model
            if self.tools_offered and parsed.mcp_servers.get(SERVER_NAME) in _MCP_FAILED:
                # Without its tools the model would answer as if the client had none.
                raise outcome.tools_unavailable(parsed.mcp_servers[SERVER_NAME])
        return out

    def _text_delta(self, delta: str, out: list[RunEvent], count: int = 1) -> None:
        """`count`: the deltas `delta` joins (read together, no limiter: see `feed_lines`)."""
        turn = self._turn
        new = turn.add(delta)
        if turn.diverged:
            out.append(turn.restart())
        if new:
            self._limited(new, out, count)

    def _text_deltas(self, deltas: list[str], out: list[RunEvent]) -> None:
        self._text_delta(deltas[0] if len(deltas) == 1 else "".join(deltas), out, len(deltas))

    def _message_start(self, parsed: L.MessageStart, out: list[RunEvent]) -> None:
        turn = self._turn
        if self._aborted_message:
            turn.retry()  # the same turn again: don't send its text twice
        elif turn.message_count:
            # A new turn: after a tool round it is a new paragraph; after the CLI's own
            # "output token limit hit, resume" it goes on mid-sentence.
            sep = turn.next_turn(separate=self._last_stop_reason == "tool_use")
            if sep:
                self._limited(sep, out)
            turn.turn_start = turn.emitted
        self._aborted_message = True
        turn.message_count += 1
        self._message_usage = parsed.usage

    def _limited(self, text: str, out: list[RunEvent], count: int = 1) -> None:
        """Text through the stop/max_tokens limiter; a cut ends the answer."""
        if self.stop is not None:
            return
        limiter = self.limiter
        if not limiter.active:  # no stop sequence, no max_tokens: nothing held or cut
            if text:
                self._turn.emitted += len(text)
                out.append(Text(text, count))
            return
        passed = limiter.feed(text)
        if passed:
            out.append(self._text(passed))
        if limiter.finish_reason:
            self.stop = "output_limit"

    def _release_held(self, out: list[RunEvent]) -> None:
        """What the limiter still holds back (a possible start of a stop sequence), released."""
        tail = self.limiter.flush()
        if tail:
            out.append(self._text(tail))

    def _text(self, text: str) -> Text:
        self._turn.emitted += len(text)  # counted, for a restart
        return Text(text)

    # -- ends ------------------------------------------------------------------------------

    def tool_calls_done(self) -> Done:
        """Stopped at the model's tool calls: no result line, so usage comes from the message."""
        self._reported_usage = _added(self._reported_usage, self._message_usage)
        return Done("tool_calls", usage_from_cli(self._message_usage), self.init_model, tool_calls=tuple(self.calls.calls))

    def cut_done(self) -> Done:
        """Cut by `stop` or `max_tokens`: the CLI is stopped, so usage is partly estimated."""
        usage = usage_from_cli(self._message_usage, completion_override=self.limiter.tokens or estimate_tokens(""))
        return Done(self.limiter.finish_reason or "stop", usage, self.init_model, stop_sequence=self.limiter.matched)

    def judge(self, *, now: float | None = None) -> tuple[list[RunEvent], Done]:
        """Judge the run once its stdout ended or its result came (fill `facts` first: exit
        code, stderr tail, a watchdog's timeout). Raises the run's error; else the last events
        (structured output, held text) and the `Done`."""
        error = failure(self.facts, now=now)
        if error is not None:
            raise error
        out: list[RunEvent] = []
        if self.structured:
            out.append(self._structured_text())
        self._release_held(out)
        return out, self._done()

    def _structured_text(self) -> Text:
        result = self.facts.result
        assert result is not None
        if result.structured_output is None:
            raise outcome.structured_output_missing()
        return Text(json.dumps(result.structured_output, ensure_ascii=False, separators=(",", ":")))

    def _done(self) -> Done:
        result = self.facts.result
        assert result is not None
        if self.limiter.finish_reason:
            finish_reason = self.limiter.finish_reason
        elif self.facts.error_message and self.facts.error_message.error == "max_output_tokens":
            finish_reason = "length"
        elif result.stop_reason == "max_tokens":
            finish_reason = "length"
        else:
            finish_reason = "stop"
        if self._reported_usage:  # a resumed run: this request's share only (cost cannot be split)
            usage = usage_from_cli(_subtracted(result.usage, self._reported_usage))
        else:
            cost = result.total_cost_usd
            if cost is not None and self._cost_before:
                cost = max(0.0, cost - self._cost_before)  # a later turn of a kept CLI: its own share
            usage = usage_from_cli(result.usage, cost)
        return Done(finish_reason, usage, self.init_model, result.structured_output, stop_sequence=self.limiter.matched)

    def next_turn(self, limiter: OutputLimiter) -> None:
        """The CLI answered a turn (its result line) and was kept: the conversation's next
        request is a new turn of the same process, judged on its own result."""
        result = self.facts.result
        if result is not None and result.total_cost_usd is not None:
            self._cost_before = result.total_cost_usd
        self.facts = RunFacts()
        self._reported_usage = {}
        self.resume(limiter)

    def resume(self, limiter: OutputLimiter) -> ToolCallCollector:
        """A new request goes on with this run after its tool calls: a new answer from here on.
        Returns the finished calls' collector (the run answers them, and the dropped ones)."""
        answered = self.calls
        self.limiter = limiter
        self.calls = ToolCallCollector(answered.parallel)
        self.stop = None
        self._turn = TurnText()
        self._aborted_message, self._last_stop_reason = False, None
        return answered


def _added(a: dict, b: dict) -> dict:
    return {key: int(a.get(key) or 0) + int(b.get(key) or 0) for key in _COUNTS}


def _subtracted(a: dict, b: dict) -> dict:
    return {key: max(0, int(a.get(key) or 0) - int(b.get(key) or 0)) for key in _COUNTS}

