"""Process faults: crashes, hangs, signals ignored, stderr floods, mid-stream retries,
usage errors. These are the cases the engine's watchdogs and error mapping exist for."""

from __future__ import annotations

from . import ids, lifecycle
from . import text as texts
from .failures import FAILURES, _server_hint, configured_retries
from .run import Run
from .stdout import stderr

ANSWER = "A perfectly normal answer, streamed in several parts."

BUN_CRASH = """============================================================
Bun v1.3.2 (b131639c) Linux x64 (baseline)
Linux Kernel v6.8.0 | glibc v2.39
CPU: sse42 popcnt avx avx2
Args: "claude" "-p" "--output-format" "stream-json"
Features: jsc fetch(3) http_server spawn(2) standalone_executable
Elapsed: 812ms | User: 402ms | Sys: 91ms
RSS: 0.31GB | Peak: 0.33GB | Commit: 0.52GB | Faults: 0

panic(main thread): Segmentation fault at address 0x10
oh no: Bun has crashed. This indicates a bug in Bun, not your code.

To send a redacted crash report to Bun's team,
please file a GitHub issue using the link below:

 https://bun.report/1.3.2/lr1b131639cAggggE+7oC_2k0/6Bm3vuhD___A2AgE
"""


def crash_midstream(run: Run) -> None:
    """`after` deltas, then a Bun crash report on stderr and exit `code` (3): no result line."""
    after, code = run.spec.int("after", 3), run.spec.int("code", 3)
    run.init()
    response = run.response()
    response.start()
    response.open_text()
    for chunk in texts.short_words(after):
        response.text_delta(chunk)
    stderr(BUN_CRASH)
    lifecycle.exit_now(code)


def exit_no_result(run: Run) -> None:
    """init (unless init=0), then `stderr` text and exit `code` without a result line."""
    if run.spec.bool("init", True):
        run.init()
        run.status()
    stderr(run.spec.str("stderr", "Error: the fake CLI exited without a result"))
    lifecycle.exit_now(run.spec.int("code", 1))


def hang(run: Run) -> None:
    """Prints nothing, never exits (SIGTERM → 143)."""
    lifecycle.sleep_forever()


def _start_then_silence(run: Run) -> None:
    run.init()
    response = run.response()
    response.start()
    response.open_text()
    for chunk in texts.short_words(run.spec.int("deltas", 2)):
        response.text_delta(chunk)
    lifecycle.sleep_forever()


def hang_after_start(run: Run) -> None:
    """init, status, message_start, 2 deltas, then silence forever."""
    _start_then_silence(run)


def no_exit_after_result(run: Run) -> None:
    """A complete success, then never exits (the CLI sometimes does this)."""
    run.init()
    run.answer(texts.split_words(ANSWER, 4))
    run.result()
    lifecycle.sleep_forever()


def ignore_sigterm(run: Run) -> None:
    """SIGTERM ignored: only SIGKILL ends it. result=1 prints a full success before hanging."""
    lifecycle.ignore_sigterm()
    if run.spec.bool("result", False):
        no_exit_after_result(run)
    _start_then_silence(run)


def stderr_noise(run: Run) -> None:
    """A normal answer while `lines` (2000, > a pipe buffer) stderr lines are written."""
    total = run.spec.int("lines", 2000)
    chunks = texts.split_words(ANSWER, 4)
    per_delta = -(-total // (len(chunks) + 1))
    written = 0

    def noise(_number: int = 0) -> None:
        nonlocal written
        count = min(per_delta, total - written)
        if count > 0:
            stderr("".join(f"[DEBUG] fake noise line {written + i}: {'.' * 60}\n" for i in range(count)))
            written += count

    run.init()
    noise()
    response = run.response()
    response.start()
    response.text(chunks, noise)
    response.finish()
    run.result()


def midstream_retry(run: Run) -> None:
    """The connection drops after `partial` deltas: synthetic stops, api_retry, then a new
    message_start (no new status line) streams the whole text again. Result = the full text."""
    chunks = texts.split_words(run.spec.str("text", ANSWER), 4)
    run.init()
    broken = run.response()
    broken.start()
    broken.open_text()
    for chunk in chunks[: run.spec.int("partial", 1)]:
        broken.text_delta(chunk)
    broken.synthetic_stop()
    run.api_retry(1, configured_retries(run.session.env) or 1, 577, None, "unknown")
    response = run.response()
    response.start(status=False)
    response.text(chunks)
    response.finish()
    run.result()


def midstream_fallback(run: Run) -> None:
    """An SSE `error` event after `partial` deltas: synthetic stops, then the CLI's
    non-streaming retry, whose assistant text was never streamed as deltas."""
    run.init()
    broken = run.response()
    broken.start()
    broken.open_text()
    for chunk in texts.split_words("Partial answer that will be replaced", 4)[: run.spec.int("partial", 1)]:
        broken.text_delta(chunk)
    broken.synthetic_stop()
    run.rate_limit_event()
    run.response().non_streamed(run.spec.str("text", ANSWER))
    run.result()


def retry_recovers(run: Run) -> None:
    """`retries` failed attempts (api_retry with `status`, default 529), then a normal answer
    whose message_start comes without a new system/status line."""
    status = run.spec.int("status", 529)
    error = {529: "overloaded", 429: "rate_limit"}.get(status, "server_error" if status >= 500 else "unknown")
    retries = run.spec.int("retries", 1)
    run.init()
    run.status()
    for attempt in range(1, retries + 1):
        run.api_retry(attempt, max(retries, configured_retries(run.session.env)), 563, status, error)
    response = run.response()
    response.start(status=False)
    response.text(texts.split_words(run.spec.str("text", ANSWER), 4))
    response.finish()
    run.result()


def usage_error(run: Run) -> None:
    """As if argv had an unknown option: stderr message, exit 1, nothing on stdout."""
    stderr(f"error: unknown option '{run.spec.str('option', '--frobnicate')}'")
    lifecycle.exit_now(1)


# ----- the mock API's scenarios, as the real CLI prints them (tests/golden) ---------------------
# Same names as tests/mock_anthropic, same texts, so one transcript can be compared with the other
# (tests/test_fake_matches_real.py).

MOCK_CHUNKS = ["Hello", " from the", " mock Anthropic", " API."]  # the mock's `text` answer
MOCK_PARTIAL = "Partial"  # the one delta the mock sends before breaking a stream


def _mock_chunks(run: Run) -> list[str]:
    text = run.spec.params.get("text")
    return texts.split_words(text, 4) if text is not None else list(MOCK_CHUNKS)


def _broken_stream(run: Run) -> None:
    """message_start, one delta, then the synthetic stops the CLI makes up (abandoned_blocks)."""
    broken = run.response()
    broken.start()
    broken.open_text()
    broken.text_delta(run.spec.str("partial", MOCK_PARTIAL))
    broken.synthetic_stop()


def _non_streaming_fallback(run: Run) -> None:
    """The CLI's non-streaming retry after a broken stream: its text never streamed as deltas."""
    run.rate_limit_event()
    run.response().non_streamed("".join(_mock_chunks(run)))
    run.result()


def midstream_error(run: Run) -> None:
    """The mock's `midstream_error`: an SSE error event (overloaded) after one delta, synthetic
    stops, then the non-streaming fallback's answer (golden `midstream_error`). `times=2`: the
    fallback fails too: assistant[server_error] 529 overloaded_error, exit 1 (golden
    `midstream_error_fallback_fails`)."""
    run.init()
    _broken_stream(run)
    if run.spec.int("times", 1) < 2:
        _non_streaming_fallback(run)
        return
    failure = FAILURES["overloaded"]
    # Only the broken stream was paid for: the real result keeps its usage, but modelUsage is {}
    # and total_cost_usd 0 (no completed call).
    run.model_usage = dict  # type: ignore[method-assign]
    text = failure.text.format(hint=_server_hint(run.session.env))
    run.error_assistant(failure.error, text, request_id=ids.request_id(), is_api_error_message=True,
                        api_error_status=failure.status, api_error_type=failure.api_error_type)
    run.result(is_error=True, text=text, terminal_reason="api_error", api_error_status=failure.status,
               api_error_type=failure.api_error_type, stop_reason="stop_sequence")


def drop(run: Run) -> None:
    """The mock's `drop`: the connection is cut after one delta. With CLAUDE_CODE_MAX_RETRIES ≥ 1:
    synthetic stops, api_retry (no status), and the whole answer streamed again under a new
    message_start without a status line (golden `drop`); with 0: synthetic stops, then the
    non-streaming fallback (golden `drop_no_retry`)."""
    run.init()
    _broken_stream(run)
    retries = configured_retries(run.session.env)
    if retries < 1:
        _non_streaming_fallback(run)
        return
    run.api_retry(1, retries, 577, None, "unknown")
    response = run.response()
    response.start(status=False)
    response.text(_mock_chunks(run))
    response.finish()
    run.result()


def recovers_529(run: Run) -> None:
    """The mock's `529 times=1` (golden `529_recovers`): one overloaded attempt (api_retry 529),
    then the mock's answer. `retries=N`, `status=N`, `text="…"` as for retry_recovers."""
    run.spec.params.setdefault("status", "529")
    if "text" not in run.spec.params:
        run.spec.params["text"] = "".join(MOCK_CHUNKS)
    retry_recovers(run)


def stall(run: Run) -> None:
    """The mock's `stall`: message_start, then silence forever (the real CLI's own watchdog
    waits ≥ 300 s); SIGTERM → 143 with nothing more (golden `stall`)."""
    run.init()
    run.response().start()
    lifecycle.sleep_forever()
