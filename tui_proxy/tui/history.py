"""Exchanges of earlier runs, read back from the capture store.

The list loads summaries only (one query at start); an exchange's headers, bodies and
CLI transcript are read when it is first selected, in a thread, so a long history
never stalls the loop the proxy shares.
"""

from __future__ import annotations

from ..capture.model import Capture, CaptureState, CaptureSummary
from ..events import ErrorInfo, Usage
from .exchange_view import MAX_BODY_BYTES, CliLine, ExchangeView

_INTERRUPTED = ErrorInfo(0, "interrupted", "The proxy stopped before this exchange finished.", source="interrupted")


def view_from_summary(summary: CaptureSummary) -> ExchangeView:
    view = ExchangeView(
        id=summary.id,
        received_at=summary.started_at,
        method=summary.method,
        path=summary.path,
        client=summary.client,
        model=summary.model,
        stream=summary.stream,
        replay_of=summary.replay_of,
        from_history=True,
        details_loaded=False,
    )
    duration = summary.duration_ms or 0.0
    view.finished_at = summary.started_at + duration / 1000
    view.status = summary.status
    view.finish_reason = summary.finish_reason
    view.final_ttft_ms = summary.ttft_ms
    if summary.ttft_ms is not None:
        # What tok/s is measured over: first token to the end (a live row keeps both).
        view.first_token_at = summary.started_at + summary.ttft_ms / 1000
        view.last_token_at = view.finished_at
    view.final_duration_ms = summary.duration_ms
    view.complete = summary.complete
    if summary.prompt_tokens is not None or summary.completion_tokens is not None:
        view.usage = Usage(summary.prompt_tokens or 0, summary.completion_tokens or 0, cached_tokens=summary.cached_tokens or 0, cost_usd=summary.cost_usd)
        view.usage_partial = True  # the list carries no cache writes nor reasoning tokens
    view.quota = summary.quota
    if summary.error_type:
        view.error = ErrorInfo(summary.status or 0, summary.error_type, summary.error_message or "", source="history")
    elif summary.state in (CaptureState.INTERRUPTED, CaptureState.OPEN):
        view.error = _INTERRUPTED
    return view


def fill_from_capture(view: ExchangeView, capture: Capture) -> None:
    """Everything the detail view and the panels show, from the full capture."""
    view.headers = dict(capture.request_headers)
    view.body = capture.request_body[:MAX_BODY_BYTES]
    view.body_size = len(capture.request_body)
    view.remote = capture.remote
    view.argv = capture.cli_argv
    view.pid = capture.cli_pid
    view.stdin = capture.cli_stdin or ""
    view.cwd = capture.cli_cwd or ""
    view.system_prompt = capture.system_prompt
    lines: list[CliLine] = [(line.at, "out", line.text) for line in capture.stdout]
    lines += [(piece.at, "err", piece.text.rstrip("\n")) for piece in capture.stderr]
    lines.sort(key=lambda line: line[0])
    view.cli_lines.extend(lines)
    view.cli_lines_total = len(lines)
    if lines:
        view.first_cli_line_at = lines[0][0]
        view.spawned_at = view.spawned_at or lines[0][0]
    view.returncode = capture.exit_code
    view.killed_because = capture.killed_because
    view.response_status = capture.response_status
    view.response_headers = dict(capture.response_headers)
    view.response_started_at = capture.response_started_at
    view.chunks.extend(chunk.text for chunk in capture.chunks)
    view.chunks_total = len(capture.chunks)
    if capture.text and not len(view.text):
        view.text.append(capture.text)
    if capture.thinking and not len(view.thinking):
        view.thinking.append(capture.thinking)
    view.tool_calls = capture.tool_calls
    if capture.usage is not None:
        view.usage = capture.usage
        view.usage_partial = False
    if capture.error is not None:
        view.error = capture.error
    if capture.ended_at is not None:
        view.finished_at = capture.ended_at
    view.details_loaded = True
