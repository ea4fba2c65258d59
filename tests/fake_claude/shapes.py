"""Static parts of the real lines, copied from 2.1.328 transcripts (tests/golden when present).

Kept in one place so that the fake's lines can be diffed against a new CLI version.
"""

from __future__ import annotations

VERSION = "2.1.328"

DEFAULT_TOOLS = ["Task", "Bash", "Glob", "Grep", "ExitPlanMode", "Read", "Edit", "Write", "NotebookEdit",
                 "WebFetch", "TodoWrite", "WebSearch", "BashOutput", "KillShell", "Skill", "SlashCommand"]
SKILLS = ["deep-research", "dataviz", "update-config", "verify", "debug", "code-review", "simplify", "batch",
          "fewer-permission-prompts", "doctor", "loop", "schedule", "claude-api", "workflow-authoring", "run",
          "run-skill-generator", "plugin-authoring"]
SLASH_COMMANDS = SKILLS + [
    "agents", "auto-mode-setup", "autocompact", "clear", "color", "compact", "config", "output-style", "context",
    "effort", "fast", "focus", "heapdump", "init", "mcp", "model", "__remote-workflow", "workflow-launch-exec",
    "reload-plugins", "reload-skills", "rename", "security-review", "usage", "insights", "recap", "goal",
    "list-agents", "team-onboarding"]
TERMINAL_SLASH_COMMANDS = ["doctor", "color", "focus", "reload-plugins"]
AGENTS = ["claude", "Explore", "general-purpose", "Plan", "statusline-setup"]
PLUGINS = [{"name": n, "path": "builtin", "source": f"{n}@builtin"}
           for n in ("cc-plugin-agents-md", "cc-plugin-privacy", "cc-plugin-plugin-authoring")]
CAPABILITIES = [
    "interrupt_receipt_v1", "interrupt_cancel_queued_v1", "interrupt_send_now_v1", "interrupt_requeue_taken_v1",
    "msg_lifecycle_v1", "request_marker_lists_v1", "ask_user_question_unanswered_v1",
    "lifecycle_wakeup_source_v1", "sdk_mcp_tools_list_changed", "sdk_mcp_manifests", "mcp_read_resource_v1",
    "mcp_tool_ui_meta_v1", "ui_surface_v1", "mcp_call_result_not_for_model_v1", "mcp_call_check_permissions_v1",
    "voice_call_talk_line_v1", "withdrawn_files_note_v2", "ui_pane_widget_v1", "reload_plugins_refuse_if_busy_v1",
    "silent_resend_files_v1"]


def subagent_stats() -> dict:
    return {"spawned": 0, "requested": {"background": 0, "foreground": 0, "unset": 0}, "started_in_background": 0,
            "max_depth": 0, "spawned_by_subagents": 0, "completed": 0, "failed": 0,
            "killed": {"parent": 0, "user": 0, "system": 0},
            "refused": {"depth_limit": 0, "concurrency_limit": 0, "budget": 0}, "by_type": {}}


def synthetic_usage() -> dict:
    """The all-zero usage of a `<synthetic>` error message."""
    return {"output_tokens_details": None, "input_tokens": 0, "output_tokens": 0,
            "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0,
            "server_tool_use": {"web_search_requests": 0, "web_fetch_requests": 0}, "service_tier": None,
            "cache_creation": {"ephemeral_1h_input_tokens": 0, "ephemeral_5m_input_tokens": 0},
            "inference_geo": None, "iterations": None, "speed": None, "fallback_credit": None}


def full_usage(counts: dict, thinking_tokens: int, *, details_first: bool = False) -> dict:
    """The result-line (and non-streamed message) usage object."""
    details = {"output_tokens_details": {"thinking_tokens": thinking_tokens}}
    usage = dict(details) if details_first else {}
    usage.update(input_tokens=counts["input_tokens"],
                 cache_creation_input_tokens=counts["cache_creation_input_tokens"],
                 cache_read_input_tokens=counts["cache_read_input_tokens"],
                 output_tokens=counts["output_tokens"])
    if not details_first:
        usage.update(details)
    usage.update(server_tool_use={"web_search_requests": 0, "web_fetch_requests": 0}, service_tier="standard",
                 cache_creation={"ephemeral_1h_input_tokens": 0, "ephemeral_5m_input_tokens": 0},
                 inference_geo="", iterations=[], speed="standard", fallback_credit=None)
    return usage
