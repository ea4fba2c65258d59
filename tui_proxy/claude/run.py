"""One request's CLI run: from a rendered prompt to a stream of output events.

The run knows the CLI and nothing of HTTP: both API faces consume `CliRun.events()`:
`Text`, `Thinking` and client tool-call pieces (`ToolCallStarted`, `ToolCallArguments`)
as the model writes them, then one `Done`; a failure raises the `ProxyError` that
`outcome.failure` chose. `finish()` always runs after, and reaps the child.

Client tools: the run serves them on its own loopback MCP endpoint and hands the CLI a
private `--mcp-config`. When the model's message ends with client tool calls, `events()`
ends with `Done(finish_reason="tool_calls")` while the CLI waits for the results. The
run is then either finished (the CLI is stopped; the client's next request starts a new
run with the transcript) or parked (`tools.parking`) and `resume()`d by the client's next
request: its tool results answer the waiting calls and `events()` goes on with the same
CLI (README, "Client tools").
Structured output: with `--json-schema` the answer is the result line's validated
`structured_output`, sent as one text piece; the model's prose around it is not the answer.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import time
from dataclasses import dataclass, replace
from typing import AsyncIterator, Mapping

from ..events import CliExited, CliSpawned, CliStderr, CliStdout, TokenDelta, ToolCallsRequested
from ..exchange import Exchange
from ..conversation import ToolCall
from ..output_limits import OutputLimiter, estimate_tokens
from ..tools.bridge import CALL_TIMEOUT, ToolServer
from ..tools.choice import ToolPlan
from ..tools.mcp_config import write_mcp_config
from ..tools.names import SERVER_NAME
from ..tools.stream_calls import ToolCallCollector
from . import lines as L
from .argv import RunOptions, build_argv, build_env, check_argv_size
from . import outcome
from .outcome import RunFacts, cli_not_found, failure
from .process import CliProcess
from .run_dir import make_run_dir
from .run_events import Done, RunEvent, Text, Thinking
from .turn_text import TurnText
from .prompt import CliPrompt
from .usage import usage_from_cli


@dataclass(frozen=True, slots=True)
class RunSettings:
    """Engine-wide settings every run shares."""

    cli_path: str
    inherited_env: Mapping[str, str]
    #: Private (0700) folder under which each run gets its own cwd and TMPDIR.
    runs_dir: str
    first_output_timeout: float
    idle_timeout: float
    total_timeout: float
    #: How long a CLI may linger after its result line before it is stopped.
    exit_grace: float = 2.0
    kill_grace: float = 2.0


class CliRun:
    def __init__(
        self,
        settings: RunSettings,
        exchange: Exchange,
        prompt: CliPrompt,
        options: RunOptions,
        limiter: OutputLimiter | None = None,
        tools: ToolPlan | None = None,
    ) -> None:
        self.settings = settings
        self.exchange = exchange
        self.prompt = prompt
        self.options = options
        self.limiter = limiter or OutputLimiter()
        self.tools = tools or ToolPlan()
        self.tool_calls = ToolCallCollector(self.tools.parallel)
        self._tool_server: ToolServer | None = None
        self._events: AsyncIterator[RunEvent] | None = None
        #: Stopped at tool calls, waiting for the client's results (no idle timeout then).
        self.awaiting_tools = False
        #: Usage already reported to an earlier request of this run (CLI counts sum all calls).
        self._reported_usage: dict = {}
        self.facts = RunFacts()
        self.process: CliProcess | None = None
        self._run_dir: str | None = None
        self._last_output: float | None = None
        self._spawned_at = 0.0
        self._request_started = 0.0  # the total timeout counts per request, resumed ones too
        self._stop_reason: str | None = None
        self._finished = False
        self._message_usage: dict = {}
        self._init_model: str | None = None

    # -- the run -------------------------------------------------------------------------

    def events(self) -> AsyncIterator[RunEvent]:
        """The output up to the next `Done`: the whole answer, or up to the tool calls."""
        if self._events is None:
            self._events = self._run()
        return _until_done(self._events)

    async def _run(self) -> AsyncIterator[RunEvent]:
        exchange = self.exchange
        self._run_dir = await asyncio.to_thread(make_run_dir, self.settings.runs_dir, self.prompt.system_prompt)
        options = self.options
        if self.prompt.system_prompt is not None:
            options = _with_prompt_file(options, os.path.join(self._run_dir, "system-prompt.txt"))
        if self.tools.offered:
            options = await self._offer_tools(options)
        argv = build_argv(self.settings.cli_path, options)
        check_argv_size(argv)
        env = build_env(self.settings.inherited_env, tmpdir=os.path.join(self._run_dir, "tmp"), mcp_tool_timeout=CALL_TIMEOUT if self.tools.offered else None)
        stdin = self.prompt.stdin_line()
        process = CliProcess(argv, env=env, cwd=os.path.join(self._run_dir, "cwd"), on_stderr=self._on_stderr)
        try:
            await process.start()
        except OSError as exc:
            raise cli_not_found(self.settings.cli_path, exc.strerror or str(exc)) from None
        self.process = process
        self._spawned_at = self._request_started = time.monotonic()
        exchange.on_kill = self.kill
        exchange.publish(CliSpawned, argv=tuple(argv), pid=process.pid or 0, stdin=stdin, cwd=process.cwd, system_prompt=self.prompt.system_prompt)
        watchdog = asyncio.ensure_future(self._watchdog())
        try:
            await process.send(stdin.encode())
            async for event in self._read(process):
                yield event
        finally:
            watchdog.cancel()

    async def _read(self, process: CliProcess) -> AsyncIterator[RunEvent]:
        exchange = self.exchange
        facts = self.facts
        limiter = self.limiter
        publish = exchange.publish
        turn = TurnText()
        aborted_message = False  # the last message ended without a stop reason: a retry follows
        last_stop_reason: str | None = None
        structured = bool(self.options.json_schema)
        calls = self.tool_calls
        async for raw in process.stdout_lines():
            self._last_output = time.monotonic()
            line = raw.decode("utf-8", "replace")
            publish(CliStdout, line=line)
            parsed = L.parse_line(line)
            kind = type(parsed)
            if kind is L.TextDelta:
                if structured:
                    continue  # prose around the StructuredOutput call; the answer is the JSON
                new = turn.add(parsed.text)
                if turn.diverged:
                    yield turn.restart()
                if new:
                    text = limiter.feed(new)
                    if text:
                        yield self._text_out(text, turn)
                    if limiter.finish_reason:
                        self._stop_reason = "output_limit"
                        yield self._done_early()
                        return
            elif kind is L.ThinkingDelta:
                if parsed.text:
                    exchange.mark_first_token()
                    publish(TokenDelta, kind="thinking", text=parsed.text)
                    yield Thinking(parsed.text)
            elif kind is L.MessageStart:
                if aborted_message:
                    turn.retry()  # the same turn again: don't send its text twice
                elif turn.message_count:
                    # A new turn: after a tool round it is a new paragraph; after the CLI's
                    # own "output token limit hit, resume" it goes on mid-sentence.
                    sep = turn.next_turn(separate=last_stop_reason == "tool_use")
                    if sep:
                        text = limiter.feed(sep)
                        if text:
                            yield self._text_out(text, turn)
                    turn.turn_start = turn.emitted
                aborted_message = True
                turn.message_count += 1
                self._message_usage = parsed.usage
            elif kind is L.BlockStart:
                started = calls.block_start(parsed.index, parsed.tool_id, parsed.tool_name)
                if started:
                    held = self._held_text(limiter, turn)  # text before the calls comes first
                    if held:
                        yield held
                    exchange.mark_first_token()
                    yield started
            elif kind is L.ToolInputDelta:
                piece = calls.arguments(parsed.index, parsed.partial_json)
                if piece:
                    yield piece
            elif kind is L.BlockStop:
                piece = calls.block_stop(parsed.index)
                if piece:
                    yield piece
            elif kind is L.MessageDelta:
                aborted_message = parsed.stop_reason is None
                last_stop_reason = parsed.stop_reason
                self._message_usage = {**self._message_usage, **parsed.usage}
                if parsed.stop_reason == "tool_use" and calls.has_calls:
                    # The client runs its tools. The CLI waits for them; the consumer either
                    # finishes this run (the CLI is stopped) or resumes it with the results.
                    for piece in calls.finish():
                        yield piece
                    self.awaiting_tools = True
                    yield self._done_with_tool_calls()
                    # Resumed (see resume()): a new request, a new answer from here on.
                    exchange, limiter, calls = self.exchange, self.limiter, self.tool_calls
                    publish = exchange.publish
                    turn = TurnText()
                    aborted_message, last_stop_reason = False, None
            elif kind is L.AssistantMessage:
                if parsed.error:
                    facts.error_message = parsed
            elif kind is L.RateLimit:
                if facts.rate_limit is None or parsed.status == "rejected":
                    facts.rate_limit = parsed
            elif kind is L.Result:
                facts.result = parsed
                # Text the CLI never streamed (a non-streaming fallback after a failed stream).
                if not structured and not parsed.is_error and parsed.result and not facts.error_message:
                    missing = turn.missing_from(parsed.result)
                    if turn.diverged:
                        yield turn.restart()
                    if missing:
                        text = limiter.feed(missing)
                        if text:
                            yield self._text_out(text, turn)
                break
            elif kind is L.Init:
                self._init_model = parsed.model
                if self.tools.offered and parsed.mcp_servers.get(SERVER_NAME) in _MCP_FAILED:
                    # Without its tools the model would answer as if the client had none.
                    self._stop_reason = "tool_server_failed"
                    raise outcome.tools_unavailable(parsed.mcp_servers[SERVER_NAME])

        # stdout ended (or the result came): judge the run.
        if facts.result is None:
            facts.returncode = await self._wait_exit()
        facts.stderr_tail = process.stderr_tail()
        if self._stop_reason in ("killed", "shutdown", "disconnect"):
            raise outcome.stopped(self._stop_reason)
        if self._stop_reason in ("first_output", "idle", "total"):
            facts.timed_out = self._stop_reason
            facts.timeout_seconds = self._timeout_for(self._stop_reason)
        error = failure(facts)
        if error is not None:
            raise error
        if structured:
            yield self._structured_text()
        held = self._held_text(limiter, turn)
        if held:
            yield held
        yield self._done()

    def _held_text(self, limiter: OutputLimiter, turn: TurnText) -> Text | None:
        """What the limiter still holds back (a possible start of a stop sequence), released."""
        tail = limiter.flush()
        return self._text_out(tail, turn) if tail else None

    def _text_out(self, text: str, turn: TurnText) -> Text:
        """Answer text passed on: counted (for a restart), timed, shown to subscribers."""
        turn.emitted += len(text)
        self.exchange.mark_first_token()
        self.exchange.publish(TokenDelta, kind="text", text=text)
        return Text(text)

    def _done(self) -> Done:
        result = self.facts.result
        assert result is not None
        if self.limiter.finish_reason:
            finish = self.limiter.finish_reason
        elif self.facts.error_message and self.facts.error_message.error == "max_output_tokens":
            finish = "length"
        elif result.stop_reason == "max_tokens":
            finish = "length"
        else:
            finish = "stop"
        if self._reported_usage:  # a resumed run: this request's share only (cost cannot be split)
            usage = usage_from_cli(_subtracted(result.usage, self._reported_usage))
        else:
            usage = usage_from_cli(result.usage, result.total_cost_usd)
        return Done(finish, usage, self._init_model, result.structured_output)

    def _structured_text(self) -> Text:
        result = self.facts.result
        assert result is not None
        if result.structured_output is None:
            raise outcome.structured_output_missing()
        text = json.dumps(result.structured_output, ensure_ascii=False, separators=(",", ":"))
        self.exchange.mark_first_token()
        self.exchange.publish(TokenDelta, kind="text", text=text)
        return Text(text)

    def _done_with_tool_calls(self) -> Done:
        """Stopped at the model's tool calls: no result line, so usage comes from the message."""
        self._reported_usage = _added(self._reported_usage, self._message_usage)
        usage = usage_from_cli(self._message_usage)
        calls = tuple(self.tool_calls.calls)
        self.exchange.publish(ToolCallsRequested, calls=tuple((c.id, c.name, c.arguments) for c in calls))
        return Done("tool_calls", usage, self._init_model, tool_calls=calls)

    def resume(self, exchange: Exchange, limiter: OutputLimiter, results: dict[str, tuple[str, bool]]) -> None:
        """Go on for the client's next request: its tool results (by call id: text, is_error)
        answer the calls the CLI is waiting on; calls the client never saw get an error."""
        assert self.awaiting_tools and self._tool_server is not None and self.process is not None
        self.exchange, self.limiter = exchange, limiter
        calls = self.tool_calls
        for call in calls.calls:
            text, is_error = results[call.id]
            self._tool_server.provide(call.name, _arguments(call), text, is_error=is_error)
        for call in calls.dropped:
            self._tool_server.provide(call.name, _arguments(call), "Not run: call one tool at a time.", is_error=True)
        self.tool_calls = ToolCallCollector(self.tools.parallel)
        self.awaiting_tools = False
        self._last_output = self._request_started = time.monotonic()
        exchange.on_kill = self.kill
        exchange.publish(CliSpawned, argv=tuple(self.process.argv), pid=self.process.pid or 0, stdin="", cwd=self.process.cwd, system_prompt=self.prompt.system_prompt)

    def _done_early(self) -> Done:
        """Cut by `stop` or `max_tokens`: the CLI is stopped, so usage is partly estimated."""
        usage = usage_from_cli(self._message_usage, completion_override=self.limiter.tokens or estimate_tokens(""))
        return Done(self.limiter.finish_reason or "stop", usage, self._init_model)

    # -- ending --------------------------------------------------------------------------

    def kill(self, reason: str) -> None:
        """End the run now (console kill, shutdown, client gone): the reader sees EOF."""
        if self._stop_reason is None:
            self._stop_reason = reason
        if self.process is not None:
            asyncio.ensure_future(self.process.stop(reason, grace=self.settings.kill_grace))

    async def finish(self) -> None:
        """Reap the child and remove the run's folder. Always awaited, exactly once is enough."""
        if self._finished:
            return
        self._finished = True
        process = self.process
        if self.awaiting_tools and self._stop_reason is None:
            self._stop_reason = "tool_calls"
        try:
            if process is not None:
                if process.returncode is None:
                    if self.facts.result is not None and self._stop_reason is None:
                        # It answered; give it a moment to exit on its own (some builds never do).
                        try:
                            await asyncio.wait_for(asyncio.shield(process.wait()), self.settings.exit_grace)
                        except asyncio.TimeoutError:
                            self._stop_reason = "no_exit_after_result"
                    await process.stop(self._stop_reason or "disconnect", grace=self.settings.kill_grace)
                code = await process.wait()
                self.exchange.publish(CliExited, returncode=code, killed_because=process.stopped_because)
        finally:
            if self._events is not None:
                try:
                    await self._events.aclose()
                except RuntimeError:
                    pass  # still running: it ends on its own now that the child is gone
            if self._tool_server is not None:
                await self._tool_server.stop()
            if self._run_dir:
                await asyncio.to_thread(shutil.rmtree, self._run_dir, True)

    async def _offer_tools(self, options: RunOptions) -> RunOptions:
        assert self._run_dir
        self._tool_server = ToolServer(self.tools.offered)
        await self._tool_server.start()
        path = await asyncio.to_thread(write_mcp_config, os.path.join(self._run_dir, "mcp-config.json"), self._tool_server)
        return replace(options, mcp_config=path, allowed_tools=self.tools.allowed_tools)

    async def _wait_exit(self) -> int | None:
        assert self.process
        try:
            return await asyncio.wait_for(asyncio.shield(self.process.wait()), self.settings.exit_grace)
        except asyncio.TimeoutError:
            return None

    async def _watchdog(self) -> None:
        s = self.settings
        while True:
            await asyncio.sleep(0.25)
            now = time.monotonic()
            if self.awaiting_tools:
                continue  # the client is running its tools; the parking decides how long
            if self._last_output is None:
                if now - self._spawned_at > s.first_output_timeout:
                    return self.kill("first_output")
            elif now - self._last_output > s.idle_timeout:
                return self.kill("idle")
            if now - self._request_started > s.total_timeout:
                return self.kill("total")

    def _timeout_for(self, reason: str) -> float:
        s = self.settings
        return {"first_output": s.first_output_timeout, "idle": s.idle_timeout, "total": s.total_timeout}[reason]

    def _on_stderr(self, text: str) -> None:
        self.exchange.publish(CliStderr, text=text)


async def _until_done(events: AsyncIterator[RunEvent]) -> AsyncIterator[RunEvent]:
    """`events` up to and including the next Done. Closing this leaves `events` open."""
    while True:
        try:
            event = await events.__anext__()
        except StopAsyncIteration:
            return
        yield event
        if type(event) is Done:
            return


def _arguments(call: ToolCall) -> object:
    try:
        return json.loads(call.arguments)
    except ValueError:
        return call.arguments


_COUNTS = ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens", "output_tokens")


def _added(a: dict, b: dict) -> dict:
    return {key: int(a.get(key) or 0) + int(b.get(key) or 0) for key in _COUNTS}


def _subtracted(a: dict, b: dict) -> dict:
    return {key: max(0, int(a.get(key) or 0) - int(b.get(key) or 0)) for key in _COUNTS}


#: Init statuses of an MCP server the CLI could not use.
_MCP_FAILED = frozenset({"failed", "needs-auth"})


def _with_prompt_file(options: RunOptions, path: str) -> RunOptions:
    return replace(options, system_prompt_file=path)


