"""The store's files are the user's only: directory 0700, database files 0600.

The database file is created 0600 before SQLite opens it; SQLite gives its -wal and -shm
files the main file's mode, and `secure_files` chmods them anyway once they exist.
"""

from __future__ import annotations

import os
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600
#: Files SQLite keeps beside the database in WAL mode.
SIDE_SUFFIXES = ("-wal", "-shm")


def secure_dir(directory: Path) -> None:
    directory.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    os.chmod(directory, DIR_MODE)


def create_private_file(path: Path) -> None:
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, FILE_MODE))
    os.chmod(path, FILE_MODE)


def secure_files(db_path: Path) -> None:
    for path in (db_path, *(db_path.with_name(db_path.name + s) for s in SIDE_SUFFIXES)):
        try:
            os.chmod(path, FILE_MODE)
        except FileNotFoundError:
            pass
