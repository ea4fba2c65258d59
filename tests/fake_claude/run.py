"""One turn as the real CLI prints it (docs/claude-cli.md §4–§7): init … result.

`Run` owns the line shapes and the bookkeeping (usage, cost, num_turns, timings);
`Response` streams one API response block by block. Scenarios only say *what*
happens; field names and field order (copied from real 2.1.328 transcripts) live here.
"""

from __future__ import annotations

import json
import math
import os
import re
import time

from . import ids, lifecycle, models, shapes

VERSION = shapes.VERSION
# Tokens of the CLI's own prompt, cached: lets the engine's tests check cache accounting.
CACHED_PREFIX_TOKENS = 3400
CLI_PROMPT_TOKENS = 1200


class Session:
    """What stays the same for every turn of one process."""

    def __init__(self, out, args, env: dict, auth, cwd: str, system_prompt: str = "") -> None:
        self.out = out
        self.args = args
        self.env = env
        self.auth = auth
        self.cwd = cwd
        self.system_prompt = system_prompt
        #: Cost of every turn of this process so far (the result line reports the sum).
        self.cost_so_far = 0.0
        #: `initialize` was received (a second one is ignored, as by the real CLI).
        self.initialized = False
        #: A model set through the control protocol (`set_model`) wins over --model.
        self.model_override: str | None = None
        self.session_id = args.value("--session-id") or ids.uuid4()
        self.exit_code = 0
        self.results = 0  # result lines printed so far (result_index)

    @property
    def partial(self) -> bool:
        return self.args.flag("--include-partial-messages")

    @property
    def model_flag(self) -> str | None:
        return self.model_override or self.args.value("--model")

    @property
    def model(self) -> str:
        return models.resolve(self.model_flag)

    @property
    def default_delay_ms(self) -> float:
        try:
            return float(self.env.get("FAKE_CLAUDE_DELAY_MS") or 0)
        except ValueError:
            return 0.0


def tokens_for(chars: int) -> int:
    return max(1, math.ceil(chars / 4))


def _zero_counts() -> dict:
    return {"input_tokens": 0, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0,
            "output_tokens": 0}


class Run:
    def __init__(self, session: Session, prompt, spec) -> None:
        self.session = session
        self.prompt = prompt
        self.spec = spec
        self.delay = spec.float("delay_ms", session.default_delay_ms) / 1000
        self.ttft_delay = spec.float("ttft_ms", 0) / 1000
        self.started = time.monotonic()
        self.api_seconds = 0.0
        self.ttft_ms: int | None = None
        self.num_turns = 0
        self.counts = _zero_counts()
        self.thinking_tokens = 0
        self.last_text = ""
        self.last_stop_reason: str | None = None
        self.open_response: Response | None = None
        self.init_sent = False
        self.result_sent = False
        self.rate_limit_sent = False

    # ----- plumbing -------------------------------------------------------------

    def emit(self, obj: dict) -> None:
        self.session.out.line(obj)

    def raw(self, data: bytes) -> None:
        self.session.out.raw(data)

    def sleep(self, seconds: float) -> None:
        lifecycle.sleep(seconds)

    def _ids(self) -> dict:
        return {"session_id": self.session.session_id, "uuid": ids.uuid4()}

    # ----- system lines -----------------------------------------------------------

    def init(self) -> None:
        s, env = self.session, self.session.env
        tools = s.args.tools
        home = env.get("HOME", "/root")
        tmp = env.get("TMPDIR", "/tmp").rstrip("/") or "/tmp"
        project = re.sub(r"[^A-Za-z0-9]", "-", s.cwd)
        quiet = bool(env.get("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"))
        self.emit({
            "type": "system", "subtype": "init", "cwd": s.cwd, "session_id": s.session_id,
            "tools": (shapes.DEFAULT_TOOLS if tools is None else tools) + mcp_tool_names(s.args),
            "mcp_servers": mcp_servers(s.args), "model": s.model,
            "permissionMode": s.args.value("--permission-mode", "default"),
            "slash_commands": shapes.SLASH_COMMANDS, "terminal_slash_commands": shapes.TERMINAL_SLASH_COMMANDS,
            "apiKeySource": s.auth.api_key_source, "claude_code_version": VERSION, "output_style": "default",
            "agents": shapes.AGENTS, "skills": shapes.SKILLS, "plugins": shapes.PLUGINS,
            "capabilities": shapes.CAPABILITIES, "analytics_disabled": quiet, "product_feedback_disabled": quiet,
            "uuid": ids.uuid4(), "memory_paths": {"auto": f"{home}/.claude/projects/{project}/memory/"},
            "original_cwd": s.cwd, "additional_directories": list(s.args.value("--add-dir") or []),
            "messaging_socket_path": f"{tmp}/cc-socks/{os.getpid()}.sock", "fast_mode_state": "off",
            "fast_mode_disabled_reason": "sdk_opt_in_required", "per_turn_effort_active": True,
            "ultrathink_available": False, "ultrathink_typed_raises": False, "view_mode": "default",
        })
        self.init_sent = True

    def status(self, status: str = "requesting") -> None:
        """Before every API request of the turn loop (not before retries); partial mode only."""
        if self.session.partial:
            self.emit({"type": "system", "subtype": "status", "status": status, **self._ids()})

    def api_retry(self, attempt: int, max_retries: int, delay_ms: int, status: int | None, error: str) -> None:
        self.emit({"type": "system", "subtype": "api_retry", "attempt": attempt, "max_retries": max_retries,
                   "retry_delay_ms": delay_ms, "error_status": status, "error": error, **self._ids()})

    def thinking_tokens_line(self, total: int, delta: int) -> None:
        if self.session.partial:
            self.emit({"type": "system", "subtype": "thinking_tokens", "estimated_tokens": total,
                       "estimated_tokens_delta": delta, **self._ids()})

    def rate_limit_event(self, info: dict | None = None) -> None:
        """Once per run under OAuth (subscription) auth, after the first answered request.

        The routine "allowed" one is left out without --include-partial-messages (docs/claude-cli.md
        §4: "init, assistant(s), result"); warnings and rejections are always printed."""
        if info is None:
            if not self.session.auth.oauth or self.rate_limit_sent or not self.session.partial:
                return
            info = {"status": "allowed", "isUsingOverage": False}
        self.rate_limit_sent = True
        self.emit({"type": "rate_limit_event", "rate_limit_info": info, "uuid": ids.uuid4(),
                   "session_id": self.session.session_id})

    def user_line(self, content: list, **extra) -> None:
        self.emit({"type": "user", "message": {"role": "user", "content": content},
                   "parent_tool_use_id": None, **self._ids(), "timestamp": ids.timestamp(), **extra})

    # ----- usage ------------------------------------------------------------------

    def call_usage(self, extra_input_tokens: int = 0) -> dict:
        """Input side of one API call: prompt text and images, system prompt, cached CLI prefix."""
        system = tokens_for(len(self.session.system_prompt)) if self.session.system_prompt else 0
        return {
            "input_tokens": tokens_for(self.prompt.chars) + 1600 * self.prompt.images + extra_input_tokens + 3,
            "cache_creation_input_tokens": CLI_PROMPT_TOKENS + system,
            "cache_read_input_tokens": CACHED_PREFIX_TOKENS,
        }

    def add_counts(self, counts: dict) -> None:
        for key in self.counts:
            self.counts[key] += counts.get(key, 0)

    def model_usage(self) -> dict:
        if not any(self.counts.values()):
            return {}  # no answered call: the real CLI prints {}
        c, model = self.counts, self.session.model
        return {model: {
            "inputTokens": c["input_tokens"], "outputTokens": c["output_tokens"],
            "cacheReadInputTokens": c["cache_read_input_tokens"],
            "cacheCreationInputTokens": c["cache_creation_input_tokens"], "webSearchRequests": 0,
            "costUSD": models.cost_usd(model, c), "contextWindow": models.CONTEXT_WINDOW,
            "maxOutputTokens": models.MAX_OUTPUT_TOKENS, "thinkingTokens": self.thinking_tokens,
            "cacheCreationEphemeral5mInputTokens": 0, "cacheCreationEphemeral1hInputTokens": 0,
            "canonicalModel": model, "provider": "firstParty", "costBasis": "list",
        }}

    # ----- responses --------------------------------------------------------------

    def response(self, **kwargs) -> "Response":
        return Response(self, **kwargs)

    def answer(self, chunks: list[str], stop_reason: str = "end_turn") -> "Response":
        """The common case: one API call answering with one text block."""
        response = self.response()
        response.start()
        response.text(chunks)
        response.finish(stop_reason)
        return response

    # ----- the final line -----------------------------------------------------------

    def result(self, *, subtype: str = "success", is_error: bool = False, text: str | None = None,
               errors: list | None = None, terminal_reason: str = "completed",
               api_error_status: int | None = None, api_error_type: str | None = None,
               api_error: str | None = None, stop_reason: str | None = None,
               structured_output: object = None) -> None:
        """Always the last line. Field order as the real one: `"type":"result"` near the end,
        ttft_ms only on successful answers; `structured_output` (--json-schema) after `result`."""
        model_usage = self.model_usage()
        # The real CLI's cost is the process's so far: a second turn on the same stdin reports
        # both turns' cost (measured on 2.1.328), while `usage` is the turn's own.
        self.session.cost_so_far += models.cost_usd(self.session.model, self.counts) if model_usage else 0
        line = {
            "duration_api_ms": int(self.api_seconds * 1000),
            "stop_reason": stop_reason if stop_reason is not None else self.last_stop_reason,
            "session_id": self.session.session_id,
            "total_cost_usd": self.session.cost_so_far,
            "usage": shapes.full_usage(self.counts, self.thinking_tokens, details_first=not model_usage),
            "modelUsage": model_usage,
            "permission_denials": [],
            "terminal_reason": terminal_reason,
            "fast_mode_state": "off",
            "fast_mode_disabled_reason": "sdk_opt_in_required",
            "subagent_stats": shapes.subagent_stats(),
            "safety_stops": 0,
            "is_error": is_error,
            "num_turns": max(1, self.num_turns),
            "subtype": subtype,
            "api_error_status": api_error_status,
        }
        if api_error_type is not None:
            line["api_error_type"] = api_error_type
        if api_error is not None:
            line["api_error"] = api_error
        if subtype == "success":
            line["result"] = self.last_text if text is None else text
            if structured_output is not None:
                line["structured_output"] = structured_output
        else:
            line["errors"] = list(errors or [])
        answered = subtype == "success" and not is_error and self.ttft_ms is not None
        if answered:
            line["ttft_ms"] = self.ttft_ms
        line["type"] = "result"
        line["duration_ms"] = int((time.monotonic() - self.started) * 1000)
        line["uuid"] = ids.uuid4()
        if answered:
            line.update(ttft_stream_ms=self.ttft_ms, time_to_request_ms=max(0, self.ttft_ms - 1),
                        first_content_frame_ms=self.ttft_ms)
        line.update(queued_turn_count=0, result_index=self.session.results,
                    model_usage_since_last_result=model_usage)
        self.session.results += 1
        self.result_sent = True
        self.emit(line)
        if is_error:
            self.session.exit_code = 1

    def error_assistant(self, error: str, text: str, **extra) -> None:
        """A synthetic API-error message (docs/claude-cli.md §5): `<synthetic>`, UUID id, stop_sequence."""
        self.emit({
            "type": "assistant",
            "message": {"diagnostics": None, "id": ids.uuid4(), "container": None, "model": "<synthetic>",
                        "role": "assistant", "stop_details": None, "stop_reason": "stop_sequence",
                        "stop_sequence": "", "type": "message", "usage": shapes.synthetic_usage(),
                        "content": [{"type": "text", "text": text}], "context_management": None},
            "parent_tool_use_id": None, **self._ids(), "timestamp": ids.timestamp(),
            "error": error, **extra,
        })
        self.last_text = text
        self.last_stop_reason = "stop_sequence"

    # ----- SIGINT -----------------------------------------------------------------

    def abort(self) -> None:
        """SIGINT: synthetic stops, `[Request interrupted by user]`, aborted_streaming result, exit 0."""
        lifecycle.disable_interrupts()
        if not self.init_sent or self.result_sent:
            return  # nothing started yet, or already finished (no_exit_after_result)
        if self.open_response is not None:
            self.open_response.synthetic_stop()
        self.user_line([{"type": "text", "text": "[Request interrupted by user]"}])
        self.result(subtype="error_during_execution", is_error=True, errors=[],
                    terminal_reason="aborted_streaming")
        self.session.exit_code = 0


def mcp_servers(args) -> list:
    """--mcp-config servers as the real CLI reports them: an HTTP server it could connect to
    (initialize, tools/list) is "connected", any other one "failed"."""
    if not args.value("--mcp-config"):
        return []
    from .mcp_client import connect_all  # only runs with MCP servers pay for urllib

    return [{"name": server.name, "status": "connected" if server.connected else "failed"}
            for server in connect_all(args.value("--mcp-config"))]


def mcp_tool_names(args) -> list:
    """The tools of the connected servers, named as the model sees them: mcp__<server>__<tool>."""
    if not args.value("--mcp-config"):
        return []
    from .mcp_client import connect_all

    return [f"mcp__{server.name}__{tool['name']}" for server in connect_all(args.value("--mcp-config"))
            for tool in server.tools]


def _display_name(tool: str) -> str:
    return " ".join(part.capitalize() for part in tool.split("_")) if "_" in tool else tool


class Response:
    """One streamed API response: message_start, blocks, message_delta, message_stop."""

    def __init__(self, run: Run, extra_input_tokens: int = 0) -> None:
        self.run = run
        self.id = ids.message_id()
        self.request_id = ids.request_id()
        self.index = -1
        self.block_open = False
        self.output_chars = 0
        self.deltas = 0
        self.texts: list[str] = []
        self.extra_input_tokens = extra_input_tokens
        self.usage: dict = {}
        self.started = 0.0

    def event(self, event: dict, trailing: dict | None = None, **extra) -> None:
        if not self.run.session.partial:
            return
        self.run.emit({"type": "stream_event", "event": event, "session_id": self.run.session.session_id,
                       "parent_tool_use_id": None, "uuid": ids.uuid4(), **extra, "api_message_id": self.id,
                       **(trailing or {})})

    def _message(self, content: list, stop_reason=None, usage=None) -> dict:
        return {"id": self.id, "type": "message", "role": "assistant", "model": self.run.session.model,
                "content": content, "stop_reason": stop_reason, "stop_sequence": None,
                "usage": usage if usage is not None else {**self.usage, "service_tier": "standard"}}

    def start(self, status: bool = True) -> None:
        """status=False for a retry: the CLI prints no new system/status for those."""
        run = self.run
        if status:
            run.status()
        self.started = time.monotonic()
        run.sleep(run.ttft_delay)
        self.usage = {**run.call_usage(self.extra_input_tokens), "output_tokens": 1}
        ttft = int((time.monotonic() - run.started) * 1000)
        if run.ttft_ms is None:
            run.ttft_ms = ttft
        run.open_response = self
        self.event({"type": "message_start", "message": self._message([])},
                   ttft_ms=ttft, thinking_display="updates")

    def _open(self, block: dict, **extra) -> int:
        self.index += 1
        self.block_open = True
        self.event({"type": "content_block_start", "index": self.index, "content_block": block}, **extra)
        return self.index

    def delta(self, delta: dict, **extra) -> None:
        self.deltas += 1
        self.event({"type": "content_block_delta", "index": self.index, "delta": delta}, **extra)

    def assistant(self, block: dict, **extra) -> None:
        """One block per assistant line, same message id, stop_reason still null."""
        run = self.run
        run.emit({"type": "assistant", "message": {**self._message([block]), "context_management": None},
                  "parent_tool_use_id": None, **run._ids(), "timestamp": ids.timestamp(),
                  "request_id": self.request_id, **extra})

    def _close(self) -> None:
        self.block_open = False
        self.event({"type": "content_block_stop", "index": self.index})

    def open_text(self) -> None:
        self._open({"type": "text", "text": ""})

    def text_delta(self, chunk: str) -> None:
        self.run.sleep(self.run.delay)
        self.delta({"type": "text_delta", "text": chunk})
        self.output_chars += len(chunk)

    def text(self, chunks: list[str], between=None) -> None:
        """A text block: start, one text_delta per chunk, assistant line, stop.

        `between(n)` runs after the n-th delta (junk lines, stderr noise...).
        """
        self.open_text()
        for number, chunk in enumerate(chunks):
            self.text_delta(chunk)
            if between is not None:
                between(number)
        text = "".join(chunks)
        self.texts.append(text)
        self.assistant({"type": "text", "text": text})
        self._close()

    def thinking(self, chunks: list[str]) -> None:
        """A thinking block: system/thinking_tokens before each thinking_delta, then the signature."""
        started = time.monotonic()
        self._open({"type": "thinking", "thinking": "", "signature": ""}, thinking_display="updates")
        total = 0
        for chunk in chunks:
            self.run.sleep(self.run.delay)
            step = tokens_for(len(chunk))
            total += step
            self.run.thinking_tokens_line(total, step)
            self.delta({"type": "thinking_delta", "thinking": chunk}, thinking_display="updates")
        signature = "Eq" + ids.uuid4().replace("-", "") * 3
        self.delta({"type": "signature_delta", "signature": signature})
        self.run.thinking_tokens += total
        self.output_chars += sum(len(c) for c in chunks)
        self.assistant({"type": "thinking", "thinking": "".join(chunks), "signature": signature},
                       thinking_duration_ms=int((time.monotonic() - started) * 1000), thinking_display="updates")
        self._close()

    def tool_use(self, name: str, tool_input: dict, on_assistant=None) -> str:
        """A tool_use block; `on_assistant(tool_id)` runs right after its assistant line
        (the CLI answers the call there, before content_block_stop)."""
        tool_id = ids.tool_use_id()
        self._open({"type": "tool_use", "id": tool_id, "name": name, "input": {}})
        encoded = json.dumps(tool_input)
        for part in (encoded[: len(encoded) // 2], encoded[len(encoded) // 2:]):
            self.run.sleep(self.run.delay)
            self.delta({"type": "input_json_delta", "partial_json": part})
        self.output_chars += len(encoded)
        self.assistant({"type": "tool_use", "id": tool_id, "name": name, "input": tool_input},
                       tool_use_meta=[{"id": tool_id, "display_name": _display_name(name)}])
        if on_assistant is not None:
            on_assistant(tool_id)
        self._close()
        return tool_id

    def output_tokens(self) -> int:
        return max(self.deltas, tokens_for(self.output_chars))

    def _count(self, output_tokens: int) -> None:
        run = self.run
        run.add_counts({**self.usage, "output_tokens": output_tokens})
        run.api_seconds += time.monotonic() - self.started
        run.open_response = None

    def finish(self, stop_reason: str = "end_turn", rate_limit_info: dict | None = None) -> None:
        run = self.run
        output_tokens = self.output_tokens()
        self.event({"type": "message_delta", "delta": {"stop_reason": stop_reason, "stop_sequence": None},
                    "usage": {"output_tokens": output_tokens}})
        self.event({"type": "message_stop"})
        run.rate_limit_event(rate_limit_info)
        self._count(output_tokens)
        run.num_turns += 1
        run.last_text = "".join(self.texts)
        run.last_stop_reason = stop_reason

    def synthetic_stop(self) -> None:
        """The stops the CLI makes up when a stream breaks (error event, dropped connection, SIGINT)."""
        if self.block_open:
            self._close()
        self.event({"type": "message_stop"},
                   trailing={"abandoned_blocks": {"api_message_id": self.id, "from_block_index": 0}})
        self._count(1)

    def non_streamed(self, text: str, stop_reason: str = "end_turn") -> None:
        """The non-streaming fallback after a mid-stream error: one complete assistant line,
        its text never sent as deltas."""
        run = self.run
        self.started = time.monotonic()
        self.usage = {**run.call_usage(self.extra_input_tokens), "output_tokens": tokens_for(len(text))}
        usage = shapes.full_usage(self.usage, 0)
        run.emit({"type": "assistant",
                  "message": {**self._message([{"type": "text", "text": text}], stop_reason, usage),
                              "context_management": None},
                  "parent_tool_use_id": None, **run._ids(), "timestamp": ids.timestamp(),
                  "request_id": self.request_id})
        self._count(self.usage["output_tokens"])
        run.num_turns += 1
        run.last_text = text
        run.last_stop_reason = stop_reason
