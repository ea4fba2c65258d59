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


def test_events_are_built_as_their_fields_say_and_stay_frozen():
    # Event classes get a quicker __init__ than the frozen dataclass's (events.py `_quick_init`):
    # the same parameters, in order, with the same defaults, every field set, nothing mutable.
    import dataclasses
    import inspect

    from tui_proxy import events

    classes = [c for c in vars(events).values() if isinstance(c, type) and issubclass(c, events.Event) and c is not events.Event]
    assert len(classes) >= 15
    for cls in classes:
        fields = dataclasses.fields(cls)
        params = list(inspect.signature(cls).parameters.values())
        assert [p.name for p in params] == [f.name for f in fields], cls
        for p, f in zip(params, fields):
            if f.default is not dataclasses.MISSING:
                assert p.default is f.default, (cls, f.name)
            elif f.default_factory is dataclasses.MISSING:
                assert p.default is inspect.Parameter.empty, (cls, f.name)
        values = [object() for _ in fields]
        event = cls(*values)
        assert [getattr(event, f.name) for f in fields] == values, cls
        assert event == cls(**{f.name: v for f, v in zip(fields, values)})
        try:
            event.exchange_id = "changed"  # type: ignore[misc]
        except dataclasses.FrozenInstanceError:
            pass
        else:
            raise AssertionError(f"{cls.__name__} is not frozen")
        required = [f for f in fields if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
        try:
            cls(*values[: len(required) - 1])
        except TypeError:
            pass
        else:
            raise AssertionError(f"{cls.__name__} built without all its required fields")
    defaults = events.ExchangeFinished("x", 1.0, status=200)
    assert (defaults.text, defaults.complete, defaults.usage) == ("", True, None)
