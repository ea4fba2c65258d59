"""Entry point: argv, auth subcommand, validation, then one Run per stdin user line."""

from __future__ import annotations

import itertools
import os
import sys

from . import args as argv_parser
from . import auth, ids, lifecycle, models, prompt, recording, scenarios, spec, usage
from . import session as resumed
from .run import VERSION, Run, Session
from .stdout import JsonSink, StreamJsonSink, TextSink, encode, stderr, write_fd

HELP = """Usage: claude [options] [command] [prompt]

Claude Code (fake, for tests) - starts an interactive session by default, use -p/--print for
non-interactive output

Commands:
  auth status    Show authentication status
"""
EFFORTS = ("low", "medium", "high", "xhigh", "max")


def _fail(message: str, code: int = 1) -> None:
    stderr(message)
    lifecycle.exit_now(code)


def _auth_command(rest: list[str], env: dict) -> None:
    if rest[:1] != ["status"]:
        _fail(f"error: unknown command 'auth {' '.join(rest)}'".rstrip("' ") + "'")
    payload, code = auth.status(auth.from_env(env))
    write_fd(1, auth.status_text(payload))
    lifecycle.exit_now(code)


def _validate(parsed: argv_parser.Args, env: dict) -> None:
    """The checks the real CLI makes before reading stdin (docs/claude-cli.md §2, §10)."""
    stream = parsed.output_format == "stream-json"
    if stream and not parsed.flag("--verbose"):
        _fail("Error: When using --print, --output-format=stream-json requires --verbose")
    if parsed.flag("--include-partial-messages") and not stream:
        _fail("Error: --include-partial-messages requires --print and --output-format=stream-json.")
    if parsed.input_format == "stream-json" and not stream:
        _fail("Error: --input-format=stream-json requires output-format=stream-json.")
    session_id = parsed.value("--session-id")
    if session_id is not None and not ids.is_uuid(session_id):
        _fail("Error: Invalid session ID. Must be a valid UUID.")
    skip = parsed.flag("--dangerously-skip-permissions") or parsed.value("--permission-mode") == "bypassPermissions"
    if skip and os.geteuid() == 0 and env.get("IS_SANDBOX") != "1":
        _fail("--dangerously-skip-permissions cannot be used with root/sudo privileges for security reasons")
    effort = parsed.value("--effort")
    if effort is not None and effort not in EFFORTS:
        stderr(f"Warning: Invalid effort level '{effort}'. Valid options: {', '.join(EFFORTS)}")
    prompt_file = parsed.value("--system-prompt-file")
    if prompt_file is not None and not os.path.isfile(prompt_file):
        _fail(f"Error: System prompt file not found: {prompt_file}")


def _system_prompt(parsed: argv_parser.Args) -> str:
    path = parsed.value("--system-prompt-file")
    if path:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    return parsed.value("--system-prompt") or ""


def _control(session: Session, recorder, request: "prompt.ControlRequest") -> None:
    """The real CLI's answers (docs/warm-start.md): `initialize` takes a system prompt (only the
    first one counts), `set_model` a model, `get_usage` the plan's windows (usage.py); anything
    else is an error response."""
    if request.subtype == "initialize":
        if not session.initialized and isinstance(request.request.get("systemPrompt"), str):
            session.system_prompt = request.request["systemPrompt"]
        session.initialized = True
        response = {"commands": [], "models": []}
    elif request.subtype == "set_model":
        session.model_override = request.request.get("model") or None
        response = {"model": session.model}
    elif request.subtype == "get_usage" and isinstance(answer := usage.reply(session.env, session.auth), dict):
        response = answer
    else:
        session.out.line({"type": "control_response", "response": {"subtype": "error", "request_id": request.request_id, "error": f"Unsupported control request subtype: {request.subtype}"}})
        return
    recorder.control(request.subtype, request.request)
    session.out.line({"type": "control_response", "response": {"subtype": "success", "request_id": request.request_id, "response": response}})


def _sink(parsed: argv_parser.Args):
    if parsed.output_format == "stream-json":
        return StreamJsonSink()
    if parsed.output_format == "json":
        return JsonSink(parsed.flag("--verbose"))
    return TextSink()


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    env = dict(os.environ)
    lifecycle.install()
    if argv[:1] == ["auth"]:
        _auth_command(argv[1:], env)
    try:
        parsed = argv_parser.parse(argv)
    except argv_parser.UsageError as error:
        _fail(str(error))
    if parsed.flag("--version"):
        write_fd(1, f"{VERSION} (Claude Code)\n".encode())
        lifecycle.exit_now(0)
    if parsed.flag("--help"):
        write_fd(1, HELP.encode())
        lifecycle.exit_now(0)
    _validate(parsed, env)

    system_prompt = _system_prompt(parsed)
    recorder = recording.Recorder(env.get("FAKE_CLAUDE_RECORD_DIR"), sys.argv,
                                  parsed.value("--system-prompt-file"))
    session = Session(out=_sink(parsed), args=parsed, env=env, auth=auth.from_env(env),
                      cwd=os.getcwd(), system_prompt=system_prompt)

    stdin = sys.stdin.buffer if sys.stdin is not None else None
    run = None
    resume_id = parsed.value("--resume")
    records = None
    if isinstance(resume_id, str):
        try:
            message, records = resumed.resumed_message(env, os.getcwd(), resume_id)
        except resumed.NoConversation as error:
            _no_conversation(session, str(error))
        recorder.resumed(records)
    try:
        if records is not None:
            # The resumed session's last record is answered at once; then, as the real CLI does,
            # any user lines on a stdin left open (a CLI kept for the conversation's next turn).
            later = prompt.stream_json_messages(stdin, recorder.add_stdin) if stdin and parsed.input_format == "stream-json" else iter(())
            messages = itertools.chain([message], later)
        elif parsed.input_format == "stream-json":
            messages = prompt.stream_json_messages(stdin, recorder.add_stdin) if stdin else iter(())
        else:
            messages = iter([prompt.text_message(stdin, parsed.positionals, recorder.add_stdin)])
        for message in messages:
            if isinstance(message, prompt.ControlRequest):
                _control(session, recorder, message)
                system_prompt = session.system_prompt
                continue
            chosen = spec.choose(message.text, system_prompt, env)
            recorder.scenario(chosen.name, chosen.params, chosen.source)
            run = Run(session, message, chosen)
            if session.auth.logged_in and not models.is_recognized(session.model_flag):
                stderr('[claude-code:unrecognized_model] {"model":%s,"query_source":"sdk"}'
                       % encode(session.model_flag).decode().strip())
            scenarios.play(run)
            run = None
    except prompt.InputError as error:
        session.out.finish()
        _fail(str(error))
    except lifecycle.Interrupted:
        if run is not None:
            run.abort()
        session.out.finish()
        lifecycle.exit_now(0)
    if records is not None and not parsed.flag("--no-session-persistence"):
        resumed.append_cli_records(env, os.getcwd(), resume_id, records, session.model)
    recorder.stdin_closed()
    session.out.finish()
    lifecycle.exit_now(session.exit_code)


def _no_conversation(session: Session, error: str) -> None:
    """The real CLI's answer to `--resume` of a session it cannot find."""
    session.out.line({
        "type": "result", "subtype": "error_during_execution", "duration_ms": 0, "duration_api_ms": 0,
        "is_error": True, "num_turns": 0, "stop_reason": None, "session_id": session.session_id,
        "total_cost_usd": 0, "usage": {"input_tokens": 0, "cache_creation_input_tokens": 0,
                                       "cache_read_input_tokens": 0, "output_tokens": 0},
        "modelUsage": {}, "permission_denials": [], "errors": [error], "uuid": ids.uuid4(),
    })
    session.out.finish()
    lifecycle.exit_now(1)
