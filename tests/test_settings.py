"""Settings are declared once (config.Config): every one has its flag, its variable and its
help with the default, generated from that declaration."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui_proxy.cli import _env_name, _kind, build_parser, config_from_args
from tui_proxy.config import Config, settings

SAMPLES = {bool: "1", int: "7", float: "2.5", Path: "/tmp/somewhere", tuple: "a.example,b.example", str: "value"}


def test_every_setting_has_a_flag_with_its_help():
    text = build_parser().format_help()
    for setting in settings():
        flag = setting.metadata["flag"] or "--" + setting.name.replace("_", "-")
        assert flag in text, setting.name
    assert "(default 8)" in text and "(default 600)" in text and "(default 32 MiB)" in text


@pytest.mark.parametrize("setting", settings(), ids=lambda s: s.name)
def test_every_setting_has_a_variable_and_the_flag_wins(setting):
    kind = _kind(setting)
    env = {"CLAUDE_MAX_TUI_" + _env_name(setting).upper(): SAMPLES[kind]}
    from_env = getattr(config_from_args(build_parser().parse_args([]), env), setting.name)
    default = getattr(Config(), setting.name)
    assert from_env != default, f"{setting.name}: the variable was not read"
    if kind not in (bool, tuple):
        flag = setting.metadata["flag"] or "--" + setting.name.replace("_", "-")
        sample = {int: "9", float: "4.5", Path: "/tmp/other", str: "other"}[kind]
        both = getattr(config_from_args(build_parser().parse_args([flag, sample]), env), setting.name)
        assert both == kind(sample) != from_env


def test_a_bad_variable_names_itself():
    with pytest.raises(SystemExit, match="CLAUDE_MAX_TUI_PORT"):
        config_from_args(build_parser().parse_args([]), {"CLAUDE_MAX_TUI_PORT": "many"})
