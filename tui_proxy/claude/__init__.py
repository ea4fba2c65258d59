"""The Claude Code CLI: argv, environment, process, stdout line parsing and failure mapping."""
