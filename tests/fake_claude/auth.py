"""Who the fake is logged in as, and `claude auth status` (claude-cli.md §9).

$FAKE_CLAUDE_LOGGED_IN (default "1"): "0"/"false"/"no" means not logged in.
ANTHROPIC_API_KEY set means API-key auth (apiKeySource "ANTHROPIC_API_KEY", no
rate_limit_event lines); otherwise a subscription (OAuth) login.
"""

from __future__ import annotations



class Auth:
    def __init__(self, logged_in: bool, method: str) -> None:
        self.logged_in = logged_in
        self.method = method  # "claude.ai" (OAuth subscription) | "api_key" | "none"

    @property
    def oauth(self) -> bool:
        return self.method == "claude.ai"

    @property
    def api_key_source(self) -> str:
        return "ANTHROPIC_API_KEY" if self.method == "api_key" else "none"


def from_env(env: dict) -> Auth:
    if env.get("FAKE_CLAUDE_LOGGED_IN", "1").strip().lower() in ("0", "false", "no", "off"):
        return Auth(False, "none")
    if env.get("ANTHROPIC_API_KEY"):
        return Auth(True, "api_key")
    return Auth(True, "claude.ai")


def status(auth: Auth) -> tuple[dict, int]:
    """The JSON printed by `claude auth status`, and the exit code (1 = not logged in)."""
    if not auth.logged_in:
        return {"loggedIn": False, "authMethod": "none", "apiProvider": "firstParty"}, 1
    if auth.method == "api_key":
        return {"loggedIn": True, "authMethod": "api_key", "apiProvider": "firstParty",
                "apiKeySource": "ANTHROPIC_API_KEY"}, 0
    return {"loggedIn": True, "authMethod": "claude.ai", "apiProvider": "firstParty",
            "email": "fake@example.com", "orgId": "00000000-0000-4000-8000-000000000000",
            "orgName": "Fake Org", "subscriptionType": "max"}, 0
