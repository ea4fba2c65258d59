"""$FAKE_CLAUDE_RECORD_DIR: one `<pid>.json` per run with what the child really received.

Rewritten (atomically) at start and after every stdin line, so even a run that hangs
or is killed leaves a usable record.
"""

from __future__ import annotations

import json
import os


class Recorder:
    def __init__(self, directory: str | None, argv: list, system_prompt_file: str | None) -> None:
        self.path = os.path.join(directory, f"{os.getpid()}.json") if directory else None
        self.stdin = bytearray()
        self.record = {}
        if self.path is None:
            return
        content = None
        if system_prompt_file:
            try:
                with open(system_prompt_file, encoding="utf-8", errors="replace") as f:
                    content = f.read()
            except OSError:
                pass
        self.record = {
            "pid": os.getpid(),
            "argv": list(argv),
            "cwd": os.getcwd(),
            "env": dict(os.environ),
            "system_prompt_file": system_prompt_file,
            "system_prompt": content,
            "stdin": "",
            "stdin_closed": False,
            "scenarios": [],
        }
        self.save()

    def add_stdin(self, data: bytes) -> None:
        if self.path is None:
            return
        self.stdin += data
        self.record["stdin"] = self.stdin.decode("utf-8", "replace")
        self.save()

    def resumed(self, records: list) -> None:
        """The session file's records, for `--resume` runs."""
        if self.path is None:
            return
        self.record["resumed"] = records
        self.save()

    def scenario(self, name: str, params: dict, source: str) -> None:
        if self.path is None:
            return
        self.record["scenarios"].append({"name": name, "params": params, "source": source})
        self.save()

    def control(self, subtype: str, request: dict) -> None:
        """What the control protocol changed: the system prompt of `initialize`, the model of `set_model`."""
        if self.path is None:
            return
        self.record.setdefault("control", []).append(subtype)
        if subtype == "initialize" and isinstance(request.get("systemPrompt"), str):
            self.record["system_prompt"] = request["systemPrompt"]
        if subtype == "set_model":
            self.record["set_model"] = request.get("model")
        self.save()

    def stdin_closed(self) -> None:
        if self.path is None:
            return
        self.record["stdin_closed"] = True
        self.save()

    def save(self) -> None:
        tmp = self.path + ".tmp"
        try:
            with open(tmp, "w", encoding="utf-8") as f:
                json.dump(self.record, f, ensure_ascii=False)
            os.replace(tmp, self.path)
        except OSError:
            pass  # recording must never change the fake's behaviour


def sent_text(record: dict) -> str:
    """Everything a recorded run was given as conversation: its stdin and, for `--resume`
    runs, the session file's records (the proxy sends the history there, stdin stays empty)."""
    return record.get("stdin", "") + json.dumps(record.get("resumed") or [], ensure_ascii=False)


def sent_messages(record: dict) -> list[dict]:
    """The conversation a recorded run was given, as messages: the resumed session file's user
    and assistant records (the proxy sends the history there), then any user lines on stdin."""
    messages = [r["message"] for r in record.get("resumed") or [] if r.get("type") in ("user", "assistant")]
    for line in record.get("stdin", "").splitlines():
        obj = json.loads(line)
        if obj.get("type") == "user":
            messages.append(obj["message"])
    return messages


def blocks(message: dict) -> list[dict]:
    content = message["content"]
    return [{"type": "text", "text": content}] if isinstance(content, str) else content
