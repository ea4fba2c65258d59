"""An exchange the console holds in memory, shaped like a stored capture.

Replay and its diff work on captures. When the capture store is off, this is what the
console gives them instead, so there is one replay path whether the store is on or not.
"""

from __future__ import annotations

from ..capture.model import Capture, CaptureState
from .exchange_view import ExchangeView


def capture_from_view(view: ExchangeView) -> Capture:
    if view.in_flight:
        state = CaptureState.OPEN
    else:
        state = CaptureState.COMPLETE if view.complete else CaptureState.INCOMPLETE
    usage = view.usage
    error = view.error
    return Capture(
        id=view.id,
        started_at=view.received_at,
        method=view.method,
        path=view.path,
        client=view.client,
        model=view.model,
        stream=view.stream,
        status=view.status,
        ttft_ms=view.ttft_ms(),
        duration_ms=view.final_duration_ms,
        prompt_tokens=None if usage is None else usage.prompt_tokens,
        completion_tokens=None if usage is None else usage.completion_tokens,
        finish_reason=view.finish_reason,
        error_type=None if error is None else error.type,
        error_message=None if error is None else error.message,
        replay_of=view.replay_of,
        state=state,
        remote=view.remote,
        ended_at=view.finished_at,
        request_headers=dict(view.headers),
        request_body=view.body,
        response_status=view.response_status,
        response_headers=dict(view.response_headers),
        response_streaming=view.stream,
        text=str(view.text),
        thinking=str(view.thinking),
        usage=usage,
        error=error,
        tool_calls=view.tool_calls,
    )
