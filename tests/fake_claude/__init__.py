"""A fake `claude` CLI (Claude Code 2.1.328, print mode) for the engine's tests and benchmarks.

Run it as `tests/bin/claude` (absolute path, no shell needed, empty environment fine;
standard library only, tested on python 3.11; it prefers $FAKE_CLAUDE_PYTHON, then the
repo's .venv, then /usr/bin/python3). It prints the real stream-json lines of
docs/claude-cli.md, fast, and fails on demand. It accepts the real argv
(commander-style errors for unknown options and bad values, the --verbose and
--include-partial-messages rules), `--version`, `auth status`, and the json/text output
formats; --effort, --json-schema, --mcp-config, --allowedTools, --max-thinking-tokens
are accepted and otherwise ignored.

Choosing a scenario (first match wins):
  1. a marker in the user text, then in the --system-prompt-file text:
     `[[fake:NAME key=value key="quoted value" ...]]`
  2. $FAKE_CLAUDE_SCENARIO, the same without brackets: `tokens n=500`
  3. `echo`

Environment:
  FAKE_CLAUDE_SCENARIO     default scenario (above)
  FAKE_CLAUDE_DELAY_MS     default pause before every delta (0)
  FAKE_CLAUDE_LOGGED_IN    "0" = not logged in: every turn fails like the real CLI
                           (init, status, assistant[authentication_failed], result; exit 1)
                           and `claude auth status` exits 1 (default "1")
  FAKE_CLAUDE_RECORD_DIR   write <dir>/<pid>.json: argv, cwd, env, stdin, system prompt
                           file path and text, chosen scenarios (rewritten as stdin arrives)
  FAKE_CLAUDE_PYTHON       interpreter used by tests/bin/claude
  ANTHROPIC_API_KEY        set = API-key auth (apiKeySource, no rate_limit_event lines);
                           unset = subscription (OAuth): one rate_limit_event per turn, after
                           the first answered request
  CLAUDE_CODE_OAUTH_TOKEN  set (no API key) = a subscription token: `auth status` says authMethod
                           "oauth_token" (else "claude.ai"); apiKeySource "none" either way
  CLAUDE_CODE_MAX_RETRIES  number of api_retry lines for server_error/overloaded/network (10)
  ANTHROPIC_BASE_URL       set = server errors name the gateway, as the real CLI does
  FAKE_CLAUDE_USAGE        what the `get_usage` control request reads: the JSON of its
                           `rate_limits` (unset: null, as when the CLI's fetch fails); "unsupported"
                           = an older CLI's error reply (see usage.py for the login rules)

Parameters every answering scenario takes: `delay_ms=N` (pause before each delta),
`ttft_ms=N` (pause between system/status and message_start).

Scenarios that answer (exit 0 unless said otherwise):
  echo                  `You said: <last user text block, first 200 chars>`; chunks=4 deltas max
  text                  text="Hello from the fake Claude." chunks=3 (exactly N deltas)
  tokens                n=500: n deltas of one short word each (benchmarks)
  slow                  n=20 delay_ms=200
  thinking              thinking="…" text="…" chunks=5: thinking block (thinking_delta +
                        system/thinking_tokens, signature_delta), then a text block
  unicode               emoji, ZWJ sequence and combining mark split across deltas, CJK, RTL,
                        U+2028, U+2029, U+0085, U+0001, BEL, ESC, tab, quote, backslash
  bigline               size=3000000: one text delta of `size` ASCII chars (three ~3 MB lines)
  garbage               non-JSON lines and unknown types interleaved with a normal answer
  tool_use_attempt      text="…": turn 1 calls Bash, gets `No such tool available`, turn 2
                        answers; num_turns 2; with --max-turns 1 it ends as max_turns
  rate_limit_warning    resets_in=3600: allowed_warning rate_limit_event, then success
  quota_warning         resets_in=3600 h5=0.93 d7=0.41: the mock's scenario (golden quota_warning):
                        5h past its 90 % threshold, 7d allowed, extra usage off; then success
  extra_usage           resets_in=3600: the mock's scenario (golden extra_usage): 5h rejected,
                        answered on extra usage (isUsingOverage true)
  max_turns             limit=1 (or --max-turns): tool call, error_max_turns, exit 1
  max_budget            budget=0.0001 (or --max-budget-usd): error_max_budget_usd, exit 1
  max_output_tokens     4 responses stopped by max_tokens + 3 injected resume lines, then
                        assistant[max_output_tokens]; num_turns 4, exit 1

API failures (§6; exit 1; `retries=N` and `retry_sleep_ms=N` where retries apply):
  not_logged_in, invalid_api_key, oauth_expired (2 retries), forbidden msg="…",
  model_not_found (names the resolved --model), billing, prompt_too_long tokens=250123
  limit=200000, bad_request msg="…", rate_limit_subscription resets_in=3600 (a rejected
  rate_limit_event, `resets 3:16pm (UTC)` from the real clock), rate_limit_api_key
  msg="Rate limited", server_error, overloaded, network (these three: retries default
  $CLAUDE_CODE_MAX_RETRIES or 10, printed instantly)

Scenarios that play a model with client tools or a schema (tests/fake_claude/client_tools.py):
  tool_call             tool=NAME args="{…}" calls=N text="…": connects to the HTTP servers of
                        --mcp-config like the real CLI (initialize, tools/list), then one
                        response: optional text, N tool_use blocks `mcp__<server>__<tool>`
                        (arguments made from the tool's inputSchema unless args= is given),
                        each followed by a background MCP tools/call; stop_reason tool_use;
                        then waits for the calls, and once they are answered (user
                        tool_result lines) a new turn says `The tool returned: <results>`.
                        If the prompt's transcript already ends with a <tool_result>,
                        answers `The tool returned: <result>` at once instead.
                        The init line lists connected --mcp-config servers and their tools.
  structured            value="{…}" (JSON-quoted): with --json-schema, a StructuredOutput tool_use (value made
                        from the schema unless given), its accepted tool_result, and a result
                        line with `structured_output`, like the real CLI
  model                 a stand-in model for conformance suites: `structured` when
                        --json-schema is given, else `tool_call` when tools are offered and no
                        tool result is pending, else the tool result or an echo

Process faults:
  crash_midstream       after=3 code=3: deltas, Bun crash report on stderr, exit 3, no result
  exit_no_result        code=1 stderr="…" init=1: init+status, stderr text, exit code
  hang                  prints nothing, never exits (SIGTERM -> 143)
  hang_after_start      deltas=2: init, status, message_start, 2 deltas, then silence
  no_exit_after_result  a full success, then never exits
  ignore_sigterm        result=0: like hang_after_start (result=1: like
                        no_exit_after_result) but SIGTERM is ignored; only SIGKILL works
  stderr_noise          lines=2000: a normal answer while flooding stderr
  midstream_retry       text="…" partial=1: the connection drops: partial deltas, synthetic
                        stops (abandoned_blocks), api_retry, a new message_start (no new
                        status) that streams the whole text again (duplicates)
  midstream_fallback    text="…" partial=1: an SSE error event: partial deltas, synthetic
                        stops, then the non-streaming retry's assistant line (its text never
                        streamed as deltas: the replace case)
  retry_recovers        retries=1 status=529 text="…": api_retry lines, then a normal answer
  usage_error           option=--frobnicate: `error: unknown option '…'`, exit 1, no stdout
  grandchild            session=1 hold=1 answer=0 wait_ms=700: starts a sleeping grandchild
                        (own session; inheriting stdout), then crashes (exit 3, no result)
                        or answers; its pid in $FAKE_CLAUDE_RECORD_DIR/grandchild-<pid>.txt
  endless_line          chunk=65536: init, then one stdout line that never ends

The mock API's names (tests/mock_anthropic; same texts, "Partial" then "Hello from the mock
Anthropic API."), line for line as the real CLI prints them (tests/golden):
  midstream_error       an SSE error event after one delta: synthetic stops, then the
                        non-streaming fallback's answer; times=2: the fallback fails too
                        (assistant[server_error] 529, exit 1)
  drop                  the connection cut after one delta: with CLAUDE_CODE_MAX_RETRIES >= 1
                        api_retry and the answer streamed again, with 0 the non-streaming fallback
  529_recovers          one api_retry (529 overloaded), then the answer
  stall                 message_start, then silence until a signal (SIGTERM -> 143)

Signals: SIGTERM -> exit 143, no result line. SIGINT during a turn -> synthetic stops,
user `[Request interrupted by user]`, result error_during_execution /
aborted_streaming, exit 0.

An unknown scenario name exits 2 with the list of names on stderr (never a silent echo).

Line shapes and field order follow the real transcripts in tests/golden (when present,
tests/test_fake_claude.py diffs against them). Choices the transcripts do not settle:
the routine `allowed` rate_limit_event is left out without --include-partial-messages;
the server-error hint without ANTHROPIC_BASE_URL ("check status.claude.com"); the Bun crash
report text; the `Error: System prompt file not found: F` message.
"""
