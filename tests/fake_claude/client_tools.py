"""Scenarios that play a model using the client's tools (--mcp-config) or a JSON schema (--json-schema).

The fake acts like the real CLI: it connects to the MCP servers of --mcp-config, lists
their tools, and when "the model" calls one it prints the real line shapes (tool_use
block start, input_json_delta, assistant[tool_use], message_delta stop_reason tool_use)
while it calls the tool over MCP in the background, then waits for the result. It acts
like a model by reading the request: the tools offered, the schema, and whether the
conversation (rendered by the proxy as a transcript) ends with a tool result.
"""

from __future__ import annotations

import json
import re

from . import mcp_client, schema_values
from . import text as texts
from .run import Run

STRUCTURED_TOOL = "StructuredOutput"
STRUCTURED_OK = "Structured output provided successfully"
_TOOL_RESULT = re.compile(r'<tool_result[^>]*>\n?(.*?)\n?</tool_result>', re.S)


def tool_call(run: Run) -> None:
    """tool=NAME (default: the first tool offered) args="{…}" (default: made from its schema)
    calls=N (parallel calls) text="…" (said before calling; "" for nothing). When the
    conversation already ends with a tool result, answers with it instead."""
    servers = mcp_client.connect_all(run.session.args.value("--mcp-config"))
    run.init()
    result = last_tool_result(run.prompt.text)
    tools = [(server, tool) for server in servers if server.connected for tool in server.tools]
    if result is not None or not tools:
        reply = f"The tool returned: {result}" if result is not None else "No tools were offered to me."
        run.answer(texts.split_words(reply, 4))
        run.result()
        return
    _call_tools(run, tools)


def structured(run: Run) -> None:
    """value="{…}" (default: made from the --json-schema schema): the StructuredOutput call."""
    schema_text = run.session.args.value("--json-schema")
    run.init()
    if schema_text is None:
        run.answer(["No schema was given."])
        run.result()
        return
    schema = json.loads(schema_text)
    given = run.spec.params.get("value")
    value = json.loads(given) if given is not None else schema_values.value_for(schema)
    response = run.response()
    response.start()

    def accept(tool_id: str) -> None:
        run.user_line([{"tool_use_id": tool_id, "type": "tool_result", "content": STRUCTURED_OK}],
                      tool_use_result=STRUCTURED_OK,
                      tool_result_meta=[{"id": tool_id, "permission_decision": {"decision": "accept", "source": "config"}}])

    response.tool_use(STRUCTURED_TOOL, value, accept)
    response.finish("tool_use")
    run.num_turns += 1  # the CLI counts the tool round as a turn
    encoded = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    run.result(text=encoded, structured_output=value)


def model(run: Run) -> None:
    """A stand-in model for conformance suites: structured output when a schema is given,
    a tool call when tools are offered (and no tool result is pending), thinking then an echo
    when an effort is given, else an echo."""
    if run.session.args.value("--json-schema") is not None:
        structured(run)
    elif run.session.args.value("--mcp-config") and last_tool_result(run.prompt.text) is None:
        tool_call(run)
    elif last_tool_result(run.prompt.text) is not None:
        run.init()
        run.answer(texts.split_words(f"The tool returned: {last_tool_result(run.prompt.text)}", 4))
        run.result()
    elif run.session.args.value("--effort") is not None:
        # Asked to think (reasoning_effort, Anthropic's `thinking`): thinking, then the echo.
        from .answers import thinking_echo

        thinking_echo(run)
    else:
        from .answers import echo

        echo(run)


def last_tool_result(prompt_text: str) -> str | None:
    """The last tool result of the transcript, if nothing from the user came after it."""
    results = list(_TOOL_RESULT.finditer(prompt_text))
    if not results:
        return None
    last = results[-1]
    if "<user" in prompt_text[last.end():]:
        return None
    return last.group(1)


def _call_tools(run: Run, tools: list) -> None:
    spec = run.spec
    wanted = spec.params.get("tool")
    if wanted:
        tools = [(s, t) for s, t in tools if t.get("name") == wanted] or tools
    count = max(1, spec.int("calls", 1))
    response = run.response()
    response.start()
    preface = spec.str("text", "I will call a tool.")
    if preface:
        response.text(texts.split_words(preface, 3))
    pending = []
    for number in range(count):
        server, tool = tools[number % len(tools)]
        given = spec.params.get("args")
        arguments = json.loads(given) if given is not None else schema_values.value_for(tool.get("inputSchema") or {})

        def call(tool_id: str, server=server, name=tool["name"], arguments=arguments) -> None:
            pending.append((tool_id, server.call_in_background(name, arguments)))

        response.tool_use(f"mcp__{server.name}__{tool['name']}", arguments, call)
    response.finish("tool_use")
    # The real CLI now waits for the tools (the proxy answers them from the client's next
    # request, or stops the run), then sends the results to the model in a new turn.
    results = []
    for tool_id, thread in pending:
        thread.join()
        answer = thread.result  # type: ignore[attr-defined]
        result = answer.get("result") or {}
        content = result.get("content") or [{"type": "text", "text": str(answer.get("error"))}]
        run.user_line([{"type": "tool_result", "content": content, "tool_use_id": tool_id,
                        "is_error": bool(result.get("isError", True))}])
        results.append("".join(part.get("text", "") for part in content))
    run.answer(texts.split_words("The tool returned: " + "; ".join(results), 4))
    run.result()
