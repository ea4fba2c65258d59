"""One filter language (tui_proxy.filters) for the console and `captures list --filter`."""

from __future__ import annotations

import json

import pytest

from tui_proxy.filters import FIELDS, FLAGS, HELP, FilterError
from tui_proxy.tui.view_filter import parse_view_filter

from tests.test_capture_commands import data_dir, run  # noqa: F401 (a fixture)
from tests.tui_fixtures import console_app, post_chat, settle


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("stauts>=400", "did you mean status?"),
        ("modle=opus", "did you mean model?"),
        ("ttft>fast", "not a time"),
        ("status>=abc", "not a number"),
        ("status>", "needs a value"),
        ("model>opus", "model is text"),
    ],
)
def test_a_filter_that_means_nothing_is_an_error_with_a_hint(text, hint):
    with pytest.raises(FilterError, match=hint):
        parse_view_filter(text)


def test_the_help_lists_every_field_and_flag():
    for word in FIELDS + FLAGS:
        assert word in HELP


def ids(capsys, *argv: str) -> list[str]:
    assert run("list", "--json", *argv) == 0
    return [s["id"][-1] for s in json.loads(capsys.readouterr().out)]


def test_captures_list_speaks_the_console_filter_language(data_dir, capsys):  # noqa: F811
    where = ("--data-dir", str(data_dir))
    everything = ids(capsys, *where)
    assert len(everything) == 4
    assert ids(capsys, "--filter", "status>=400", *where) == ["1"]
    assert ids(capsys, "--filter", "status=5xx", *where) == ["1"]
    assert ids(capsys, "--filter", "!error", *where) == ["2", "0"]  # 1 failed, 3 lost its client
    assert ids(capsys, "--filter", "code=client_disconnected", *where) == ["3"]
    assert ids(capsys, "--filter", "model=sonnet", *where) == everything
    assert ids(capsys, "--filter", "ttft>10ms status=200", *where) == ["3", "2", "0"]
    assert ids(capsys, "--filter", "ttft>1m", *where) == []
    assert ids(capsys, "--filter", "server_error", *where) == ["1"]  # free text, as before
    assert ids(capsys, "--filter", "status=200", "--limit", "1", *where) == ["3"]
    assert ids(capsys, "--filter", "status=200", "--before", "0193c1f2a4b3-5e1f09a3", *where) == ["2", "0"]


def test_captures_list_rejects_a_typo_with_a_hint(data_dir, capsys):  # noqa: F811
    assert run("list", "--filter", "stauts>=400", "--data-dir", str(data_dir)) == 2
    assert "did you mean status?" in capsys.readouterr().err


async def test_a_typo_in_the_console_filter_shows_a_hint_and_keeps_the_list(tmp_path, fake_claude_env):
    app = console_app(tmp_path)
    async with app.run_test(size=(150, 40), notifications=True) as pilot:
        await post_chat(app, "[[fake:text]] hi")
        await settle(pilot, lambda: app.table.row_count == 1)
        await pilot.press("slash", *"stauts>=400")
        await settle(pilot)
        box = app.query_one("#filter")
        assert "did you mean status?" in box.border_subtitle
        assert app.table.filter.text != "stauts>=400"  # the last filter that meant something stays
        await pilot.press("enter")
        await settle(pilot)
        assert box.has_focus and any("did you mean status?" in n.message for n in app._notifications)
