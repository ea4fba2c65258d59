"""`POST /v1/chat/completions`: one request, one CLI run, answered as OpenAI would.

A request that brings the results of tool calls may instead continue the run that made
them (`tools.parking`); a run that ends at tool calls is parked for that.
"""

from __future__ import annotations

import asyncio
import json
from contextlib import aclosing

from aiohttp import web

from ..claude import outcome
from ..claude.run import CliRun
from ..claude.run_events import Done, Restart, Text, Thinking
from ..events import ResponseChunk, ResponseStarted
from ..exchange import Exchange
from ..openai import chat_response
from ..openai.errors import error_body
from ..openai.chat_request import ChatRequest, parse_chat_request
from ..errors import ProxyError
from ..tools.parking import parked_runs
from ..tools.stream_calls import ToolCallArguments, ToolCallStarted
from ..translate import RunPlan, plan_chat_run
from .body import decode_body
from .exchanges import begin_exchange, finish, json_body, peek_model_and_stream, response_headers, send_error, settle
from .keys import ENGINE
from .sse import WRITE_TIMEOUT, SseStream


async def chat_completions(request: web.Request) -> web.StreamResponse:
    body = await request.read()
    data, refused = await decode_body(body, request.app[ENGINE].config.max_prompt_chars)
    model, stream = peek_model_and_stream(data)
    exchange = begin_exchange(request, body, model=model, stream=stream)
    try:
        if refused is not None:
            raise refused
        chat = parse_chat_request(data)
        engine = request.app[ENGINE]
        async with engine.admission.slot():
            plan = plan_chat_run(chat)
            claimed = parked_runs(engine).claim(chat, plan)
            if claimed is not None:
                run, results = claimed
                run.resume(exchange, plan.limiter(), results)
            else:
                run = CliRun(engine.run_settings, exchange, plan.prompt, plan.options, plan.limiter(), plan.tools)
            engine.track(exchange)
            try:
                if chat.stream:
                    return await _stream(request, exchange, chat, plan, run)
                return await _complete(request, exchange, chat, plan, run)
            finally:
                engine.untrack(exchange)
    except ProxyError as error:
        return await send_error(request, exchange, error)


async def _complete(request: web.Request, exchange: Exchange, chat: ChatRequest, plan: RunPlan, run: CliRun) -> web.StreamResponse:
    texts: list[str] = []
    thinking: list[str] = []
    done: Done | None = None
    try:
        async with aclosing(run.events()) as events:
            async for event in events:
                if type(event) is Text:
                    texts.append(event.text)
                elif type(event) is Thinking:
                    thinking.append(event.text)
                elif type(event) is Restart:
                    texts = ["".join(texts)[: event.keep]]
                elif type(event) is Done:
                    done = event
                # Tool-call pieces: the whole calls come with Done.
    except asyncio.CancelledError:
        run.kill("disconnect")
        await asyncio.shield(run.finish())
        _finish_cut(exchange, "".join(texts), "".join(thinking))
        raise
    except ProxyError:
        await asyncio.shield(run.finish())
        raise
    assert done is not None
    text = "".join(texts)
    payload = chat_response.completion(
        "chatcmpl-" + exchange.id,
        int(exchange.started_at),
        chat.model.id,
        # With tool calls and no text, OpenAI's content is null.
        content=text if text or not done.tool_calls else None,
        finish_reason=done.finish_reason,
        usage=done.usage,
        reasoning="".join(thinking) or None,
        tool_calls=chat_response.tool_call_objects(done.tool_calls),
    )
    body = json_body(payload)
    headers = {**response_headers(exchange), "Content-Type": "application/json"}
    response = web.Response(status=200, body=body, headers=headers)
    parked = _park(request.app[ENGINE], chat, plan, run, exchange, done)
    exchange.publish(ResponseStarted, status=200, headers=headers, streaming=False)
    exchange.publish(ResponseChunk, data=body.decode())
    try:
        # Bounded like a stream's writes: a client that never reads must not keep its slot.
        await asyncio.wait_for(_send_whole(request, response), WRITE_TIMEOUT)
    except asyncio.TimeoutError:
        if request.transport is not None:
            request.transport.abort()
    finally:
        # The answer is out; reaping the child must not delay it.
        _answered(request.app[ENGINE], run, exchange, done, parked, text=text, thinking="".join(thinking))
    return response


async def _stream(request: web.Request, exchange: Exchange, chat: ChatRequest, plan: RunPlan, run: CliRun) -> web.StreamResponse:
    engine = request.app[ENGINE]
    sse = SseStream(request, response_headers(exchange), engine.config.keepalive_interval)
    chunks = chat_response.ChunkWriter("chatcmpl-" + exchange.id, int(exchange.started_at), chat.model.id, include_usage=chat.include_usage)
    texts: list[str] = []
    thinking: list[str] = []
    publish = exchange.publish

    async def send(payload: str, *, more_coming: bool = False) -> None:
        publish(ResponseChunk, data=payload)
        if more_coming:
            sse.hold(payload)  # the CLI's next line is already here: one write for both
        else:
            await sse.data(payload)

    async def open_stream() -> None:
        await sse.commit()
        publish(ResponseStarted, status=200, headers=sse.headers, streaming=True)
        await send(chunks.role())

    opening: asyncio.Future | None = None

    async def commit() -> None:
        # Once, whoever comes first (the first output or the hold timer); others wait for it.
        nonlocal opening
        if opening is None:
            opening = asyncio.ensure_future(open_stream())
        await opening

    # Hold the headers until the model's first output, so that early failures (not logged
    # in, limits, unknown model) reach the client as real statuses; commit anyway after
    # `stream_hold` seconds of silence and keep the connection alive with comments.
    hold = asyncio.get_running_loop().call_later(engine.config.stream_hold, lambda: asyncio.ensure_future(_commit_quietly(commit)))
    try:
        try:
            async with aclosing(run.events()) as events:
                async for event in events:
                    kind = type(event)
                    if kind is Text:
                        if opening is None or not opening.done():
                            await commit()
                        texts.append(event.text)
                        await send(chunks.content(event.text), more_coming=run.process is not None and run.process.more_buffered)
                    elif kind is Thinking:
                        if opening is None or not opening.done():
                            await commit()
                        thinking.append(event.text)
                        await send(chunks.reasoning(event.text))
                    elif kind is Restart:
                        if sum(map(len, texts)) > event.keep:
                            raise outcome.retry_diverged()
                    elif kind is ToolCallStarted:
                        if opening is None or not opening.done():
                            await commit()
                        await send(chunks.tool_call_start(event.index, event.id, event.name))
                    elif kind is ToolCallArguments:
                        await send(chunks.tool_call_arguments(event.index, event.fragment))
                    else:
                        if opening is None or not opening.done():
                            await commit()
                        parked = _park(engine, chat, plan, run, exchange, event)
                        await send(chunks.finish(event.finish_reason))
                        if chat.include_usage:
                            await send(chunks.usage(event.usage))
                        await send("[DONE]")
                        hold.cancel()
                        await sse.close()
                        _answered(engine, run, exchange, event, parked, text="".join(texts), thinking="".join(thinking))
                        return sse.response  # type: ignore[return-value]
        except ProxyError as error:
            hold.cancel()
            await asyncio.shield(run.finish())
            if opening is None:
                raise  # nothing sent yet: a real HTTP status
            await commit()
            # Mid-stream: an error event (the SDKs raise APIError on it), never a fake success.
            await send(json.dumps(error_body(error), ensure_ascii=False))
            await send("[DONE]")
            await sse.close()
            finish(exchange, status=200, error=error, text="".join(texts), thinking="".join(thinking), complete=False)
            return sse.response  # type: ignore[return-value]
    except (asyncio.CancelledError, ConnectionError) as exc:
        hold.cancel()
        parked_runs(engine).discard(run)  # parked just before the client left: it will not be back
        run.kill("disconnect")
        await asyncio.shield(run.finish())
        _finish_cut(exchange, "".join(texts), "".join(thinking))
        if isinstance(exc, asyncio.CancelledError):
            raise
        return sse.response or web.Response(status=499)
    raise AssertionError("the run ended without Done")  # events() always ends in Done or raises


def _park(engine, chat: ChatRequest, plan: RunPlan, run: CliRun, exchange: Exchange, done: Done) -> bool:
    """Park a run that waits for the client's tools, before the client can see the answer
    (its next request may come the moment it does)."""
    if done.finish_reason == "tool_calls" and parked_runs(engine).park(run, chat, plan, done):
        exchange.on_kill = None  # the run lives on under the parking lot's watch
        return True
    return False


def _answered(engine, run: CliRun, exchange: Exchange, done: Done, parked: bool, **fields) -> None:
    """The answer is out: close the exchange; reap the child unless it is parked."""
    fields.update(status=200, finish_reason=done.finish_reason, usage=done.usage)
    if parked:
        finish(exchange, **fields)
    else:
        settle(engine, run, exchange, **fields)


async def _commit_quietly(commit) -> None:
    try:
        await commit()
    except (ConnectionError, RuntimeError):
        pass


async def _send_whole(request: web.Request, response: web.Response) -> None:
    await response.prepare(request)
    await response.write_eof()


def _finish_cut(exchange: Exchange, text: str, thinking: str) -> None:
    finish(exchange, status=499, error=outcome.client_disconnected(), text=text, thinking=thinking, complete=False)

