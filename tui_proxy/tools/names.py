"""How a client's function name looks to the CLI and the model: `mcp__client__<name>`."""

from __future__ import annotations

#: The MCP server name in the run's config; the CLI prefixes every tool with it.
SERVER_NAME = "client"
PREFIX = f"mcp__{SERVER_NAME}__"


def cli_tool_name(name: str) -> str:
    return PREFIX + name


def client_tool_name(cli_name: str | None) -> str | None:
    """The client's function name for a CLI tool name, or None if it is not a client tool."""
    if cli_name and cli_name.startswith(PREFIX):
        return cli_name[len(PREFIX) :]
    return None
