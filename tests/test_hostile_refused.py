"""Item 5 of issue 16: requests refused before authentication (no key, wrong Host or
Origin) are kept in a small ring of their own and never push the owner's exchanges out
of retention."""

from __future__ import annotations

import asyncio
import sqlite3

import aiohttp

from tui_proxy.capture.retention import REFUSED_KEEP, prune

KEY = "sk-owner-" + "x" * 24


async def test_a_hundred_requests_without_the_key_leave_the_owners_history(start_engine):
    engine = await start_engine(api_key=KEY, capture_max_count=20)
    owner_ids = []
    async with aiohttp.ClientSession() as session:
        for i in range(5):
            body = {"model": "sonnet", "messages": [{"role": "user", "content": f"[[fake:echo]] owner {i}"}]}
            async with session.post(engine.url + "/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {KEY}"}) as response:
                assert response.status == 200
                owner_ids.append(response.headers["x-request-id"])
        refused_ids = []
        for i in range(100):
            async with session.post(engine.url + "/v1/chat/completions", json={"model": "sonnet", "messages": []}) as response:
                assert response.status == 401
                refused_ids.append(response.headers["x-request-id"])
    assert await _flushed(engine)
    await _prune_now(engine)
    rows = await engine.store.alist(limit=1000)
    ids = [row.id for row in rows]
    assert set(owner_ids) <= set(ids), "an owner's exchange was pushed out by refused requests"
    kept_refused = [i for i in ids if i in set(refused_ids)]
    # Still shown (the newest of them), but bounded by their own small ring.
    assert 0 < len(kept_refused) <= min(REFUSED_KEEP, 20)
    assert kept_refused[0] == refused_ids[-1]


async def _flushed(engine) -> bool:
    return await asyncio.to_thread(engine.store.flush, 10)


async def _prune_now(engine) -> None:
    """A full prune with the engine's policy (the writer's own runs in steps, after batches)."""
    policy = engine.store.writer._policy

    def full() -> int:
        conn = sqlite3.connect(engine.store.path, isolation_level=None)
        try:
            return prune(conn, policy, engine.clock())
        finally:
            conn.close()

    await asyncio.to_thread(full)
