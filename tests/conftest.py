"""Shared fixtures: the project's fake CLI, a running engine on a free loopback port, real clients."""

from __future__ import annotations


import sys
from pathlib import Path
from typing import AsyncIterator, Awaitable, Callable

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `tests.*` helpers importable from any rootdir

from tui_proxy.config import Config  # noqa: E402
from tui_proxy.engine import Engine  # noqa: E402

FAKE_CLAUDE = str(ROOT / "tests" / "bin" / "claude")


def fake_config(tmp_path: Path, **overrides) -> Config:
    # No CLIs started ahead or kept warm unless a test asks (tests/test_pool.py, test_warm.py):
    # each test counts its children.
    values = dict(port=0, claude=FAKE_CLAUDE, data_dir=tmp_path / "data", keepalive_interval=1.0, pool_size=0, warm_conversations=0, usage_poll_seconds=0)
    values.update(overrides)
    return Config(**values)


@pytest.fixture
def fake_claude_env(monkeypatch, tmp_path) -> Path:
    """Children of the engine inherit this environment: make every fake run record what it got."""
    record = tmp_path / "fake-runs"
    record.mkdir()
    monkeypatch.setenv("FAKE_CLAUDE_RECORD_DIR", str(record))
    monkeypatch.delenv("FAKE_CLAUDE_SCENARIO", raising=False)
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    return record


@pytest.fixture
async def start_engine(tmp_path, fake_claude_env) -> AsyncIterator[Callable[..., Awaitable[Engine]]]:
    """`await start_engine(**config_overrides)` → a started Engine over the fake CLI; stopped after."""
    engines: list[Engine] = []

    async def start(**overrides) -> Engine:
        engine = Engine(fake_config(tmp_path, **overrides))
        await engine.start()
        engines.append(engine)
        return engine

    yield start
    for engine in engines:
        await engine.stop()


@pytest.fixture
async def engine(start_engine) -> Engine:
    return await start_engine()


def strict_client(engine: Engine, **options):
    """The real `openai` SDK with strict response validation and no retries (`async with` it)."""
    from openai import AsyncOpenAI

    options = {"api_key": "unused", "max_retries": 0, "timeout": 30, **options}
    return AsyncOpenAI(base_url=engine.url + "/v1", _strict_response_validation=True, **options)


@pytest.fixture
async def openai_client(engine):
    async with strict_client(engine) as client:
        yield client


async def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    """Poll a condition that becomes true shortly (a child being reaped), up to `timeout`."""
    import asyncio

    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


def children_of(pid: int) -> list[int]:
    """Live child processes of `pid` (Linux /proc), to prove none is left behind."""
    from bench.soak import proxy_children  # one /proc reader for the tests and the soak

    return proxy_children(pid)
