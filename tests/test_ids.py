"""Ids: the CLI's formats, from the OS's generator (not the `random` module), one pool per process."""

from __future__ import annotations

import os
import random
import re
import uuid

from tui_proxy.ids import new_exchange_id, new_run_id, new_uuid, random_hex, short_id


def test_new_uuid_is_a_version_4_uuid_as_the_cli_writes_it() -> None:
    for _ in range(500):  # the version and variant bits are set, whatever the random bytes
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


def test_ids_go_on_past_the_pool_and_never_repeat() -> None:
    # Many times the 4 KiB read at once, ids of every size drawn in turn.
    made = [f(i) for i in range(3000) for f in (lambda i: new_exchange_id(1.0), lambda i: new_uuid(), lambda i: random_hex(24), lambda i: new_run_id())]
    assert len(set(made)) == len(made)


def test_a_forked_child_does_not_hand_out_its_parents_ids() -> None:
    new_uuid()  # the pool is filled
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its next id, to the parent
        os.close(read)
        os.write(write, new_uuid().encode())
        os._exit(0)
    os.close(write)
    child_id = os.read(read, 100).decode()
    os.close(read)
    os.waitpid(pid, 0)
    assert uuid.UUID(child_id).version == 4
    assert child_id != new_uuid()  # the parent's next one, from the same place in its pool
