"""The run's `--mcp-config` file: one HTTP server, the bridge, with the run's token (0600)."""

from __future__ import annotations

import json
import os

from .bridge import ToolServer
from .names import SERVER_NAME


def write_mcp_config(path: str, server: ToolServer) -> str:
    config = {
        "mcpServers": {
            SERVER_NAME: {"type": "http", "url": server.url, "headers": {"Authorization": f"Bearer {server.token}"}},
        }
    }
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(config, f)
    return path
