"""claude-max-tui: an OpenAI-compatible bridge to the Claude Code CLI, with a live console."""

__version__ = "0.1.0"
