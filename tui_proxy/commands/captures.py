"""`claude-max-tui captures list|show|export`: read the capture store from the command line.

Reads only (the store is opened read-only), so it is safe while a proxy is running on
the same data dir.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import datetime
from pathlib import Path

from ..capture import AmbiguousIdError, Capture, CaptureStore, CaptureSummary, StoreVersionError
from ..capture.export_curl import to_curl
from ..capture.export_har import to_har
from ..capture.export_json import capture_to_dict, summary_to_dict
from ..replay.send import configured_url, target_url
from ..config import Config, default_data_dir, env_value
from ..filters import Fields, FilterError, parse_filter
from ..quota.text import brief

EXPORT_FORMATS = ("curl", "har", "json")


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("captures", help="list, show and export captured exchanges")
    actions = parser.add_subparsers(dest="captures_action", metavar="ACTION", required=True)

    listing = actions.add_parser("list", help="newest first")
    listing.add_argument("--limit", type=int, default=50, help="how many (default 50)")
    listing.add_argument("--before", metavar="ID", help="only older than this exchange (paging)")
    listing.add_argument(
        "--filter",
        metavar="TEXT",
        help="the console's filter language: status>=400 model=opus ttft>2s error !stream, free text (all must match)",
    )
    listing.add_argument("--json", action="store_true", help="one JSON array of summaries")

    show = actions.add_parser("show", help="one exchange in full")
    show.add_argument("id", help="exchange id, a unique prefix of one, or its short id")
    show.add_argument("--json", action="store_true", help="the whole capture as JSON")

    export = actions.add_parser("export", help="as curl, HAR 1.2 or JSON")
    export.add_argument("id", help="exchange id, a unique prefix of one, or its short id")
    export.add_argument("--format", choices=EXPORT_FORMATS, required=True)
    export.add_argument(
        "--to",
        metavar="URL",
        help="point curl/HAR at this base URL (default: curl goes where `replay` would send it, HAR keeps the captured Host)",
    )
    export.add_argument("-o", "--output", metavar="FILE", help="write there instead of stdout")

    for action in (listing, show, export):
        add_data_dir_argument(action)
    parser.set_defaults(run=run)
    return parser


def add_data_dir_argument(parser: argparse.ArgumentParser) -> None:
    # SUPPRESS, not a default: a default here would overwrite a top-level
    # `claude-max-tui --data-dir DIR captures ...`; capture_path() falls back instead.
    parser.add_argument(
        "--data-dir", type=Path, default=argparse.SUPPRESS,
        help="where the capture store lives (default: $CLAUDE_MAX_TUI_DATA_DIR or "
        f"{default_data_dir()})",
    )


def capture_path(args: argparse.Namespace) -> Path:
    data_dir = getattr(args, "data_dir", None) or env_value("data_dir") or default_data_dir()
    return Config(data_dir=Path(data_dir).expanduser()).capture_path


def open_store(args: argparse.Namespace) -> CaptureStore | None:
    """The store, read-only; None (with a message) when there is none or it is unreadable."""
    path = capture_path(args)
    try:
        return CaptureStore.open(path, read_only=True)
    except FileNotFoundError:
        print(f"no captures yet: {path} does not exist", file=sys.stderr)
    except StoreVersionError as exc:
        print(f"cannot read {path}: {exc}", file=sys.stderr)
    return None


def find_capture(store: CaptureStore, exchange_id: str) -> Capture | None:
    """By id or prefix; None (with a message) when missing or ambiguous."""
    try:
        capture = store.get(exchange_id)
    except AmbiguousIdError as exc:
        print(f"ambiguous id: {exc}", file=sys.stderr)
        return None
    if capture is None:
        print(f"no capture {exchange_id!r} in {store.path}", file=sys.stderr)
    return capture


def run(args: argparse.Namespace) -> int:
    if args.captures_action == "list" and not capture_path(args).exists():
        print("[]" if args.json else "no captures yet")
        return 0
    store = open_store(args)
    if store is None:
        return 1
    with store:
        if args.captures_action == "list":
            return _list(store, args)
        capture = find_capture(store, args.id)
        if capture is None:
            return 1
        if args.captures_action == "show":
            print(json.dumps(capture_to_dict(capture), indent=2) if args.json else format_capture(capture))
            return 0
        return _export(capture, args)


#: Summaries read per page while filtering (the filter runs here, not in SQL).
FILTER_PAGE = 500


def _summary_text(s: CaptureSummary, needle: str) -> bool:
    haystack = (s.id, s.path, s.model, s.client, s.error_type, s.error_message, s.finish_reason, str(s.status))
    return any(needle in value.lower() for value in haystack if value)


def _failed(s: CaptureSummary) -> bool:
    return s.error_type is not None or (s.status or 0) >= 400


#: The filter language read over stored summaries (the console reads it over live exchanges).
SUMMARY_FIELDS = Fields(
    values={
        "status": lambda s: s.status,
        "tokens": lambda s: s.completion_tokens,
        "in": lambda s: s.prompt_tokens,
        "ttft": lambda s: s.ttft_ms,
        "dur": lambda s: s.duration_ms,
        "model": lambda s: s.model,
        "client": lambda s: s.client,
        "id": lambda s: s.id,
        "path": lambda s: s.path,
        "code": lambda s: s.error_type,
        "retries": lambda s: s.upstream_retries,
    },
    flags={
        "error": _failed,
        "ok": lambda s: not s.in_progress and not _failed(s),
        "live": lambda s: s.in_progress,
        "done": lambda s: not s.in_progress,
        "stream": lambda s: s.stream,
        "thinking": lambda s: False,  # a summary does not say; `captures show` does
        "tool": lambda s: s.finish_reason == "tool_calls",
    },
    text=_summary_text,
)


def filtered_summaries(store: CaptureStore, text: str, *, limit: int, before: str | None) -> list[CaptureSummary]:
    """Newest first, the first `limit` that match `text` (FilterError if it means nothing)."""
    matches = parse_filter(text, SUMMARY_FIELDS)
    found: list[CaptureSummary] = []
    cursor = before
    while len(found) < limit:
        page = store.list(limit=FILTER_PAGE, before=cursor)
        found += [s for s in page if matches(s)]
        if len(page) < FILTER_PAGE:
            break
        cursor = page[-1].id
    return found[:limit]


def _list(store: CaptureStore, args: argparse.Namespace) -> int:
    if args.filter:
        try:
            summaries = filtered_summaries(store, args.filter, limit=args.limit, before=args.before)
        except FilterError as error:
            print(f"captures list: bad --filter {args.filter!r}: {error}", file=sys.stderr)
            return 2
    else:
        summaries = store.list(limit=args.limit, before=args.before)
    if args.json:
        print(json.dumps([summary_to_dict(s) for s in summaries], indent=2))
    else:
        for summary in summaries:
            print(format_summary(summary))
    return 0


def _export(capture: Capture, args: argparse.Namespace) -> int:
    if args.format == "curl":
        # Sent where a replay would go (the same rule); a HAR records where it went.
        text = to_curl(capture, url=target_url(capture, to=args.to, configured=configured_url())[0]) + "\n"
    elif args.format == "har":
        text = json.dumps(to_har([capture], url=args.to), indent=2) + "\n"
    else:
        text = json.dumps(capture_to_dict(capture), indent=2) + "\n"
    if args.output:
        # Captures hold prompts: the export is as private as the store.
        fd = os.open(args.output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as file:
            file.write(text)
    else:
        sys.stdout.write(text)
    return 0


def format_summary(s: CaptureSummary) -> str:
    when = datetime.fromtimestamp(s.started_at).strftime("%Y-%m-%d %H:%M:%S")
    status = "..." if s.status is None else str(s.status)
    outcome = s.error_type or s.finish_reason or ""
    if not s.complete:
        outcome = f"{s.state.value} {outcome}".strip()
    tokens = "" if s.prompt_tokens is None else f"{s.prompt_tokens}→{s.completion_tokens}"
    replay = f" ⟲{s.replay_of}" if s.replay_of else ""
    # What the run said of the plan (windows, `!` past the warning threshold, extra usage),
    # and the CLI's upstream retries.
    said = brief(s.quota) if s.quota else ""
    upstream = (f"  retried {s.upstream_retries}x" if s.upstream_retries else "") + (f"  quota {said}" if said else "")
    return (
        f"{s.id}  {when}  {s.method:<4} {s.path:<22} {s.model or '-':<20} {'SSE' if s.stream else '   '} "
        f"{status:>3} {_ms(s.ttft_ms):>8} {_ms(s.duration_ms):>8} {tokens:>11}  {outcome}{replay}{upstream}"
    )


def format_capture(c: Capture) -> str:
    lines = [
        format_summary(c),
        "",
        f"client   {c.client}  ({c.remote})",
        f"state    {c.state.value}",
    ]
    if c.replay_of:
        lines.append(f"replay of {c.replay_of}")
    if c.error:
        lines.append(f"error    {c.error.status} {c.error.type}: {c.error.message} (source: {c.error.source})")
    if c.usage:
        u = c.usage
        lines.append(f"usage    prompt {u.prompt_tokens} (cache read {u.cached_tokens}, {cache_share(u)}; cache write {u.cache_creation_tokens}), completion {u.completion_tokens}")
    if c.history:
        lines.append("history  " + history_text(c.history))
    if c.quota:
        lines += ["quota    " + line for line in quota_lines(c.quota)]
    if c.upstream_retries:
        lines.append(f"retries  the CLI retried its upstream call {c.upstream_retries} time{'s' if c.upstream_retries != 1 else ''} (see its api_retry lines)")
    lines += ["", "--- request", f"{c.method} {c.path}"]
    lines += [f"{k}: {v}" for k, v in c.request_headers.items()]
    lines += ["", _pretty(c.request_body.decode("utf-8", "replace"))]
    if c.cli_argv:
        lines += ["", "--- cli", "argv   " + " ".join(c.cli_argv), f"pid    {c.cli_pid}", f"cwd    {c.cli_cwd}"]
        lines += [f"exit   {c.exit_code}" + (f" (killed: {c.killed_because})" if c.killed_because else "")]
        lines += ["stdin  " + (c.cli_stdin or "")]
        lines += [f"stdout +{_offset(c, line.at)}  {line.text}" for line in c.stdout]
        if c.stderr:
            lines += ["stderr", c.stderr_text.rstrip("\n")]
    lines += ["", "--- response"]
    if c.response_status is not None:
        lines.append(f"status {c.response_status}")
        lines += [f"{k}: {v}" for k, v in c.response_headers.items()]
    if c.response_streaming:
        lines += [f"+{_offset(c, chunk.at)}  data: {chunk.text}" for chunk in c.chunks]
    elif c.chunks:
        lines += ["", _pretty(c.response_body)]
    lines += ["", "--- answer", c.text]
    if c.tool_calls:
        lines += ["", "--- tool calls"]
        lines += [f"{name} ({call_id})\n{_pretty(arguments)}" for call_id, name, arguments in c.tool_calls]
    return "\n".join(lines)


def cache_share(usage) -> str:
    """The share of the prompt read from the cache: what the plan's limit is spared."""
    return f"{usage.cached_tokens / usage.prompt_tokens:.0%} read from the cache" if usage.prompt_tokens else "no prompt"


def quota_lines(report) -> list[str]:
    """The windows as the exchange's run reported them, one per line, then the bucket."""
    lines = []
    for w in report.windows:
        used = "-" if w.utilization is None else f"{w.utilization:.0%}"
        details = [w.status or "", f"warning past {w.surpassed_threshold:.0%}" if w.surpassed_threshold is not None else ""]
        if w.resets_at is not None:
            details.append("resets " + datetime.fromtimestamp(w.resets_at).strftime("%Y-%m-%d %H:%M:%S"))
        lines.append(f"{w.label:<8} {used:>5}{'!' if w.warning else ' '} " + ", ".join(d for d in details if d))
    bucket = report.bucket
    if bucket or report.status:
        overage = f"; extra usage {report.overage_status}" if report.overage_status else ""
        reason = f" ({report.overage_disabled_reason})" if report.overage_disabled_reason else ""
        lines.append(f"status {report.status or '-'}, billed to {bucket or 'not said'}{overage}{reason}")
    return lines


def history_text(history: dict) -> str:
    """How the run got the conversation, in words (events.HistorySent)."""
    text = f"{history.get('mode')} ({history.get('messages')} messages)"
    if history.get("fallback"):
        text += f", a fallback: {history.get('reason')}"
    elif history.get("reason"):
        text += f": {history.get('reason')}"
    return text


def _pretty(text: str) -> str:
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return text


def _offset(c: Capture, at: float) -> str:
    return f"{(at - c.started_at) * 1000:8.1f}ms"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}ms"
