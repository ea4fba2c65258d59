"""A request as a curl command that runs as is in a POSIX shell.

`curl_command` holds the rules; `to_curl` applies them to a stored capture and the
console applies them to an exchange it holds in memory, so both give the same command.
A redacted Authorization header comes back as `$OPENAI_API_KEY`, so the key is read
from the environment at run time and never written into the command.
"""

from __future__ import annotations

import base64
import shlex
from typing import Mapping

from .model import Capture
from .resend import base_url, had_authorization, resend_headers

AUTH_FROM_ENV = '"Authorization: Bearer $OPENAI_API_KEY"'
_CONTINUE = " \\\n  "


def to_curl(capture: Capture, *, url: str | None = None) -> str:
    """`url` overrides where it goes (scheme://host:port); default: the captured Host."""
    target = (url.rstrip("/") if url else base_url(capture)) + capture.path
    return curl_command(capture.method, target, capture.request_headers, capture.request_body, stream=capture.stream)


def curl_command(method: str, url: str, headers: Mapping[str, str], body: bytes, *, stream: bool) -> str:
    """`headers` as captured (secrets redacted): hop-by-hop and redacted ones are left out."""
    first = ["curl", "-sS"]
    if stream:
        first.append("-N")  # print SSE chunks as they come
    method = method.upper()
    if method != ("POST" if body else "GET"):
        first += ["-X", shlex.quote(method)]
    first.append(shlex.quote(url))
    lines = [" ".join(first)]
    lines += [f"-H {shlex.quote(f'{name}: {value}')}" for name, value in resend_headers(headers).items()]
    if had_authorization(headers):
        lines.append(f"-H {AUTH_FROM_ENV}")
    prefix = ""
    if body and _shell_safe(body):
        lines.append(f"--data-raw {shlex.quote(body.decode('utf-8'))}")
    elif body:
        # Not text a shell word can hold (NUL, invalid UTF-8): pipe it in from base64.
        prefix = f"printf %s {base64.b64encode(body).decode('ascii')} | base64 -d | "
        lines.append("--data-binary @-")
    return prefix + _CONTINUE.join(lines)


def _shell_safe(body: bytes) -> bool:
    if b"\0" in body:
        return False
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
