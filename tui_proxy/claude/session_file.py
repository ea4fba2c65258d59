"""A session file the CLI resumes (`--resume <uuid>`): the request's history as the CLI's own records.

Measured on 2.1.328 (conversations-and-quota.md, and again for this module): the CLI reads
`$HOME/.claude/projects/<cwd, non-alphanumerics as ->/<uuid>.jsonl` at spawn; one record per
message on a linear `parentUuid` chain suffices, with its `environment`, `model` and `date`
attachment records first (it renders them as a system message after the first user message). With `CLAUDE_CODE_RESUME_INTERRUPTED_TURN=1`
and stdin closed without a line it sends the last record as written. No `prompt_snapshot` is
written, so `--system-prompt-file` is obeyed on every run.

The CLI compares those attachments with its own view and, when one differs or is missing,
appends a fresh one after the LAST user message: the cached prefix would then end in a message
the next turn does not have. So the attachments must be exactly the CLI's: the environment
snapshot and the model identity are learnt from the CLI itself (`CliContext.learn`, from the
records it appends to a file it resumed with persistence on) and the date is today's (a stale
one makes it append "The date has changed").
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass, field

from ..ids import new_uuid, random_hex
from .history import Message

#: The CLI version whose format this writes (the pinned one; its records carry it).
CLI_FORMAT_VERSION = "2.1.328"


def project_dir(home: str, cwd: str, config_dir: str | None = None) -> str:
    """Where the CLI looks for the session files of runs in `cwd` (its config dir is
    `$CLAUDE_CONFIG_DIR` when set, else `~/.claude`)."""
    slug = "".join(c if c.isalnum() else "-" for c in cwd)
    return os.path.join(config_dir or os.path.join(home, ".claude"), "projects", slug)


def today() -> str:
    """The date as the CLI writes it: local, ISO."""
    return time.strftime("%Y-%m-%d")


@dataclass(slots=True)
class CliContext:
    """What the CLI says about its environment and each model, learnt from its own records.

    Shared by every run of an engine (the working directory is the same for all of them), and
    kept in `path` (0600) for the next start of the same CLI version. The first run of each
    model in an engine's life keeps the CLI's persistence on: the CLI then appends to the file
    whatever it sees differently (or all of it, when nothing is known yet) and `learn` reads
    that back before the file goes, so a stale record (another shell, a new kernel) mends itself.
    """

    environment: dict | None = None
    #: The model attachment (identity and text) per `--model` value.
    models: dict[str, dict] = field(default_factory=dict)
    #: Models whose records a run of this engine has checked with the CLI.
    checked: set[str] = field(default_factory=set)
    path: str | None = None
    version: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def load(cls, path: str, version: str) -> "CliContext":
        """The records kept for this CLI version, else an empty context that will keep them."""
        context = cls(path=path, version=version)
        try:
            with open(path, encoding="utf-8") as f:
                saved = json.load(f)
        except (OSError, ValueError):
            return context
        if isinstance(saved, dict) and saved.get("version") == version:
            if isinstance(saved.get("environment"), dict):
                context.environment = saved["environment"]
            if isinstance(saved.get("models"), dict):
                context.models = {k: v for k, v in saved["models"].items() if isinstance(v, dict)}
        return context

    def needs_check(self, model: str) -> bool:
        return model not in self.checked

    def knows(self, model: str) -> bool:
        return self.environment is not None and model in self.models

    def attachments(self, model: str, date: str) -> list[dict]:
        out = []
        if self.environment is not None:
            out.append({"type": "environment", "snapshot": self.environment})
        if model in self.models:
            out.append(self.models[model])
        out.append({"type": "date", "date": date})
        return out

    def learn(self, model: str, records: list[dict]) -> None:
        """Take the CLI's `environment` and `model` attachments from records it wrote (blocking:
        call it off the event loop)."""
        with self._lock:
            for record in records:
                attachment = record.get("attachment") if record.get("type") == "attachment" else None
                if not isinstance(attachment, dict):
                    continue
                if attachment.get("type") == "environment" and isinstance(attachment.get("snapshot"), dict):
                    self.environment = attachment["snapshot"]
                elif attachment.get("type") == "model" and isinstance(attachment.get("identity"), dict) and isinstance(attachment.get("text"), str):
                    self.models[model] = {"type": "model", "identity": attachment["identity"], "text": attachment["text"]}
            if self.knows(model):
                self.checked.add(model)
            self._save()

    def _save(self) -> None:
        if self.path is None:
            return
        data = {"version": self.version, "environment": self.environment, "models": self.models}
        tmp = f"{self.path}.{os.getpid()}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(data, f)
            os.replace(tmp, self.path)
        except OSError:
            pass  # only a saving for the next start


@dataclass(frozen=True, slots=True)
class SessionFile:
    session_id: str
    path: str
    #: How many records we wrote (the CLI's own come after).
    records: int


def session_records(messages: tuple[Message, ...], *, session_id: str, cwd: str, model_name: str, attachments: list[dict]) -> list[dict]:
    """The file's records: the attachments, then the messages, on one parentUuid chain."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    records: list[dict] = []
    parent: str | None = None

    def add(kind: str, **fields: object) -> None:
        nonlocal parent
        record = {
            "parentUuid": parent,
            "isSidechain": False,
            "userType": "external",
            "entrypoint": "sdk-cli",
            "cwd": cwd,
            "sessionId": session_id,
            "version": CLI_FORMAT_VERSION,
            "type": kind,
            "uuid": new_uuid(),
            "timestamp": stamp,
            **fields,
        }
        records.append(record)
        parent = record["uuid"]

    # Before the first message: after it, a file holding one message would end in attachments
    # and the CLI would add "Continue from where you left off." to it (measured). The CLI
    # renders them after the first user message either way.
    for attachment in attachments:
        add("attachment", attachment=attachment)
    for message in messages:
        if message.role == "user":
            add("user", message={"role": "user", "content": list(message.content)})
        else:
            add("assistant", message={
                "id": f"msg_{random_hex(24)}",
                "type": "message",
                "role": "assistant",
                "model": model_name,
                "content": list(message.content),
                "stop_reason": "tool_use" if message.tool_calls else "end_turn",
                "stop_sequence": None,
                "usage": {"input_tokens": 0, "output_tokens": 0},
            })  # fmt: skip
    return records


_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def write_session_file(directory: str, session_id: str, records: list[dict]) -> SessionFile:
    """A new 0600 file in `directory` (made 0700 if missing). Never overwrites."""
    path = os.path.join(directory, f"{session_id}.jsonl")
    data = "".join(_dumps(record) + "\n" for record in records).encode("utf-8")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileNotFoundError:
        os.makedirs(directory, mode=0o700, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)
    return SessionFile(session_id, path, len(records))


def appended_records(session: SessionFile) -> list[dict]:
    """The records the CLI added after ours (empty if the file is gone or unreadable)."""
    try:
        with open(session.path, encoding="utf-8", errors="replace") as f:
            lines = f.read().split("\n")
    except OSError:
        return []
    out = []
    for line in lines[session.records :]:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            out.append(record)
    return out


def remove_session_file(session: SessionFile) -> None:
    try:
        os.unlink(session.path)
    except FileNotFoundError:
        pass
