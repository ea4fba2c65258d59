"""`captures list|show|export` against a store filled with synthetic exchanges."""

from __future__ import annotations

import argparse
import json
import os
import stat
import time

import pytest

from tui_proxy.capture import CaptureStore
from tui_proxy.capture.synthetic import exchange_events
from tui_proxy.commands import captures
from tui_proxy.events import EventBus

NOW = time.time()


@pytest.fixture
def data_dir(tmp_path):
    data = tmp_path / "data"
    with CaptureStore.open(data / "captures.sqlite3") as store:
        bus = EventBus()
        store.record(bus)
        for i, outcome in enumerate(["ok", "cli_error", "ok", "disconnect"]):
            for event in exchange_events(f"0193c1f2a4b{i}-5e1f09a{i}", start=NOW - 10 + i, outcome=outcome):
                bus.publish(event)
    return data


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    captures.add_parser(parser.add_subparsers())
    args = parser.parse_args(["captures", *argv])
    return args.run(args)


def test_list_text(data_dir, capsys):
    assert run("list", "--data-dir", str(data_dir)) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == [f"0193c1f2a4b{i}-5e1f09a{i}" for i in (3, 2, 1, 0)]
    assert "incomplete" in lines[0] and "server_error" in lines[2] and "stop" in lines[1]


def test_list_json_filter_and_paging(data_dir, capsys):
    assert run("list", "--json", "--filter", "server_error", "--data-dir", str(data_dir)) == 0
    (only,) = json.loads(capsys.readouterr().out)
    assert only["id"] == "0193c1f2a4b1-5e1f09a1" and only["status"] == 503 and only["state"] == "complete"
    assert run("list", "--json", "--limit", "1", "--before", "0193c1f2a4b2-5e1f09a2", "--data-dir", str(data_dir)) == 0
    assert [s["id"] for s in json.loads(capsys.readouterr().out)] == ["0193c1f2a4b1-5e1f09a1"]


def test_data_dir_from_the_environment(data_dir, capsys, monkeypatch):
    monkeypatch.setenv("CLAUDE_MAX_TUI_DATA_DIR", str(data_dir))
    assert run("list", "--json") == 0
    assert len(json.loads(capsys.readouterr().out)) == 4


def test_list_without_a_store(tmp_path, capsys):
    assert run("list", "--json", "--data-dir", str(tmp_path / "none")) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert not (tmp_path / "none").exists()  # reading never creates anything


def test_show(data_dir, capsys):
    assert run("show", "5e1f09a0", "--data-dir", str(data_dir)) == 0
    out = capsys.readouterr().out
    assert "--- request" in out and "Authorization: [redacted]" in out and "--- cli" in out
    assert "stdout +" in out and "data: [DONE]" in out and "--- answer" in out
    assert run("show", "0193c1f2a4b1", "--json", "--data-dir", str(data_dir)) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["exit_code"] == 1 and data["error"]["type"] == "server_error"


def test_show_missing_and_ambiguous(data_dir, capsys):
    assert run("show", "ffff", "--data-dir", str(data_dir)) == 1
    assert "no capture" in capsys.readouterr().err
    assert run("show", "0193c1f2a4b", "--data-dir", str(data_dir)) == 1
    assert "ambiguous" in capsys.readouterr().err


@pytest.mark.parametrize("fmt", ["curl", "har", "json"])
def test_export_formats(data_dir, capsys, fmt):
    assert run("export", "0193c1f2a4b0", "--format", fmt, "--to", "http://127.0.0.1:9999", "--data-dir", str(data_dir)) == 0
    out = capsys.readouterr().out
    if fmt == "curl":
        assert out.startswith("curl -sS -N http://127.0.0.1:9999/v1/chat/completions")
    elif fmt == "har":
        assert json.loads(out)["log"]["entries"][0]["request"]["url"] == "http://127.0.0.1:9999/v1/chat/completions"
    else:
        assert json.loads(out)["id"] == "0193c1f2a4b0-5e1f09a0"


def test_curl_export_goes_where_replay_would_send_it(data_dir, capsys, monkeypatch):
    """One rule for both (`replay.target_url`): the captured loopback Host unless the port
    is set; a HAR is a record of the request and keeps the captured Host."""
    for name in ("CLAUDE_MAX_TUI_PORT", "CLAUDE_MAX_TUI_HOST"):
        monkeypatch.delenv(name, raising=False)
    assert run("export", "0193c1f2a4b0", "--format", "curl", "--data-dir", str(data_dir)) == 0
    assert capsys.readouterr().out.startswith("curl -sS -N http://127.0.0.1:3456/v1/chat/completions")  # the captured Host
    monkeypatch.setenv("CLAUDE_MAX_TUI_PORT", "4000")
    assert run("export", "0193c1f2a4b0", "--format", "curl", "--data-dir", str(data_dir)) == 0
    assert capsys.readouterr().out.startswith("curl -sS -N http://127.0.0.1:4000/v1/chat/completions")
    assert run("export", "0193c1f2a4b0", "--format", "har", "--data-dir", str(data_dir)) == 0
    assert json.loads(capsys.readouterr().out)["log"]["entries"][0]["request"]["url"] == "http://127.0.0.1:3456/v1/chat/completions"


def test_export_to_a_private_file(data_dir, tmp_path):
    target = tmp_path / "out.har"
    assert run("export", "0193c1f2a4b0", "--format", "har", "-o", str(target), "--data-dir", str(data_dir)) == 0
    assert json.loads(target.read_text())["log"]["version"] == "1.2"
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600


def test_readers_do_not_disturb_a_running_writer(tmp_path, capsys):
    db = tmp_path / "captures.sqlite3"
    with CaptureStore.open(db) as store:
        bus = EventBus()
        store.record(bus)
        events = exchange_events()
        for event in events[:5]:
            bus.publish(event)
        store.flush()
        assert run("list", "--json", "--data-dir", str(tmp_path)) == 0
        assert json.loads(capsys.readouterr().out)[0]["state"] == "open"
        for event in events[5:]:
            bus.publish(event)
        store.flush()
        assert run("list", "--json", "--data-dir", str(tmp_path)) == 0
        assert json.loads(capsys.readouterr().out)[0]["state"] == "complete"


def test_show_prints_the_tool_calls_the_model_made(tmp_path, capsys):
    from tui_proxy.events import ToolCallsRequested

    data = tmp_path / "data"
    xid = "0193c1f2a4c0-70011ca1"
    with CaptureStore.open(data / "captures.sqlite3") as store:
        bus = EventBus()
        store.record(bus)
        *events, finish = exchange_events(xid, start=NOW)
        for event in events:
            bus.publish(event)
        bus.publish(ToolCallsRequested(xid, finish.at, calls=(("call_1", "get_weather", '{"city":"Paris"}'),)))
        bus.publish(finish)
        store.flush()
        assert store.get(xid).tool_calls == (("call_1", "get_weather", '{"city":"Paris"}'),)
    assert run("show", xid, "--data-dir", str(data)) == 0
    out = capsys.readouterr().out
    assert '--- tool calls\nget_weather (call_1)\n{\n  "city": "Paris"\n}' in out
