#!/usr/bin/env bash
# Install the pinned Claude Code CLI into a cache folder and print the absolute
# path of its native executable on the last stdout line.
#
# Used by CI (.ci/run) and by developers who want the real-CLI tests to run.
# Everything except that final path goes to stderr, so callers can do
#   CLAUDE_REAL_CLI="$(scripts/install-claude-cli.sh | tail -n 1)"
#
# Environment:
#   CLAUDE_CLI_CACHE   install folder (default: ~/.cache/claude-max-tui/claude-code-<version>)
#
# To move the pin, change CLAUDE_CLI_VERSION below, run the script, regenerate
# the golden transcripts (python -m tests.real_cli --regenerate) and review the diff.
set -euo pipefail

CLAUDE_CLI_VERSION="2.1.328"
PACKAGE="@anthropic-ai/claude-code"

cache_dir="${CLAUDE_CLI_CACHE:-${HOME}/.cache/claude-max-tui/claude-code-${CLAUDE_CLI_VERSION}}"
package_dir="${cache_dir}/node_modules/${PACKAGE}"

log() { printf 'install-claude-cli: %s\n' "$*" >&2; }

# The npm package is a thin wrapper: postinstall hard-links the platform's
# native binary to bin/claude.exe. Callers must run that file directly (npm's
# shims break shell-less spawns on Windows and add a node hop elsewhere).
native_binary() {
    local candidate="${package_dir}/bin/claude.exe"
    if [[ -f "$candidate" && -x "$candidate" ]]; then
        printf '%s\n' "$candidate"
        return 0
    fi
    return 1
}

reports_pinned_version() {
    local binary="$1" reported
    reported="$("$binary" --version 2>/dev/null </dev/null || true)"
    [[ "$reported" == "${CLAUDE_CLI_VERSION} "* || "$reported" == "${CLAUDE_CLI_VERSION}" ]]
}

if binary="$(native_binary)" && reports_pinned_version "$binary"; then
    log "already installed: ${binary}"
else
    command -v npm >/dev/null 2>&1 || { log "npm not found on PATH (Node.js is required to install the CLI)"; exit 1; }
    log "installing ${PACKAGE}@${CLAUDE_CLI_VERSION} into ${cache_dir} (about 370 MB)"
    mkdir -p "$cache_dir"
    # No --ignore-scripts: the postinstall step is what puts the native binary in
    # place, from the platform package that --include=optional keeps even when a
    # user's npmrc omits optional dependencies.
    npm install \
        --prefix "$cache_dir" \
        --include=optional \
        --no-audit --no-fund --no-save --no-package-lock \
        --loglevel=error \
        "${PACKAGE}@${CLAUDE_CLI_VERSION}" </dev/null >&2
    if ! binary="$(native_binary)"; then
        log "installed, but ${package_dir}/bin/claude.exe is missing or not executable"
        exit 1
    fi
    if ! reports_pinned_version "$binary"; then
        log "installed binary does not report version ${CLAUDE_CLI_VERSION}: $("$binary" --version 2>&1 </dev/null || true)"
        exit 1
    fi
fi

# Absolute, symlink-free path so callers never depend on PATH or the cwd.
readlink -f "$binary"
