"""Ids: the CLI's formats, and unique even when something seeds the `random` module."""

from __future__ import annotations

import random
import re
import uuid

from tui_proxy.ids import new_exchange_id, new_run_id, new_uuid, random_hex, short_id


def test_new_uuid_is_a_version_4_uuid_as_the_cli_writes_it() -> None:
    text = new_uuid()
    parsed = uuid.UUID(text)
    assert str(parsed) == text  # lower case, hyphenated
    assert parsed.version == 4 and parsed.variant == uuid.RFC_4122


def test_random_hex_has_the_digits_asked_for_leading_zeros_included() -> None:
    values = [random_hex(24) for _ in range(2000)]
    assert all(re.fullmatch(r"[0-9a-f]{24}", v) for v in values)
    assert any(v.startswith("0") for v in values)  # 1 in 16 each: padded, not shortened
    assert len(set(values)) == len(values)


def test_exchange_and_run_ids_keep_their_shape() -> None:
    exchange_id = new_exchange_id(1_700_000_000.123)
    assert re.fullmatch(r"018bcfe5687b-[0-9a-f]{8}", exchange_id)
    assert short_id(exchange_id) == exchange_id[13:19]
    assert re.fullmatch(r"run-[0-9a-f]{8}", new_run_id())


def test_seeding_the_random_module_does_not_repeat_ids() -> None:
    # Hypothesis seeds `random` for each example: the ids must not follow it.
    made = []
    for _ in range(3):
        random.seed(7)
        made.append((new_exchange_id(1.0), new_run_id(), new_uuid()))
    assert len(set(made)) == 3
