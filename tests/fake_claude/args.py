"""Command-line parsing that fails like the real CLI's (commander.js) parser.

Options are checked in argv order: a missing or invalid value stops at once, an
unknown option is reported after the scan, with commander's "(Did you mean …?)" hint.
Variadic options (--tools, --allowedTools, --mcp-config, …) swallow following bare
words, exactly the trap documented in docs/claude-cli.md §2.
"""

from __future__ import annotations


class UsageError(Exception):
    """A message for stderr; the process then exits 1 with empty stdout."""


FLAGS = {
    "--print", "--verbose", "--include-partial-messages", "--strict-mcp-config",
    "--no-session-persistence", "--dangerously-skip-permissions",
    "--allow-dangerously-skip-permissions", "--replay-user-messages", "--continue",
    "--fork-session", "--ide", "--mcp-debug", "--bare", "--include-hook-events",
    "--version", "--help", "--disable-slash-commands", "--chrome", "--no-chrome",
}
# name -> metavar (used in commander's error messages)
VALUES = {
    "--output-format": "<format>", "--input-format": "<format>", "--model": "<model>",
    "--system-prompt": "<prompt>", "--system-prompt-file": "<file>",
    "--append-system-prompt": "<prompt>", "--append-system-prompt-file": "<file>",
    "--permission-mode": "<mode>", "--session-id": "<uuid>", "--fallback-model": "<model>",
    "--max-turns": "<turns>", "--max-budget-usd": "<amount>",
    "--max-thinking-tokens": "<tokens>", "--thinking": "<mode>", "--effort": "<level>",
    "--json-schema": "<schema>", "--settings": "<file-or-json>",
    "--setting-sources": "<sources>", "--agents": "<json>", "--agent": "<agent>",
    "--permission-prompt-tool": "<tool>",
}
VARIADIC = {
    "--tools": "<tools...>", "--allowedTools": "<tools...>", "--allowed-tools": "<tools...>",
    "--disallowedTools": "<tools...>", "--disallowed-tools": "<tools...>",
    "--mcp-config": "<configs...>", "--add-dir": "<directories...>", "--betas": "<betas...>",
    "--file": "<specs...>", "--plugin-dir": "<paths...>",
}
OPTIONAL_VALUE = {"--resume": "[value]", "--debug": "[filter]"}
SHORT = {"-p": "--print", "-c": "--continue", "-r": "--resume", "-d": "--debug",
         "-v": "--version", "-h": "--help"}
CHOICES = {"--output-format": ("text", "json", "stream-json"), "--input-format": ("text", "stream-json")}
NUMBERS = {"--max-turns", "--max-thinking-tokens", "--max-budget-usd"}
ALL_LONG = sorted(FLAGS | set(VALUES) | set(VARIADIC) | set(OPTIONAL_VALUE))


class Args:
    def __init__(self) -> None:
        self.options: dict = {}  # long name -> True | str | list[str]
        self.positionals: list = []

    def flag(self, name: str) -> bool:
        return bool(self.options.get(name))

    def value(self, name: str, default=None):
        return self.options.get(name, default)

    @property
    def output_format(self) -> str:
        return self.options.get("--output-format", "text")

    @property
    def input_format(self) -> str:
        return self.options.get("--input-format", "text")

    @property
    def tools(self) -> list[str] | None:
        """None when --tools is absent (default tools); [] for --tools= ."""
        raw = self.options.get("--tools")
        if raw is None:
            return None
        names: list[str] = []
        for item in raw:
            names += [n for n in item.replace(",", " ").split() if n]
        return names


def _flags_text(name: str) -> str:
    short = next((s for s, l in SHORT.items() if l == name), None)
    meta = VALUES.get(name) or VARIADIC.get(name) or OPTIONAL_VALUE.get(name) or ""
    text = f"{short}, {name}" if short else name
    return f"{text} {meta}".strip()


def _check_value(name: str, value: str) -> str:
    if name in CHOICES and value not in CHOICES[name]:
        allowed = ", ".join(CHOICES[name])
        raise UsageError(f"error: option '{_flags_text(name)}' argument '{value}' is invalid. "
                         f"Allowed choices are {allowed}.")
    if name in NUMBERS:
        try:
            float(value)
        except ValueError:
            raise UsageError(f"error: option '{_flags_text(name)}' argument '{value}' is invalid. "
                             "must be a number") from None
    return value


def parse(argv: list[str]) -> Args:
    args = Args()
    unknown: str | None = None
    i = 0
    while i < len(argv):
        token = argv[i]
        i += 1
        if token == "--":
            args.positionals += argv[i:]
            break
        if not token.startswith("-") or token == "-":
            args.positionals.append(token)
            continue
        name, eq, inline = token.partition("=")
        name = SHORT.get(name, name)
        if name in FLAGS and not eq:
            args.options[name] = True
        elif name in VALUES:
            if eq:
                value = inline
            elif i < len(argv):
                value = argv[i]
                i += 1
            else:
                raise UsageError(f"error: option '{_flags_text(name)}' argument missing")
            args.options[name] = _check_value(name, value)
        elif name in VARIADIC:
            values = args.options.setdefault(name, [])
            if eq:
                values.append(inline)
            elif i < len(argv) and not argv[i].startswith("-"):
                values.append(argv[i])
                i += 1
            else:
                raise UsageError(f"error: option '{_flags_text(name)}' argument missing")
            while i < len(argv) and not (len(argv[i]) > 1 and argv[i].startswith("-")):
                values.append(argv[i])  # the variadic trap: bare words are swallowed
                i += 1
        elif name in OPTIONAL_VALUE:
            if eq:
                args.options[name] = inline
            elif i < len(argv) and not argv[i].startswith("-"):
                args.options[name] = argv[i]
                i += 1
            else:
                args.options[name] = True
        elif unknown is None:
            unknown = token
    if unknown is not None:
        raise UsageError(f"error: unknown option '{unknown}'" + _suggestion(unknown))
    return args


def _edit_distance(a: str, b: str) -> int:
    """Damerau-Levenshtein (optimal string alignment), as commander's suggestSimilar."""
    d = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for x in range(len(a) + 1):
        d[x][0] = x
    for y in range(len(b) + 1):
        d[0][y] = y
    for x in range(1, len(a) + 1):
        for y in range(1, len(b) + 1):
            cost = 0 if a[x - 1] == b[y - 1] else 1
            d[x][y] = min(d[x - 1][y] + 1, d[x][y - 1] + 1, d[x - 1][y - 1] + cost)
            if x > 1 and y > 1 and a[x - 1] == b[y - 2] and a[x - 2] == b[y - 1]:
                d[x][y] = min(d[x][y], d[x - 2][y - 2] + 1)
    return d[len(a)][len(b)]


def _suggestion(token: str) -> str:
    if not token.startswith("--"):
        return ""
    word = token.split("=", 1)[0][2:]
    best, best_distance = [], 3
    for candidate in (c[2:] for c in ALL_LONG):
        if len(candidate) <= 1:
            continue
        distance = _edit_distance(word, candidate)
        length = max(len(word), len(candidate))
        if (length - distance) / length > 0.4:
            if distance < best_distance:
                best, best_distance = [candidate], distance
            elif distance == best_distance:
                best.append(candidate)
    if not best:
        return ""
    best = sorted(best)
    if len(best) == 1:
        return f"\n(Did you mean --{best[0]}?)"
    return "\n(Did you mean one of " + ", ".join("--" + b for b in best) + "?)"
