"""Who the fake is logged in as, and `claude auth status` (docs/claude-cli.md §9).

$FAKE_CLAUDE_LOGGED_IN (default "1"): "0"/"false"/"no" means not logged in.
ANTHROPIC_API_KEY set means API-key auth (apiKeySource "ANTHROPIC_API_KEY", no
rate_limit_event lines); else CLAUDE_CODE_OAUTH_TOKEN set means a subscription token
(authMethod "oauth_token", like the real CLI); otherwise a subscription (claude.ai) login.
Both subscription kinds print apiKeySource "none" in init and rate_limit_event lines.
"""

from __future__ import annotations

import json
import os


class Auth:
    def __init__(self, logged_in: bool, method: str, env: dict | None = None) -> None:
        self.logged_in = logged_in
        # "claude.ai" (subscription login) | "oauth_token" (CLAUDE_CODE_OAUTH_TOKEN) | "api_key" | "none"
        self.method = method
        self.env = env or {}

    @property
    def oauth(self) -> bool:
        return self.method in ("claude.ai", "oauth_token")

    @property
    def api_key_source(self) -> str:
        return "ANTHROPIC_API_KEY" if self.method == "api_key" else "none"


def from_env(env: dict) -> Auth:
    if env.get("FAKE_CLAUDE_LOGGED_IN", "1").strip().lower() in ("0", "false", "no", "off"):
        return Auth(False, "none", env)
    if env.get("ANTHROPIC_API_KEY"):
        return Auth(True, "api_key", env)
    if env.get("CLAUDE_CODE_OAUTH_TOKEN"):
        return Auth(True, "oauth_token", env)
    return Auth(True, "claude.ai", env)


def _common(auth: Auth) -> dict:
    """The fields 2.1.328 prints for every login state, in its order (after loggedIn/authMethod)."""
    env = auth.env
    config = env.get("CLAUDE_CONFIG_DIR") or os.path.join(env.get("HOME") or "/root", ".claude")
    return {
        "apiProvider": "firstParty",
        "analyticsDisabled": bool(env.get("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC")),
        "projectsDirectory": os.path.join(config, "projects"),
        "configDirectory": config,
        "loginExpiresAt": None,
        "consoleProfileSignInOffered": True,
    }


def status(auth: Auth) -> tuple[dict, int]:
    """The JSON printed by `claude auth status`, and the exit code (1 = not logged in)."""
    if not auth.logged_in:
        return {"loggedIn": False, "authMethod": "none", **_common(auth)}, 1
    if auth.method == "api_key":
        return {"loggedIn": True, "authMethod": "api_key", **_common(auth), "apiKeySource": "ANTHROPIC_API_KEY"}, 0
    if auth.method == "oauth_token":
        return {"loggedIn": True, "authMethod": "oauth_token", **_common(auth)}, 0
    # A claude.ai login (credentials file): not observable offline; account fields are the fake's.
    return {"loggedIn": True, "authMethod": "claude.ai", **_common(auth),
            "email": "fake@example.com", "orgId": "00000000-0000-4000-8000-000000000000",
            "orgName": "Fake Org", "subscriptionType": "max"}, 0


def status_text(payload: dict) -> bytes:
    """Pretty-printed with two spaces, like the real command."""
    return (json.dumps(payload, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
