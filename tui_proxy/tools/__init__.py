"""Client tools: the functions of a request (any face), offered to the CLI as MCP tools.

* `choice`: which tools a run offers (`tool_choice`, `parallel_tool_calls`) and what the
  model is told.
* `bridge`: each run with tools serves them on its own loopback MCP endpoint, behind a
  random token; `mcp_config` writes the run's private `--mcp-config` naming it. The CLI
  lists them as `mcp__client__<name>` (`names`).
* `stream_calls`: the model's `tool_use` blocks on stdout become OpenAI tool-call pieces.

Runs stopped at tool calls and waiting for the client's results live with every other live
CLI in `runs/` (`runs/parked.py`).
"""
