"""Client tools: the functions of an OpenAI request, offered to the CLI as MCP tools.

Each run with tools serves them on its own loopback MCP endpoint (`bridge.ToolServer`)
and gives the CLI a private `--mcp-config` naming it and its random token. The CLI lists
the tools (`mcp__client__<name>`), the model calls one, the run sees the `tool_use` on
stdout and the client gets `tool_calls`; the run is then stopped, and the client's next
request, carrying the tool results, starts a new run with the whole conversation
(README, "Client tools", for why this beat continuing the live run).
"""
