"""`kill -9` mid-stream: every finished exchange survives, the cut one is kept and marked.

The writer runs in a real child process that is killed without warning; the engine-level
variant (a real `claude-max-tui --headless`) lives in test_capture_engine.py.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap

from tui_proxy.capture import CaptureState, CaptureStore

CHILD = textwrap.dedent(
    """
    import json, sys, time
    from tui_proxy.capture import CaptureStore
    from tui_proxy.capture.synthetic import exchange_events
    from tui_proxy.events import EventBus, ExchangeFinished

    store = CaptureStore.open(sys.argv[1])
    bus = EventBus()
    store.record(bus)
    finished = []
    for i in range(20):
        events = exchange_events(words=30)
        for event in events:
            bus.publish(event)
        finished.append(events[0].exchange_id)
    cut = exchange_events(words=10_000)
    print(json.dumps({"finished": finished, "cut": cut[0].exchange_id}), flush=True)
    for event in cut[:-1]:              # a long stream, never finished
        bus.publish(event)
        time.sleep(0.001)
    """
)


def test_kill_9_mid_stream(tmp_path):
    db = tmp_path / "data" / "captures.sqlite3"
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(db)], stdout=subprocess.PIPE, text=True)
    try:
        ids = json.loads(child.stdout.readline())
        # Let the cut exchange stream for a while, then pull the plug.
        import time

        time.sleep(0.6)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
    with CaptureStore.open(db) as store:  # a restart: recovery marks the cut one
        for exchange_id in ids["finished"]:
            capture = store.get(exchange_id)
            assert capture is not None and capture.complete, exchange_id
            assert capture.text and len(capture.stdout) == 32
        cut = store.get(ids["cut"])
        assert cut is not None and cut.state is CaptureState.INTERRUPTED and cut.incomplete
        assert cut.request_body and cut.cli_argv and len(cut.stdout) > 10 and cut.status is None
        assert len(store.list(limit=100)) == 21
