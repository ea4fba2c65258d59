"""The proxy over the REAL `claude` CLI, talking to the loopback mock Anthropic API.

Used by tests/test_contract_real_cli.py. A `Rig` starts one mock and several engines
(`--claude` = the pinned real binary), one per `Profile`: how the CLI logs in and how
often it retries. The engine's children inherit the environment the engine saw when it
started (`RunSettings.inherited_env`, filtered by `tui_proxy.claude.argv.build_env`), so
each engine is started with its profile's variables set and the process environment is
restored right after: HOME a fresh temp dir (no real login, no settings), the mock's
address, a fake API key or OAuth token, CLAUDE_CODE_MAX_RETRIES.

`Rig.call()` sends one chat completion through the strict `openai` SDK and keeps what the
client saw (text, reasoning, finish reason, usage, or the error with its status, code and
headers) plus what the engine did for that request (argv, stdin, stderr, exit), matched by
the `x-request-id` header / completion id (both are the exchange id).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import openai
import pytest

from tests.mock_anthropic import MockAnthropic
from tests.real_cli import FAKE_API_KEY, FAKE_OAUTH_TOKEN
from tui_proxy.config import Config
from tui_proxy.engine import Engine
from tui_proxy.events import CliExited, CliSpawned, CliStderr, Event

Auth = Literal["oauth", "api_key"] | None

#: Variables of the host that must not reach the CLI under test (a real login, an outer agent).
SCRUBBED = ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "CLAUDE_CODE_OAUTH_TOKEN", "ANTHROPIC_BASE_URL", "CLAUDE_CONFIG_DIR")


@dataclass(frozen=True, slots=True)
class Profile:
    """One engine: how its CLI children authenticate and retry, and engine settings."""

    name: str
    auth: Auth = "oauth"
    max_retries: int = 0
    use_mock: bool = True
    config: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Call:
    """What one chat completion gave the client, and what the engine did for it."""

    case: str
    stream: bool
    exchange_id: str | None = None
    content: str | None = None
    reasoning: str | None = None
    finish_reason: str | None = None
    usage: Any = None  # openai CompletionUsage
    chunks: int = 0
    error: openai.APIError | None = None
    seconds: float = 0.0
    spawned: list[CliSpawned] = field(default_factory=list)
    exited: list[CliExited] = field(default_factory=list)
    stderr: str = ""

    @property
    def status(self) -> int | None:
        return self.error.status_code if isinstance(self.error, openai.APIStatusError) else None

    @property
    def code(self) -> str | None:
        return getattr(self.error, "code", None)

    @property
    def headers(self) -> dict[str, str]:
        response = getattr(self.error, "response", None)
        return {k.lower(): v for k, v in response.headers.items()} if response is not None else {}

    def describe(self) -> str:
        if self.error is not None:
            return f"{self.case} stream={self.stream}: {type(self.error).__name__} status={self.status} code={self.code} {self.error.message!r} stderr={self.stderr[-300:]!r}"
        return f"{self.case} stream={self.stream}: finish={self.finish_reason} content={(self.content or '')[:120]!r}"


class Rig:
    def __init__(self, cli: str, root: Path, profiles: list[Profile], concurrency: int = 5) -> None:
        self.cli = cli
        self.root = root
        self.profiles = {profile.name: profile for profile in profiles}
        self.mock = MockAnthropic()
        self.engines: dict[str, Engine] = {}
        self.clients: dict[str, openai.AsyncOpenAI] = {}
        self.events: dict[str, list[Event]] = defaultdict(list)  # by exchange id
        self.gate = asyncio.Semaphore(concurrency)

    async def start(self) -> Rig:
        await self.mock.start()
        for profile in self.profiles.values():
            await self._start_engine(profile)
        return self

    async def _start_engine(self, profile: Profile) -> None:
        home = self.root / f"home-{profile.name}"
        home.mkdir(parents=True)
        env = {"HOME": str(home), "CLAUDE_CODE_MAX_RETRIES": str(profile.max_retries)}
        if profile.use_mock:
            env["ANTHROPIC_BASE_URL"] = self.mock.base_url
        if profile.auth == "api_key":
            env["ANTHROPIC_API_KEY"] = FAKE_API_KEY
        elif profile.auth == "oauth":
            env["CLAUDE_CODE_OAUTH_TOKEN"] = FAKE_OAUTH_TOKEN
        config = Config(
            port=0,
            claude=self.cli,
            data_dir=self.root / f"data-{profile.name}",
            capture=False,
            keepalive_interval=1.0,
            **{"pool_size": 0, "warm_conversations": 0, "usage_poll_seconds": 0, **profile.config},  # CLIs started ahead or kept only where a profile asks
        )
        engine = Engine(config)
        engine.bus.subscribe(self._on_event)
        with pytest.MonkeyPatch.context() as patch:
            for name in SCRUBBED:
                patch.delenv(name, raising=False)
            for name, value in env.items():
                patch.setenv(name, value)
            await engine.start()
        # The children get the environment the engine saw at start; make that dependency loud.
        inherited = engine.runs.settings.inherited_env if engine.runs is not None else {}
        for name, value in env.items():
            assert inherited.get(name) == value, f"engine {profile.name}: {name} not taken from the environment at start"
        self.engines[profile.name] = engine
        self.clients[profile.name] = openai.AsyncOpenAI(
            base_url=engine.url + "/v1", api_key="unused", max_retries=0, timeout=120, _strict_response_validation=True
        )

    async def close(self) -> None:
        for client in self.clients.values():
            await client.close()
        for engine in self.engines.values():
            await engine.stop()
        await self.mock.close()

    def _on_event(self, event: Event) -> None:
        if isinstance(event, (CliSpawned, CliExited, CliStderr)):
            self.events[event.exchange_id].append(event)

    async def call(
        self,
        profile: str,
        case: str,
        prompt: str,
        *,
        stream: bool,
        system: str | None = None,
        model: str = "sonnet",
    ) -> Call:
        messages: list[dict[str, str]] = []
        if system is not None:
            messages.append({"role": "system", "content": system})
        messages.append({"role": "user", "content": prompt})
        client = self.clients[profile]
        call = Call(case, stream)
        async with self.gate:
            started = asyncio.get_running_loop().time()
            try:
                if stream:
                    await _stream(client, call, model, messages)
                else:
                    reply = await client.chat.completions.create(model=model, messages=messages)  # type: ignore[arg-type]
                    call.exchange_id = reply.id.removeprefix("chatcmpl-")
                    choice = reply.choices[0]
                    call.content = choice.message.content
                    call.reasoning = (choice.message.model_extra or {}).get("reasoning_content")
                    call.finish_reason = choice.finish_reason
                    call.usage = reply.usage
            except openai.APIError as error:
                call.error = error
                response = getattr(error, "response", None)
                if response is not None and call.exchange_id is None:
                    call.exchange_id = response.headers.get("x-request-id")
            call.seconds = asyncio.get_running_loop().time() - started
        await self._settle(call)
        return call

    async def _settle(self, call: Call) -> None:
        """Wait (briefly) for the child's exit event, then attach the engine's events to the call."""
        if call.exchange_id is None:
            return
        events = self.events[call.exchange_id]
        for _ in range(250):
            spawned = sum(isinstance(e, CliSpawned) for e in events)
            if sum(isinstance(e, CliExited) for e in events) >= spawned:
                break
            await asyncio.sleep(0.02)
        call.spawned = [e for e in events if isinstance(e, CliSpawned)]
        call.exited = [e for e in events if isinstance(e, CliExited)]
        call.stderr = "".join(e.text for e in events if isinstance(e, CliStderr))


async def _stream(client: openai.AsyncOpenAI, call: Call, model: str, messages: list[dict[str, str]]) -> None:
    stream = await client.chat.completions.create(
        model=model,
        messages=messages,  # type: ignore[arg-type]
        stream=True,
        stream_options={"include_usage": True},
    )
    call.exchange_id = stream.response.headers.get("x-request-id")
    content: list[str] = []
    reasoning: list[str] = []
    async for chunk in stream:
        call.chunks += 1
        if chunk.usage is not None:
            call.usage = chunk.usage
        for choice in chunk.choices:
            if choice.delta.content:
                content.append(choice.delta.content)
            extra = (choice.delta.model_extra or {}).get("reasoning_content")
            if extra:
                reasoning.append(extra)
            if choice.finish_reason:
                call.finish_reason = choice.finish_reason
        call.content = "".join(content)
        call.reasoning = "".join(reasoning) or None
