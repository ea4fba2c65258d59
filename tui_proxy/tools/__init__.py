"""Client tools: the functions of an OpenAI request, offered to the CLI as MCP tools.

* `choice`: which tools a run offers (`tool_choice`, `parallel_tool_calls`) and what the
  model is told.
* `bridge`: each run with tools serves them on its own loopback MCP endpoint, behind a
  random token; `mcp_config` writes the run's private `--mcp-config` naming it. The CLI
  lists them as `mcp__client__<name>` (`names`).
* `stream_calls`: the model's `tool_use` blocks on stdout become OpenAI tool-call pieces.
* `parking`: a run stopped at tool calls waits (bounded) for the client's next request;
  if that request brings exactly those results, the same CLI goes on, otherwise a new run
  gets the conversation as a transcript (README, "Client tools", for the measurements).
"""
