"""One turn as the real CLI prints it (claude-cli.md §4–§7): init … result.

`Run` knows the line shapes and the bookkeeping (usage, cost, num_turns, timings);
`Response` streams one API response block by block. Scenarios only say *what*
happens; the shapes live here.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

from . import ids, lifecycle, models
from .prompt import UserMessage

VERSION = "2.1.328"
DEFAULT_TOOLS = ["Task", "Bash", "Glob", "Grep", "ExitPlanMode", "Read", "Edit", "Write",
                 "NotebookEdit", "WebFetch", "TodoWrite", "WebSearch", "BashOutput", "KillShell",
                 "Skill", "SlashCommand"]
# Tokens the CLI's own (cached) prompt costs on every call: lets tests check cache accounting.
CACHED_PREFIX_TOKENS = 2048


@dataclass
class Session:
    """What stays the same for every turn of one process."""

    out: object
    args: object
    env: dict
    auth: object
    cwd: str
    system_prompt: str = ""
    session_id: str = field(default_factory=ids.uuid4)
    started: float = field(default_factory=time.monotonic)
    exit_code: int = 0

    @property
    def partial(self) -> bool:
        return self.args.flag("--include-partial-messages")

    @property
    def model_flag(self) -> str | None:
        return self.args.value("--model")

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


def _zero_usage() -> dict:
    return {"input_tokens": 0, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0,
            "output_tokens": 0}


class Run:
    def __init__(self, session: Session, prompt: UserMessage, spec) -> None:
        self.session = session
        self.prompt = prompt
        self.spec = spec
        self.delay = spec.float("delay_ms", session.default_delay_ms) / 1000
        self.ttft_delay = spec.float("ttft_ms", 0) / 1000
        self.started = time.monotonic()
        self.api_seconds = 0.0
        self.ttft_ms: int | None = None
        self.num_turns = 0
        self.usage = _zero_usage()
        self.thinking_tokens = 0
        self.last_text = ""
        self.last_stop_reason: str | None = None
        self.calls = 0
        self.open_response: Response | None = None
        self.init_sent = False

    # ----- plumbing -------------------------------------------------------------

    def emit(self, obj: dict) -> None:
        self.session.out.line(obj)

    def raw(self, data: bytes) -> None:
        self.session.out.raw(data)

    def sleep(self, seconds: float) -> None:
        lifecycle.sleep(seconds)

    def _tail(self) -> dict:
        return {"session_id": self.session.session_id, "uuid": ids.uuid4()}

    # ----- system lines -----------------------------------------------------------

    def init(self) -> None:
        s = self.session
        tools = s.args.tools
        self.emit({
            "type": "system", "subtype": "init", "cwd": s.cwd, "session_id": s.session_id,
            "tools": DEFAULT_TOOLS if tools is None else tools,
            "mcp_servers": mcp_servers(s.args), "model": s.model,
            "permissionMode": s.args.value("--permission-mode", "default"),
            "slash_commands": ["compact", "context", "cost", "init", "review", "security-review"],
            "apiKeySource": s.auth.api_key_source, "claude_code_version": VERSION,
            "output_style": "default", "agents": ["general-purpose", "statusline-setup", "Explore", "Plan"],
            "skills": [], "plugins": [], "uuid": ids.uuid4(),
        })
        self.init_sent = True

    def status(self, status: str = "requesting") -> None:
        if self.session.partial:
            self.emit({"type": "system", "subtype": "status", "status": status, **self._tail()})

    def api_retry(self, attempt: int, max_retries: int, delay_ms: int, status: int | None, error: str) -> None:
        self.emit({"type": "system", "subtype": "api_retry", "attempt": attempt, "max_retries": max_retries,
                   "retry_delay_ms": delay_ms, "error_status": status, "error": error, **self._tail()})

    def thinking_tokens_line(self, tokens: int) -> None:
        if self.session.partial:
            self.emit({"type": "system", "subtype": "thinking_tokens", "tokens": tokens, **self._tail()})

    def rate_limit_event(self, info: dict | None = None) -> None:
        """After every API response under OAuth (subscription) auth only."""
        if info is None:
            if not self.session.auth.oauth:
                return
            info = {"status": "allowed", "isUsingOverage": False}
        self.emit({"type": "rate_limit_event", "rate_limit_info": info, **self._tail()})

    def user_line(self, content: list, **extra) -> None:
        self.emit({"type": "user", "message": {"role": "user", "content": content},
                   "parent_tool_use_id": None, **self._tail(), "timestamp": ids.timestamp(), **extra})

    # ----- usage ------------------------------------------------------------------

    def call_usage(self, extra_input_tokens: int = 0) -> dict:
        """Input side of one API call: prompt text + images, the CLI's cached prefix."""
        self.calls += 1
        user_tokens = tokens_for(self.prompt.chars) + 1600 * self.prompt.images + extra_input_tokens
        system_tokens = tokens_for(len(self.session.system_prompt)) if self.session.system_prompt else 0
        first = self.calls == 1
        return {
            "input_tokens": user_tokens + 3,
            # The caller's system prompt is written to the cache on the first call, read afterwards.
            "cache_creation_input_tokens": system_tokens if first else 0,
            "cache_read_input_tokens": CACHED_PREFIX_TOKENS + (0 if first else system_tokens),
        }

    def add_usage(self, usage: dict) -> None:
        for key in self.usage:
            self.usage[key] += usage.get(key, 0)

    def result_usage(self) -> dict:
        u = self.usage
        return {
            "input_tokens": u["input_tokens"],
            "cache_creation_input_tokens": u["cache_creation_input_tokens"],
            "cache_read_input_tokens": u["cache_read_input_tokens"],
            "output_tokens": u["output_tokens"],
            "server_tool_use": {"web_search_requests": 0, "web_fetch_requests": 0},
            "service_tier": "standard",
            "cache_creation": {"ephemeral_1h_input_tokens": 0,
                               "ephemeral_5m_input_tokens": u["cache_creation_input_tokens"]},
            "output_tokens_details": {"thinking_tokens": self.thinking_tokens},
        }

    def model_usage(self) -> dict:
        if self.calls == 0 or not any(self.usage.values()):
            return {}  # no successful call: the real CLI prints {}
        u = self.usage
        return {self.session.model: {
            "inputTokens": u["input_tokens"], "outputTokens": u["output_tokens"],
            "cacheReadInputTokens": u["cache_read_input_tokens"],
            "cacheCreationInputTokens": u["cache_creation_input_tokens"],
            "webSearchRequests": 0, "costUSD": models.cost_usd(self.session.model, u),
            "contextWindow": models.CONTEXT_WINDOW, "maxOutputTokens": models.MAX_OUTPUT_TOKENS,
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
               api_error_status: int | None = None, stop_reason: str | None = None) -> None:
        """Always the last line; `"type":"result"` sits near the end like the real one."""
        if not is_error and subtype == "success" and text is None:
            text = self.last_text
        usage = self.result_usage()
        line = {
            "duration_api_ms": int(self.api_seconds * 1000),
            "duration_ms": int((time.monotonic() - self.started) * 1000),
            "ttft_ms": self.ttft_ms,
            "num_turns": max(1, self.num_turns),
            "stop_reason": stop_reason if stop_reason is not None else self.last_stop_reason,
            "session_id": self.session.session_id,
            "total_cost_usd": models.cost_usd(self.session.model, self.usage) if self.model_usage() else 0,
            "usage": usage,
            "modelUsage": self.model_usage(),
            "permission_denials": [],
            "terminal_reason": terminal_reason,
            "is_error": is_error,
            "subtype": subtype,
            "api_error_status": api_error_status,
        }
        if subtype == "success":
            line["result"] = text if text is not None else ""
        else:
            line["errors"] = list(errors or [])
        line["type"] = "result"
        line["uuid"] = ids.uuid4()
        self.emit(line)
        if is_error:
            self.session.exit_code = 1

    def error_assistant(self, error: str, text: str, **extra) -> None:
        """A synthetic API-error message (claude-cli.md §5)."""
        self.emit({
            "type": "assistant",
            "message": {"id": ids.uuid4(), "container": None, "model": "<synthetic>", "role": "assistant",
                        "stop_reason": "stop_sequence", "stop_sequence": "", "type": "message",
                        "usage": {**_zero_usage(), "server_tool_use": {"web_search_requests": 0,
                                                                       "web_fetch_requests": 0},
                                  "service_tier": None, "cache_creation": {"ephemeral_1h_input_tokens": 0,
                                                                           "ephemeral_5m_input_tokens": 0}},
                        "content": [{"type": "text", "text": text}], "context_management": None},
            "parent_tool_use_id": None, **self._tail(), "timestamp": ids.timestamp(),
            "error": error, "is_api_error_message": True, **extra,
        })
        self.last_text = text
        self.last_stop_reason = "stop_sequence"

    # ----- SIGINT -----------------------------------------------------------------

    def abort(self) -> None:
        """SIGINT: synthetic stops, `[Request interrupted by user]`, aborted_streaming result."""
        lifecycle.disable_interrupts()
        if not self.init_sent:
            return
        if self.open_response is not None:
            self.open_response.synthetic_stop()
        self.user_line([{"type": "text", "text": "[Request interrupted by user]"}])
        self.result(subtype="error_during_execution", is_error=True, errors=[],
                    terminal_reason="aborted_streaming", stop_reason=None)
        self.session.exit_code = 0  # the real CLI exits 0 after an interrupt


def mcp_servers(args) -> list:
    """Names from --mcp-config JSON (inline or file); the fake never starts them."""
    import json
    names = []
    for item in args.value("--mcp-config") or []:
        try:
            config = json.loads(item) if item.lstrip().startswith("{") else json.load(open(item))
        except (OSError, ValueError):
            continue
        names += list((config.get("mcpServers") or {}) if isinstance(config, dict) else {})
    return [{"name": n, "status": "failed"} for n in names]


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

    def event(self, event: dict, **extra) -> None:
        if not self.run.session.partial:
            return
        self.run.emit({"type": "stream_event", "event": event, "session_id": self.run.session.session_id,
                       "parent_tool_use_id": None, "uuid": ids.uuid4(), **extra,
                       "api_message_id": self.id})

    def start(self, status: bool = True) -> None:
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
        self.event({"type": "message_start", "message": {
            "model": run.session.model, "id": self.id, "type": "message", "role": "assistant",
            "content": [], "stop_reason": None, "stop_sequence": None,
            "usage": {**self.usage, "service_tier": "standard"}}}, ttft_ms=ttft)

    def _open(self, block: dict) -> int:
        self.index += 1
        self.block_open = True
        self.event({"type": "content_block_start", "index": self.index, "content_block": block})
        return self.index

    def delta(self, delta: dict) -> None:
        self.deltas += 1
        self.event({"type": "content_block_delta", "index": self.index, "delta": delta})

    def assistant(self, block: dict) -> None:
        """One block per assistant line, same message id, stop_reason still null."""
        run = self.run
        run.emit({"type": "assistant", "message": {
            "model": run.session.model, "id": self.id, "type": "message", "role": "assistant",
            "content": [block], "stop_reason": None, "stop_sequence": None,
            "usage": {**self.usage, "service_tier": "standard"}, "context_management": None},
            "parent_tool_use_id": None, **run._tail(), "request_id": self.request_id,
            "timestamp": ids.timestamp()})

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

        `between(n)` runs after the n-th delta (junk lines, stderr noise, a crash...).
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
        """A thinking block: deltas interleaved with system/thinking_tokens, then the signature."""
        self._open({"type": "thinking", "thinking": "", "signature": ""})
        tokens = 0
        for chunk in chunks:
            self.run.sleep(self.run.delay)
            self.delta({"type": "thinking_delta", "thinking": chunk})
            tokens += tokens_for(len(chunk))
            self.run.thinking_tokens_line(tokens)
        signature = "Eq" + ids.uuid4().replace("-", "") * 4
        self.delta({"type": "signature_delta", "signature": signature})
        self.run.thinking_tokens += tokens
        self.output_chars += sum(len(c) for c in chunks)
        self.assistant({"type": "thinking", "thinking": "".join(chunks), "signature": signature})
        self._close()

    def tool_use(self, name: str, tool_input: dict) -> str:
        import json
        tool_id = ids.tool_use_id()
        self._open({"type": "tool_use", "id": tool_id, "name": name, "input": {}})
        encoded = json.dumps(tool_input)
        for part in (encoded[: len(encoded) // 2], encoded[len(encoded) // 2:]):
            self.run.sleep(self.run.delay)
            self.delta({"type": "input_json_delta", "partial_json": part})
        self.output_chars += len(encoded)
        self.assistant({"type": "tool_use", "id": tool_id, "name": name, "input": tool_input})
        self._close()
        return tool_id

    def output_tokens(self) -> int:
        return max(self.deltas, tokens_for(self.output_chars))

    def finish(self, stop_reason: str = "end_turn", rate_limit_info: dict | None = None) -> None:
        run = self.run
        usage = {**self.usage, "output_tokens": self.output_tokens()}
        self.event({"type": "message_delta", "delta": {"stop_reason": stop_reason, "stop_sequence": None},
                    "usage": usage, "context_management": {"applied_edits": []}})
        self.event({"type": "message_stop"})
        run.rate_limit_event(rate_limit_info)
        run.add_usage(usage)
        run.api_seconds += time.monotonic() - self.started
        run.num_turns += 1
        run.last_text = "".join(self.texts)
        run.last_stop_reason = stop_reason
        run.open_response = None

    def synthetic_stop(self) -> None:
        """The stops the CLI makes up when a stream breaks (mid-stream error, interrupt)."""
        if self.block_open:
            self._close()
        self.event({"type": "message_stop"})
        self.run.api_seconds += time.monotonic() - self.started
        self.run.open_response = None
