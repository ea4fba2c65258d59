"""One CLI run: a child process from spawn to reap, answering one request (or several, when it
goes on after client tool calls).

A run is prepared (its folder made, its child spawned, waiting on stdin) before or when its
request arrives, then attached to that request's exchange: from then on its events go to that
exchange and its first-output clock runs. `events()` hands the prompt to the CLI and yields what
the reader (`claude/reader.py`, no I/O) makes of its stdout: `Text`, `Thinking`, `Restart`,
tool-call pieces, then one `Done`; a failure raises the `ProxyError` that `outcome` chose.
`finish()` always runs after, and reaps the child. Every live run is owned by `runs.Runs`.

The conversation: written by `prepare()` into a new session file the CLI resumes (the history as
native messages, so the prompt cache reads it back: `session_file.py`), removed by `finish()`
once the child has exited. A history the file cannot express goes as a transcript on stdin; a
CLI that cannot resume the file is replaced, before any output, by a transcript run in the same
folder. Each run says which it was (`HistorySent`).

A CLI started ahead of its request (runs/pool.py) is `adopt()`ed instead of spawned: its model
and system prompt go first on stdin as control requests. A run that keeps its stdin open (a
plain conversation, runs/warm.py) answers its turn at the result line and may then
`continue_turn()` with the conversation's next user message.

Client tools: the run serves them on its own loopback MCP endpoint and hands the CLI a private
`--mcp-config`. When the model's message ends with client tool calls, `events()` ends with
`Done(finish_reason="tool_calls")` while the CLI waits for the results; the run is then either
finished or parked (`runs/parked.py`) and `resume()`d by the client's next request.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import time
from dataclasses import dataclass, replace
from typing import AsyncIterator, Mapping

from ..errors import ProxyError
from ..events import CliContinued, CliExited, CliSpawned, CliStderr, CliStdout, HistorySent, QuotaReported, TokenDelta, ToolCallsRequested, UpstreamRetry
from ..exchange import Exchange
from ..ids import new_uuid
from ..conversation import ToolCall
from ..tools.bridge import CALL_TIMEOUT, ToolServer
from ..tools.mcp_config import write_mcp_config
from ..tools.stream_calls import ToolCallStarted
from . import outcome
from .argv import RunOptions, build_argv, build_env, check_argv_size
from .history import NotNative
from .lines import ApiRetry, RateLimit
from .output_limits import OutputLimiter
from .plan import RunPlan
from .process import CliProcess
from .reader import RunReader
from .run_dir import SYSTEM_PROMPT_FILE, RunFolders, make_run_dir, write_system_prompt
from .run_events import Done, RunEvent, Text, Thinking
from .session_file import CliContext, SessionFile, appended_records, remove_session_file, session_records, today, write_session_file


#: Seconds between two looks of a run's watchdog at its timeouts.
WATCH_EVERY = 0.25
#: Files up to this size are written on the event loop (a thread hop costs more); bigger ones
#: are written off it.
INLINE_WRITE_CHARS = 64 * 1024


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
    #: The one working directory of every run (claude/workdir.py); None: one per run.
    workdir: str | None = None
    #: Where the CLI looks for the session files of runs in `workdir`; None: no history is
    #: sent natively (every earlier turn goes in a transcript).
    sessions_dir: str | None = None
    #: What the CLI says of its environment and models (learnt from its own records).
    context: CliContext | None = None
    #: Ready run folders, emptied and deleted off the event loop; None: each run makes its
    #: own folder and deletes it (through a thread).
    folders: RunFolders | None = None


class CliRun:
    def __init__(self, settings: RunSettings, plan: RunPlan, run_id: str) -> None:
        self.id = run_id
        self.settings = settings
        self.plan = plan
        self.reader = self._new_reader()
        #: The exchange this run answers now (None until attached).
        self.exchange: Exchange | None = None
        self.process: CliProcess | None = None
        #: Stopped at tool calls, waiting for the client's results (no idle timeout then).
        self.awaiting_tools = False
        #: Keep stdin open so that the CLI can answer the conversation's next turn (runs/warm.py);
        #: decided before `events()`. A resumed session file's last record is answered with
        #: stdin open too (measured on 2.1.328). `warm` while it waits for that turn (no idle
        #: timeout then).
        self.keep_stdin = False
        self.warm = False
        #: Control requests written before the prompt: what a CLI started ahead is told at
        #: request time (its model, its system prompt), see `adopt()`.
        self._control_lines = ""
        self._tool_server: ToolServer | None = None
        self._events: AsyncIterator[RunEvent] | None = None
        self._run_dir: str | None = None
        #: The session file this run resumes (the history as native messages), until removed.
        self._session: SessionFile | None = None
        #: The CLI may append to the session file (we learn its attachments from what it adds).
        self._learning = False
        self._mode, self._mode_reason = "single", ""
        self._fallback = False
        self._options = plan.options
        self._last_output: float | None = None
        self._attached_at = 0.0  # the first-output and total clocks count from here, per request
        self._stop_reason: str | None = None
        self._finished = False
        self._watchdog: asyncio.TimerHandle | None = None
        #: Output read together is published together (`_publish_output`): one `CliStdout` and
        #: one `TokenDelta` per read of stdout, not per line.
        self._stdout: list[str] = []
        self._stdout_at = 0.0
        self._tokens: list[tuple[str, str, int]] = []  # (kind, text, deltas)
        #: While an event is handled: more of what was read together follows at once (the
        #: relay then holds its frames for one write).
        self.more_ready = False

    @property
    def facts(self):
        return self.reader.facts

    def _new_reader(self) -> RunReader:
        plan = self.plan
        return RunReader(plan.limiter(), parallel_tool_calls=plan.tools.parallel, structured=bool(plan.options.json_schema), tools_offered=bool(plan.tools.offered), on_upstream=self._on_upstream)

    def _on_upstream(self, line: RateLimit | ApiRetry) -> None:
        """What the CLI says of its upstream, published as it says it (the console shows a
        retrying request as such, not as queued; the quota holder merges each report)."""
        exchange = self.exchange
        if exchange is None:
            return
        if type(line) is RateLimit:
            exchange.publish(QuotaReported, report=line.report, run_id=self.id)
        else:
            exchange.publish(
                UpstreamRetry,
                attempt=line.attempt,
                max_retries=line.max_retries,
                error_status=line.error_status,
                error=line.error,
                retry_delay_ms=line.retry_delay_ms,
                run_id=self.id,
            )

    # -- start ---------------------------------------------------------------------------

    async def prepare(self) -> None:
        """Make the run's private folder (and its session file) and spawn the CLI, which then
        waits on stdin. Raises the 503 `cli_not_found` when it cannot be executed."""
        settings, system_prompt = self.settings, self.plan.prompt.system_prompt
        folders = settings.folders
        self._run_dir = folders.take() if folders is not None else None
        if self._run_dir is None:  # none ready: make one off the loop (a burst, or no stock)
            self._run_dir = await asyncio.to_thread(make_run_dir, settings.runs_dir, None)
        if system_prompt is not None:
            if len(system_prompt) < INLINE_WRITE_CHARS:
                write_system_prompt(self._run_dir, system_prompt)  # one small file: cheaper than a thread hop
            else:
                await asyncio.to_thread(write_system_prompt, self._run_dir, system_prompt)
        history = self.plan.history
        if isinstance(history, NotNative):
            self._mode, self._mode_reason = "transcript", history.reason
        elif settings.sessions_dir is None:
            self._mode, self._mode_reason = ("single" if len(history) == 1 else "transcript"), "sessions_off"
        else:
            try:
                if _small(history):
                    self._session = self._write_session(history)
                else:
                    self._session = await asyncio.to_thread(self._write_session, history)
                self._mode = "session"
            except OSError as exc:
                self._mode, self._mode_reason = "transcript", f"session_file_unwritable: {exc.strerror or exc}"
        options = self.plan.options
        if system_prompt is not None:
            options = replace(options, system_prompt_file=os.path.join(self._run_dir, SYSTEM_PROMPT_FILE))
        if self.plan.tools.offered:
            options = await self._offer_tools(options)
        self._options = options
        await self._spawn()

    def _write_session(self, messages) -> SessionFile:
        settings, model = self.settings, self.plan.options.model
        context = settings.context or CliContext()
        assert settings.sessions_dir is not None
        self._learning = context.needs_check(model)
        session_id = new_uuid()  # a new one per request: nothing is shared between requests
        identity = context.models.get(model, {}).get("identity", {})
        records = session_records(
            messages,
            session_id=session_id,
            cwd=self._cwd(),
            model_name=identity.get("modelId") or model,
            attachments=context.attachments(model, today()),
        )
        return write_session_file(settings.sessions_dir, session_id, records)

    def _cwd(self) -> str:
        assert self._run_dir
        return self.settings.workdir or os.path.join(self._run_dir, "cwd")

    async def _spawn(self) -> None:
        assert self._run_dir
        tools = self.plan.tools
        session = self._session
        argv = build_argv(self.settings.cli_path, self._options, resume=session.session_id if session else None, persist_session=self._learning and session is not None)
        check_argv_size(argv)  # a 400 naming `tools`, not the spawn's E2BIG
        env = build_env(
            self.settings.inherited_env,
            tmpdir=os.path.join(self._run_dir, "tmp"),
            mcp_tool_timeout=CALL_TIMEOUT if tools.offered else None,
            resume=session is not None,
        )
        process = CliProcess(argv, env=env, cwd=self._cwd(), on_stderr=self._on_stderr)
        try:
            try:
                await process.start()
            except FileNotFoundError:
                workdir = self.settings.workdir
                if not workdir or os.path.isdir(workdir):
                    raise
                # Gone with a deleted data folder: made again, once (not looked for at every spawn).
                await asyncio.to_thread(os.makedirs, workdir, 0o700, True)
                await process.start()
        except OSError as exc:
            raise outcome.cli_not_found(self.settings.cli_path, exc.strerror or str(exc)) from None
        self.process = process

    def _stdin(self) -> str:
        # A resumed run gets no line: the message to answer is the session file's last record.
        return self._control_lines + ("" if self._session is not None else self.plan.prompt.stdin_line())

    @property
    def _stdin_kept(self) -> bool:
        return self.keep_stdin

    def adopt(self, process: CliProcess, run_dir: str) -> None:
        """Take a CLI started ahead of its request (runs/pool.py) instead of spawning one. It
        was started without a model or a system prompt: both are given through the control
        protocol, before the prompt (docs/warm-start.md: byte-identical upstream requests)."""
        assert self.process is None
        self.process, self._run_dir = process, run_dir
        process.listen_stderr(self._on_stderr)
        lines = []
        if self.plan.prompt.system_prompt is not None:
            lines.append(_control(f"{self.id}-initialize", {"subtype": "initialize", "systemPrompt": self.plan.prompt.system_prompt}))
        lines.append(_control(f"{self.id}-model", {"subtype": "set_model", "model": self.plan.options.model}))
        self._control_lines = "".join(lines)

    def _announce(self) -> None:
        assert self.process is not None and self.exchange is not None
        self.exchange.publish(
            CliSpawned,
            argv=tuple(self.process.argv),
            pid=self.process.pid or 0,
            stdin=self._stdin(),
            cwd=self.process.cwd,
            system_prompt=self.plan.prompt.system_prompt,
            run_id=self.id,
        )
        history = self.plan.history
        messages = 0 if isinstance(history, NotNative) else len(history)
        self.exchange.publish(HistorySent, mode=self._mode, messages=messages, reason=self._mode_reason, fallback=self._fallback, run_id=self.id)

    def attach(self, exchange: Exchange) -> None:
        """Answer `exchange` from now on: its clocks start, it hears of the run."""
        assert self.process is not None, "prepare() first"
        self.exchange = exchange
        self._attached_at = time.monotonic()
        self._announce()
        self._watchdog = asyncio.get_running_loop().call_later(WATCH_EVERY, self._watch)

    async def continue_turn(self, exchange: Exchange, plan: RunPlan, stdin_line: str) -> None:
        """Answer the conversation's next turn with this kept CLI: one user line on its open
        stdin (it holds the whole conversation so far, natively, with its prompt cache)."""
        assert self.warm and self.process is not None and self.exchange is not None
        previous, self.exchange = self.exchange, exchange
        self.plan = plan
        self.reader.next_turn(plan.limiter())
        self.warm = False
        self._last_output, self._attached_at = None, time.monotonic()
        exchange.publish(CliContinued, run_id=self.id, pid=self.process.pid or 0, previous_exchange_id=previous.id, stdin=stdin_line)
        await self.process.send(stdin_line.encode(), close=False)

    def resume(self, exchange: Exchange, limiter: OutputLimiter, results: dict[str, tuple[str, bool]]) -> None:
        """Go on for the client's next request: its tool results (by call id: text, is_error)
        answer the calls the CLI is waiting on; calls the client never saw get an error."""
        assert self.awaiting_tools and self._tool_server is not None and self.process is not None and self.exchange is not None
        previous, self.exchange = self.exchange, exchange
        answered = self.reader.resume(limiter)
        for call in answered.calls:
            text, is_error = results[call.id]
            self._tool_server.provide(call.name, _arguments(call), text, is_error=is_error)
        for call in answered.dropped:
            self._tool_server.provide(call.name, _arguments(call), "Not run: call one tool at a time.", is_error=True)
        self.awaiting_tools = False
        self._last_output = self._attached_at = time.monotonic()
        exchange.publish(CliContinued, run_id=self.id, pid=self.process.pid or 0, previous_exchange_id=previous.id)

    # -- the answer ----------------------------------------------------------------------

    def events(self) -> AsyncIterator[RunEvent]:
        """The output up to the next `Done`: the whole answer, or up to the tool calls."""
        if self._events is None:
            self._events = self._run()
        return _until_done(self._events)

    async def _run(self) -> AsyncIterator[RunEvent]:
        assert self.process is not None and self.exchange is not None, "prepare() and attach() first"
        while True:
            process = self.process
            await process.send(self._stdin().encode(), close=not self._stdin_kept)
            reader = self.reader
            answered = False  # anything passed on: from then on this child's answer is the answer
            fell_back = False
            ended = False  # the answer ended with this process: no more lines are read
            async for lines in process.stdout_reads():
                self._stdout_at = self.exchange.clock()
                self._last_output = time.monotonic()
                at, count = 0, len(lines)
                while at < count:
                    try:
                        events, read_to = reader.feed_lines(lines, at)
                    except ProxyError:  # the CLI could not reach the run's tool endpoint
                        self._stdout += lines[at:]  # what it wrote is captured, the failing line too
                        self._stop_reason = "tool_server_failed"
                        raise
                    self._stdout += lines if at == 0 and read_to == count else lines[at:read_to]
                    at = read_to
                    stop = reader.stop
                    last = len(events) - 1
                    for i, event in enumerate(events):
                        answered = True
                        self.more_ready = i < last
                        yield self._passed_on(event)
                    self.more_ready = False
                    self._publish_output()  # the end of what was read together, or of the answer
                    if stop == "output_limit":
                        self._stop_reason = "output_limit"
                        yield reader.cut_done()
                        return
                    if stop == "tool_calls":
                        self.awaiting_tools = True
                        yield self._tool_calls_done()
                        # Resumed (see resume()): a new request, a new answer from here on.
                        answered = True
                        continue
                    if stop == "result":
                        if self._learning and self._session is not None:
                            await self._learn(self._session)  # before the next turn can be planned
                        if not self._stdin_kept:
                            ended = True
                            break
                        why = _resume_failure(reader.facts) if self._session is not None and not answered else None
                        if why is not None:  # it could not resume the session file: a transcript run
                            await self._fall_back(why)
                            fell_back = ended = True
                            break
                        # A CLI kept for its conversation's next turn does not exit: judge this turn now.
                        reader.facts.stderr_tail = process.stderr_tail()
                        last_events, done = reader.judge()
                        for event in last_events:
                            yield self._passed_on(event)
                        self._publish_output()
                        self.warm = True
                        yield done
                        # Continued (see continue_turn()): the next turn's lines follow.
                if ended:
                    break
            if fell_back:
                continue
            # stdout ended (or the result came): judge the run.
            facts = reader.facts
            if facts.result is None:
                facts.returncode = await self._wait_exit()
            facts.stderr_tail = process.stderr_tail()
            if self._stop_reason in ("killed", "shutdown", "disconnect"):
                raise outcome.stopped(self._stop_reason)
            if self._stop_reason in ("first_output", "idle", "total"):
                facts.timed_out = self._stop_reason
                facts.timeout_seconds = self._timeout_for(self._stop_reason)
            elif self._session is not None and not answered:
                why = _resume_failure(facts)
                if why is not None:
                    await self._fall_back(why)
                    continue
            last, done = reader.judge()
            for event in last:
                yield self._passed_on(event)
            self._publish_output()
            yield done
            return

    async def _fall_back(self, why: str) -> None:
        """The CLI could not resume the session file: answer with a transcript run instead,
        in the same run folder, and say so (`HistorySent(fallback=True)`)."""
        old = self.process
        assert old is not None and self.exchange is not None
        code = await old.stop("resume_failed", grace=self.settings.kill_grace)
        self.exchange.publish(CliExited, returncode=code, killed_because=None, run_id=self.id)
        await self._forget_session()
        self._mode, self._mode_reason, self._fallback = "transcript", f"resume_failed: {why}", True
        self.reader = self._new_reader()
        await self._spawn()
        self._last_output = None
        self._attached_at = time.monotonic()
        self._announce()

    async def _learn(self, session: SessionFile) -> None:
        """Take the environment and model attachments the CLI appended (it writes them before
        its API call); later runs then write them themselves and the prefix holds."""
        context = self.settings.context
        if context is not None:
            model = self.plan.options.model
            await asyncio.to_thread(lambda: context.learn(model, appended_records(session)))
            self._learning = context.needs_check(model)

    async def _forget_session(self) -> None:
        """After the child exited: learn what the CLI appended (if it could), remove the file
        and any folder the CLI kept beside it."""
        session, self._session = self._session, None
        if session is None:
            return
        context = self.settings.context
        folders = self.settings.folders
        if folders is not None and not (self._learning and context is not None):
            folders.remove(session.path)  # off the loop, in a batch: deleting costs ms on ext4
            folders.remove(session.path[: -len(".jsonl")])
            return

        def forget() -> None:
            if self._learning and context is not None:
                context.learn(self.plan.options.model, appended_records(session))
            remove_session_file(session)
            shutil.rmtree(session.path[: -len(".jsonl")], ignore_errors=True)

        await asyncio.to_thread(forget)

    def _passed_on(self, event: RunEvent) -> RunEvent:
        """Model output is timed and shown to subscribers as it passes."""
        kind = type(event)
        if kind is Text or kind is Thinking:
            exchange = self.exchange
            assert exchange is not None
            if exchange.first_token is None:
                exchange.mark_first_token()
            self._tokens.append(("text", event.text, event.count) if kind is Text else ("thinking", event.text, 1))
        elif kind is ToolCallStarted:
            self.exchange.mark_first_token()  # type: ignore[union-attr]
        return event

    def _publish_output(self) -> None:
        """Publish the stdout lines and model output gathered since the last call: one
        `CliStdout`, and one `TokenDelta` per kind in a row (an event per line and per delta
        cost the proxy more than the rest of a delta's path). Called at the end of each read,
        before each `Done` (the next request may take the run), and by `finish()`."""
        exchange = self.exchange
        assert exchange is not None
        if self._stdout:
            lines, self._stdout = tuple(self._stdout), []
            exchange.bus.publish(CliStdout(exchange_id=exchange.id, at=self._stdout_at, lines=lines, run_id=self.id))
        if self._tokens:
            tokens, self._tokens = self._tokens, []
            start = 0
            for end in range(1, len(tokens) + 1):
                if end == len(tokens) or tokens[end][0] != tokens[start][0]:
                    if end - start == 1:
                        text, count = tokens[start][1], tokens[start][2]
                    else:
                        text, count = "".join([t for _, t, _ in tokens[start:end]]), sum([n for _, _, n in tokens[start:end]])
                    exchange.publish(TokenDelta, kind=tokens[start][0], text=text, count=count)
                    start = end

    def _tool_calls_done(self) -> Done:
        done = self.reader.tool_calls_done()
        self.exchange.publish(ToolCallsRequested, calls=tuple((c.id, c.name, c.arguments) for c in done.tool_calls))  # type: ignore[union-attr]
        return done

    # -- ending --------------------------------------------------------------------------

    def kill(self, reason: str) -> None:
        """End the run now (console kill, shutdown, client gone): the reader sees EOF."""
        if self._stop_reason is None:
            self._stop_reason = reason
        if self.process is not None:
            asyncio.ensure_future(self.process.stop(reason, grace=self.settings.kill_grace))

    async def finish(self) -> None:
        """Reap the child and remove the run's folder. Always awaited; once is enough."""
        if self._finished:
            return
        self._finished = True
        process = self.process
        if self.awaiting_tools and self._stop_reason is None:
            self._stop_reason = "tool_calls"
        if self._watchdog is not None:
            self._watchdog.cancel()
        if self.exchange is not None:
            self._publish_output()  # what a failed or cut run read last
        if process is not None and self._stdin_kept:
            process.close_stdin()  # a kept CLI exits at EOF, like any other
        try:
            if process is not None:
                if process.returncode is None:
                    if self.facts.result is not None and self._stop_reason is None:
                        # It answered; give it a moment to exit on its own (some builds never do).
                        if await process.exited_within(self.settings.exit_grace):
                            await process.wait()  # its last stderr first: stop() releases the pipes
                        else:
                            self._stop_reason = "no_exit_after_result"
                    await process.stop(self._stop_reason or "disconnect", grace=self.settings.kill_grace)
                code = await process.wait()
                if self.exchange is not None:
                    self.exchange.publish(CliExited, returncode=code, killed_because=process.stopped_because, run_id=self.id)
        finally:
            if self._events is not None:
                try:
                    await self._events.aclose()
                except RuntimeError:
                    pass  # still running: it ends on its own now that the child is gone
            if self._tool_server is not None:
                await self._tool_server.stop()
            await self._forget_session()
            if self._run_dir:
                if self.settings.folders is not None:
                    self.settings.folders.give_back(self._run_dir)  # emptied and kept, off the loop
                else:
                    await asyncio.to_thread(shutil.rmtree, self._run_dir, True)

    async def _offer_tools(self, options: RunOptions) -> RunOptions:
        assert self._run_dir
        self._tool_server = ToolServer(self.plan.tools.offered)
        await self._tool_server.start()
        path = await asyncio.to_thread(write_mcp_config, os.path.join(self._run_dir, "mcp-config.json"), self._tool_server)
        return replace(options, mcp_config=path, allowed_tools=self.plan.tools.allowed_tools)

    async def _wait_exit(self) -> int | None:
        assert self.process
        if not await self.process.exited_within(self.settings.exit_grace):
            return None
        return await self.process.wait()

    def _watch(self) -> None:
        """Every WATCH_EVERY seconds (a timer, not a task), until it stops the run."""
        s = self.settings
        now = time.monotonic()
        if not (self.awaiting_tools or self.warm):  # else waiting for the client's next request; runs/ decides how long
            if self._last_output is None:
                if now - self._attached_at > s.first_output_timeout:
                    return self.kill("first_output")
            elif now - self._last_output > s.idle_timeout:
                return self.kill("idle")
            if now - self._attached_at > s.total_timeout:
                return self.kill("total")
        self._watchdog = asyncio.get_running_loop().call_later(WATCH_EVERY, self._watch)

    def _timeout_for(self, reason: str) -> float:
        s = self.settings
        return {"first_output": s.first_output_timeout, "idle": s.idle_timeout, "total": s.total_timeout}[reason]

    def _on_stderr(self, text: str) -> None:
        if self.exchange is not None:
            self.exchange.publish(CliStderr, text=text, run_id=self.id)


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


def _resume_failure(facts) -> str | None:
    """Why the CLI did not even start on the session file, or None. An API error is a result
    with subtype "success" (it would fail a transcript run too); a failed resume is an
    `error_during_execution` result ("No conversation found ...") or an exit with no result."""
    result = facts.result
    if result is not None:
        if result.subtype == "error_during_execution":
            return "; ".join(result.errors) or result.subtype
        return None
    if facts.returncode not in (0, None):
        tail = (facts.stderr_tail or "").strip().splitlines()
        return f"exit {facts.returncode}" + (f": {tail[-1][:200]}" if tail else "")
    return None


def _small(history) -> bool:
    """A history whose session file is cheaper to write on the loop than through a thread:
    a few messages of text (images and tool blocks go through the thread)."""
    if len(history) > 8:
        return False
    size = 0
    for message in history:
        for block in message.content:
            if block.get("type") != "text":
                return False
            size += len(block.get("text", ""))
    return size < INLINE_WRITE_CHARS


def _control(request_id: str, request: dict) -> str:
    """A control request line of the CLI's stream-json input (the Agent SDK's protocol)."""
    return json.dumps({"type": "control_request", "request_id": request_id, "request": request}, ensure_ascii=True, separators=(",", ":")) + "\n"


def _arguments(call: ToolCall) -> object:
    try:
        return json.loads(call.arguments)
    except ValueError:
        return call.arguments
