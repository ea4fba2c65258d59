"""The `get_usage` control request (tui_proxy/runs/usage_cli.py asks it), answered the way the
real 2.1.328 was measured to answer it (docs/claude-cli.md; tests/test_usage_real_cli.py):

- an API key, or a CLAUDE_CODE_OAUTH_TOKEN without the profile scope
  (CLAUDE_CODE_OAUTH_SCOPES): `rate_limits_available: false`, `rate_limits: null`;
- CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC set: available, but nothing fetched (`null`);
- otherwise what the usage endpoint would give: $FAKE_CLAUDE_USAGE, the JSON of the
  `rate_limits` object (unset or empty: the endpoint failed, `null`).

$FAKE_CLAUDE_USAGE = "unsupported" plays an older CLI: an error reply.
"""

from __future__ import annotations

import json


def reply(env: dict, auth) -> dict | str:
    """The success response object, or the text of an error reply."""
    configured = env.get("FAKE_CLAUDE_USAGE", "")
    if configured == "unsupported":
        return "Unsupported control request subtype: get_usage"
    scopes = (env.get("CLAUDE_CODE_OAUTH_SCOPES") or "").split()
    available = auth.method == "claude.ai" or (auth.method == "oauth_token" and "user:profile" in scopes)
    limits = None
    if available and not env.get("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC") and configured:
        limits = json.loads(configured)
    return {
        "session": {"total_cost_usd": 0, "total_api_duration_ms": 0, "total_duration_ms": 12,
                    "total_lines_added": 0, "total_lines_removed": 0, "model_usage": {}},
        "subscription_type": "max" if auth.method == "claude.ai" else None,
        "rate_limits_available": available,
        "rate_limits": limits,
        "behaviors": None,
    }
