"""The bus: every subscriber in order, or only the event types it asked for; a failing one breaks nothing."""

from __future__ import annotations

from tui_proxy.events import CliStdout, EventBus, ExchangeFinished, Notice, TokenDelta


def _events():
    return [
        CliStdout("x1", 1.0, lines=("{}",)),
        TokenDelta("x1", 1.0, kind="text", text="hi"),
        Notice("", 1.0, level="info", message="up"),
        ExchangeFinished("x1", 2.0, status=200),
    ]


def test_only_the_types_asked_for_and_everything_for_the_others():
    bus = EventBus()
    seen: list[tuple[str, str]] = []
    bus.subscribe(lambda e: seen.append(("all", type(e).__name__)))
    bus.subscribe(lambda e: seen.append(("some", type(e).__name__)), only=(ExchangeFinished, Notice))
    for event in _events():
        bus.publish(event)
    assert seen == [
        ("all", "CliStdout"), ("all", "TokenDelta"), ("all", "Notice"), ("some", "Notice"),
        ("all", "ExchangeFinished"), ("some", "ExchangeFinished"),
    ]  # fmt: skip


def test_subscribing_and_unsubscribing_between_events_take_effect_at_once():
    bus = EventBus()
    seen: list[str] = []
    finished = ExchangeFinished("x1", 2.0, status=200)
    bus.publish(finished)  # routes are worked out for a type before anyone listens
    unsubscribe = bus.subscribe(lambda e: seen.append("late"), only=(ExchangeFinished,))
    bus.publish(finished)
    unsubscribe()
    bus.publish(finished)
    assert seen == ["late"]


def test_a_failing_subscriber_does_not_stop_the_others(caplog):
    bus = EventBus()
    seen: list[str] = []

    def broken(event):
        raise RuntimeError("boom")

    bus.subscribe(broken)
    bus.subscribe(lambda e: seen.append(type(e).__name__), only=(Notice,))
    bus.publish(Notice("", 1.0, level="info", message="up"))
    assert seen == ["Notice"] and "boom" in caplog.text
