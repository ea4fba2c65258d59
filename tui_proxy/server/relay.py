"""A CLI run answered over HTTP, whatever the API face: the one piece of server code between a
request and its run.

For each request: read and decode the body, open the exchange, let the face parse it, wait for
admission, get its run from the registry (a parked one continued, or a new one), then answer:
- streaming: hold the headers until the model's first output (so that early failures reach the
  client as real HTTP statuses), commit after `stream_hold` seconds of silence anyway and keep
  the connection alive with comments; send the face's events as the run yields, deltas that
  arrived together in one write; a failure after the first byte is the face's error event;
- not streaming: collect the answer, render the face's body, write it within a bound;
then park the run (it waits for the client's tool results) or settle it (reap the child off
the request), and close the exchange. A client that leaves kills its run; nothing is lost: every
exchange, failed or cut, ends with an `ExchangeFinished`.
"""

from __future__ import annotations

import asyncio
from contextlib import aclosing
from operator import attrgetter

from aiohttp import web

from ..claude import outcome
from ..claude.plan import RunPlan, plan_run
from ..claude.run import CliRun
from ..claude.run_events import Done, Restart, Text, Thinking
from ..errors import ProxyError
from ..events import ResponseChunk, ResponseStarted
from ..exchange import Exchange
from ..tools.stream_calls import ToolCallArguments, ToolCallStarted
from .body import decode_body
from .exchanges import begin_exchange, close_exchange, json_body, peek_model_and_stream, response_headers, send_error
from .face import Answer, Face, Parsed, SseEvent
from .keys import ENGINE, EngineView
from .sse import WRITE_TIMEOUT, SseStream, frame


_data = attrgetter("data")


def relay(face: Face):
    """The aiohttp handler of a face's model route."""

    async def handle(request: web.Request) -> web.StreamResponse:
        engine = request.app[ENGINE]
        body = await request.read()
        data, refused = await decode_body(body, engine.config.max_prompt_chars)
        model, stream = peek_model_and_stream(data)
        exchange = begin_exchange(request, body, model=model, stream=stream)
        try:
            if refused is not None:
                raise refused
            parsed = await face.parse(data, engine)
            async with engine.admission.slot():
                plan = plan_run(parsed.request)
                run = await engine.runs.start(exchange, parsed.request, plan)
                try:
                    if parsed.request.stream:
                        return await _stream(request, engine, face, exchange, parsed, plan, run)
                    return await _complete(request, engine, face, exchange, parsed, plan, run)
                finally:
                    engine.runs.release(exchange, run)
        except ProxyError as error:
            return await send_error(request, exchange, error, face.errors)

    return handle


async def _complete(request: web.Request, engine: EngineView, face: Face, exchange: Exchange, parsed: Parsed, plan: RunPlan, run: CliRun) -> web.StreamResponse:
    texts: list[str] = []
    thinking: list[str] = []
    done: Done | None = None
    try:
        async with aclosing(run.events()) as events:
            async for event in events:
                kind = type(event)
                if kind is Text:
                    texts.append(event.text)
                elif kind is Thinking:
                    thinking.append(event.text)
                elif kind is Restart:
                    texts = ["".join(texts)[: event.keep]]
                elif kind is Done:
                    done = event
                # Tool-call pieces: the whole calls come with Done.
    except asyncio.CancelledError:
        run.kill("disconnect")
        await asyncio.shield(engine.runs.reap(run))
        _finish_cut(face, exchange, "".join(texts), "".join(thinking))
        raise
    except ProxyError:
        await asyncio.shield(engine.runs.reap(run))
        raise
    assert done is not None
    answer = Answer("".join(texts), "".join(thinking), done)
    body = json_body(face.body(exchange, parsed, answer))
    headers = {**response_headers(request, exchange), "Content-Type": "application/json"}
    response = web.Response(status=200, body=body, headers=headers)
    kept = engine.runs.keep(run, parsed.request, plan, done, answer.text)
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
        _answered(engine, run, exchange, answer, kept)
    return response


async def _stream(request: web.Request, engine: EngineView, face: Face, exchange: Exchange, parsed: Parsed, plan: RunPlan, run: CliRun) -> web.StreamResponse:
    sse = SseStream(request, response_headers(request, exchange), engine.config.keepalive_interval)
    shape = face.stream(exchange, parsed)
    texts: list[str] = []
    thinking: list[str] = []
    publish = exchange.publish
    #: Events held for one write with what follows: published as one `ResponseChunk` when
    #: written (or, like the held frames, on the loop's next turn).
    unpublished: list[SseEvent] = []

    def publish_chunks() -> None:
        if unpublished:
            first = unpublished[0]
            more = tuple(map(_data, unpublished[1:]))
            unpublished.clear()
            publish(ResponseChunk, data=first.data, event=first.event, more=more)

    call_soon = asyncio.get_running_loop().call_soon

    def hold_events(events: list[SseEvent]) -> None:
        """More is already here: these go out in one write with it (or on the loop's next turn)."""
        for event in events:
            if not unpublished:
                call_soon(publish_chunks)
            unpublished.append(event)
            sse.hold(frame(event.data, event.event))

    async def send(events: list[SseEvent], *, last: bool = False) -> None:
        """Write `events` now (with those held); `last`: the stream's end leaves with them."""
        if not events:
            if last:
                await sse.close()
            return
        if len(events) > 1:
            hold_events(events[:-1])
        event = events[-1]
        unpublished.append(event)
        publish_chunks()
        if last:
            await sse.close(frame(event.data, event.event))
        else:
            await sse.send(frame(event.data, event.event))

    async def open_stream() -> None:
        await sse.commit()
        publish(ResponseStarted, status=200, headers=sse.headers, streaming=True)
        # Held: the headers, the opening and the first output leave in one write.
        hold_events(shape.opening())

    opening: asyncio.Future | None = None

    async def commit() -> None:
        # Once, whoever comes first (the first output or the hold timer); others wait for it.
        # The first opens the stream itself, not in a task of its own: what it holds then
        # leaves with its first output, in one write.
        nonlocal opening
        if opening is not None:
            await opening
            return
        opening = asyncio.get_running_loop().create_future()
        try:
            await open_stream()
        except BaseException as exc:
            if isinstance(exc, asyncio.CancelledError):
                opening.cancel()
            else:
                opening.set_exception(exc)
                opening.exception()  # retrieved: whoever awaits it later gets it raised
            raise
        opening.set_result(None)

    # Hold the headers until the model's first output, so that early failures (not logged
    # in, limits, unknown model) reach the client as real statuses; commit anyway after
    # `stream_hold` seconds of silence and keep the connection alive with comments.
    hold = asyncio.get_running_loop().call_later(engine.config.stream_hold, lambda: asyncio.ensure_future(_commit_quietly(commit)))
    try:
        try:
            async with aclosing(run.events()) as events:
                async for event in events:
                    kind = type(event)
                    if opening is None or not opening.done():
                        if kind is not Restart and kind is not ToolCallArguments:
                            await commit()
                    if kind is Text:
                        texts.append(event.text)
                        if run.more_ready:
                            hold_events(shape.text(event.text))  # no await: more of the same read follows
                        else:
                            await send(shape.text(event.text))
                    elif kind is Thinking:
                        thinking.append(event.text)
                        await send(shape.thinking(event.text))
                    elif kind is Restart:
                        if sum(map(len, texts)) > event.keep:
                            raise outcome.retry_diverged()
                    elif kind is ToolCallStarted:
                        await send(shape.tool_call_started(event.index, event.id, event.name))
                    elif kind is ToolCallArguments:
                        await send(shape.tool_call_arguments(event.index, event.fragment))
                    else:
                        answer = Answer("".join(texts), "".join(thinking), event)
                        kept = engine.runs.keep(run, parsed.request, plan, event, answer.text)
                        hold.cancel()
                        await send(shape.finished(answer), last=True)  # one write: the end, then EOF
                        _answered(engine, run, exchange, answer, kept)
                        return sse.response  # type: ignore[return-value]
        except ProxyError as error:
            hold.cancel()
            await asyncio.shield(engine.runs.reap(run))
            if opening is None:
                raise  # nothing sent yet: a real HTTP status
            await commit()
            # Mid-stream: the face's error event (the SDKs raise on it), never a fake success.
            await send(shape.failed(error), last=True)
            status = 200
            close_exchange(exchange, status=status, error=error.info(face.errors.type(error), status), text="".join(texts), thinking="".join(thinking), complete=False)
            return sse.response  # type: ignore[return-value]
    except (asyncio.CancelledError, ConnectionError) as exc:
        hold.cancel()
        publish_chunks()
        run.kill("disconnect")
        await asyncio.shield(engine.runs.reap(run))  # also un-keeps it: the client will not be back
        _finish_cut(face, exchange, "".join(texts), "".join(thinking))
        if isinstance(exc, asyncio.CancelledError):
            raise
        return sse.response or web.Response(status=499)
    raise AssertionError("the run ended without Done")  # events() always ends in Done or raises


def _answered(engine: EngineView, run: CliRun, exchange: Exchange, answer: Answer, kept: bool) -> None:
    """The answer is out: close the exchange; reap the child unless it is kept (parked or warm)."""
    done = answer.done
    fields = dict(status=200, finish_reason=done.finish_reason, usage=done.usage, text=answer.text, thinking=answer.thinking)
    if kept:
        close_exchange(exchange, **fields)
    else:
        engine.runs.settle(run, lambda: close_exchange(exchange, **fields))


async def _commit_quietly(commit) -> None:
    try:
        await commit()
    except (ConnectionError, RuntimeError):
        pass


async def _send_whole(request: web.Request, response: web.Response) -> None:
    await response.prepare(request)
    await response.write_eof()


def _finish_cut(face: Face, exchange: Exchange, text: str, thinking: str) -> None:
    error = outcome.client_disconnected()
    close_exchange(exchange, status=499, error=error.info(face.errors.type(error)), text=text, thinking=thinking, complete=False)
