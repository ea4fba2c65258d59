"""Run folders kept ready and emptied off the event loop (tui_proxy/claude/run_dir.py)."""

from __future__ import annotations

import os
import stat

import pytest

from tui_proxy.claude import run_dir as run_dir_module
from tui_proxy.claude.run_dir import RunFolders, write_system_prompt


@pytest.fixture
def folders(tmp_path):
    folders = RunFolders(str(tmp_path / "runs"), spare=2, linger=0.01)
    folders.start()
    assert folders.settled(10)
    yield folders
    folders.close()


def _contents(path: str) -> list[str]:
    out = []
    for root, dirs, files in os.walk(path):
        out += [os.path.relpath(os.path.join(root, name), path) for name in dirs + files]
    return sorted(out)


def test_a_taken_folder_is_private_and_empty(folders):
    path = folders.take()
    assert path is not None and path.startswith(folders.runs_dir + os.sep)
    assert _contents(path) == ["cwd", "tmp"]
    for folder in (path, os.path.join(path, "cwd"), os.path.join(path, "tmp")):
        assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700


def test_a_given_back_folder_comes_back_empty_whatever_the_run_left(folders):
    path = folders.take()
    prompt = write_system_prompt(path, "secret system prompt")
    assert stat.S_IMODE(os.stat(prompt).st_mode) == 0o600
    (open(os.path.join(path, "mcp-config.json"), "w")).close()
    os.makedirs(os.path.join(path, "tmp", "cc-socks", "deep"))
    open(os.path.join(path, "tmp", "cc-socks", "deep", "x"), "w").close()
    os.symlink("/", os.path.join(path, "tmp", "link-to-root"))
    open(os.path.join(path, "cwd", "CLAUDE.md"), "w").close()
    folders.give_back(path)
    assert folders.settled(10)
    assert _contents(path) == ["cwd", "tmp"]
    assert os.path.isdir("/bin")  # the symlink was removed, not followed
    # It is handed out again (the other spare first).
    taken = {folders.take(), folders.take()}
    assert path in taken


@pytest.mark.parametrize("odd", ["extra_file", "tmp_symlink", "mode", "gone"])
def test_a_folder_not_as_we_made_it_is_deleted_not_reused(folders, tmp_path, odd):
    path = folders.take()
    if odd == "extra_file":
        open(os.path.join(path, "stranger"), "w").close()
    elif odd == "tmp_symlink":
        os.rmdir(os.path.join(path, "tmp"))
        target = tmp_path / "elsewhere"
        target.mkdir()
        (target / "keep").write_text("not ours to delete")
        os.symlink(target, os.path.join(path, "tmp"))
    elif odd == "mode":
        os.chmod(path, 0o755)
    else:
        os.rename(path, str(tmp_path / "moved"))
    folders.give_back(path)
    assert folders.settled(10)
    assert not os.path.exists(path)
    if odd == "tmp_symlink":
        assert (tmp_path / "elsewhere" / "keep").read_text() == "not ours to delete"
    assert path not in {folders.take(), folders.take()}


def test_the_stock_is_topped_up_and_a_full_stock_deletes_what_comes_back(folders):
    taken = [folders.take(), folders.take()]
    assert folders.take() is None  # out of stock: the run makes its own
    assert folders.settled(10)
    assert len(os.listdir(folders.runs_dir)) == 4  # 2 in use, 2 new spares
    for path in taken:
        folders.give_back(path)
    assert folders.settled(10)
    assert len(os.listdir(folders.runs_dir)) == 2  # the stock was full: deleted


def test_remove_deletes_files_and_folders_off_the_loop(folders, tmp_path):
    session = tmp_path / "s.jsonl"
    session.write_text("{}\n")
    beside = tmp_path / "s"
    (beside / "memory").mkdir(parents=True)
    folders.remove(str(session))
    folders.remove(str(beside))
    folders.remove(str(tmp_path / "never-existed"))
    assert folders.settled(10)
    assert not session.exists() and not beside.exists()


def test_close_does_what_is_queued_then_later_jobs_are_counted_not_done(tmp_path):
    folders = RunFolders(str(tmp_path / "runs"), spare=1, linger=5.0)
    folders.start()
    victim = tmp_path / "victim"
    victim.write_text("x")
    folders.remove(str(victim))
    folders.close()  # does not wait out the linger
    assert not victim.exists()
    late = tmp_path / "late"
    late.write_text("x")
    folders.remove(str(late))
    assert late.exists() and folders.left_behind == 1


def test_the_queue_is_bounded(tmp_path, monkeypatch):
    monkeypatch.setattr(run_dir_module, "MAX_PENDING", 3)
    folders = RunFolders(str(tmp_path / "runs"), spare=0, linger=60.0)
    folders.start()
    try:
        for i in range(5):
            folders.remove(str(tmp_path / f"f{i}"))
        assert folders.left_behind >= 2
    finally:
        folders.close()
