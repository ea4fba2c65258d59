"""One filter language for the console's list and `captures list --filter`.

    status>=400   status=5xx   ttft>2s   dur<500ms   tokens>1k   in>=10k
    model=opus    client=aider   id=5e1f   path=/v1/chat   code=max_turns
    error   ok   live   done   stream   thinking   tool   anything else: free text

Words are all required; `!` before a word negates it; quote a phrase ("capital of
france"). A comparison or `field=value` on a field that does not exist is an error
with a hint (`stauts>=400`: did you mean status?), and so is a value of the wrong
kind (`ttft>fast`). A word still being typed (`status>`) is an error too, which the
console shows quietly under the box.

What a field means is given by whoever filters (`Fields`): the console reads its live
exchanges, the captures command its stored summaries.
"""

from __future__ import annotations

import difflib
import re
import shlex
from dataclasses import dataclass
from typing import Any, Callable, Mapping

Predicate = Callable[[Any], bool]

#: Fields compared as numbers, as times (ms; `2s`, `500ms`) and as text (contains, any case).
NUMBER_FIELDS = ("status", "tokens", "in")
TIME_FIELDS = ("ttft", "dur")
TEXT_FIELDS = ("model", "client", "id", "path", "code")
FLAGS = ("error", "ok", "live", "done", "stream", "thinking", "tool")
#: Other spellings of flags.
FLAG_ALIASES = {"errors": "error", "running": "live", "failed": "error", "tools": "tool"}

FIELDS = NUMBER_FIELDS + TIME_FIELDS + TEXT_FIELDS

#: For help screens: every word of the language.
HELP_WORDS = (
    "status>=400", "status=5xx", "ttft>2s", "dur<500ms", "tokens>1k", "in>=10k",
    "model=opus", "client=aider", "id=5e1f", "path=/v1/chat", "code=max_turns",
    "error", "ok", "live", "done", "stream", "!stream", "thinking", "tool", '"free text"',
)
HELP = "  ".join(HELP_WORDS)

_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "=": lambda a, b: a == b,
    ":": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    ">": lambda a, b: a > b,
    "<": lambda a, b: a < b,
    ">=": lambda a, b: a >= b,
    "<=": lambda a, b: a <= b,
}
#: `name` `operator` `value` (the value may be empty while typing).
_WORD = re.compile(r"^([a-z_][a-z0-9_]*)(>=|<=|!=|=|>|<|:)(.*)$")


class FilterError(ValueError):
    """A filter that cannot mean anything: the message says what to write instead."""


@dataclass(frozen=True, slots=True)
class Fields:
    """How to read each field of the language from one kind of record.

    `values[name](record)` gives a number (ms for times), text, or None when unknown;
    `flags[name](record)` a bool; `text(record, needle)` free-text search (lower case).
    """

    values: Mapping[str, Callable[[Any], Any]]
    flags: Mapping[str, Callable[[Any], bool]]
    text: Callable[[Any, str], bool]

    def __post_init__(self) -> None:
        missing = [n for n in FIELDS if n not in self.values] + [f for f in FLAGS if f not in self.flags]
        if missing:
            raise TypeError(f"Fields without {', '.join(missing)}")


@dataclass(frozen=True, slots=True)
class Filter:
    text: str
    predicates: tuple[Predicate, ...]

    def __call__(self, record: Any) -> bool:
        return all(p(record) for p in self.predicates)

    def __bool__(self) -> bool:
        return bool(self.predicates)


MATCH_ALL = Filter("", ())


def parse_filter(text: str, fields: Fields) -> Filter:
    """The filter `text` means over records read by `fields`; FilterError if it means nothing."""
    try:
        words = shlex.split(text)
    except ValueError:  # an unclosed quote while typing: the words so far
        words = text.replace('"', " ").replace("'", " ").split()
    return Filter(text.strip(), tuple(_word(w, fields) for w in words if w and w != "!"))


def _word(word: str, fields: Fields) -> Predicate:
    if word.startswith("!") and len(word) > 1:
        inner = _word(word[1:], fields)
        return lambda r: not inner(r)
    lowered = word.lower()
    flag = FLAG_ALIASES.get(lowered, lowered)
    if flag in FLAGS:
        return fields.flags[flag]
    match = _WORD.match(lowered)
    if match is None or " " in word:
        needle = lowered
        return lambda r: fields.text(r, needle)
    name, operator, value = match.groups()
    if name not in FIELDS:
        raise FilterError(_unknown_field(name))
    if not value:
        raise FilterError(f"{name}{operator} needs a value, e.g. {_example(name)}")
    getter = fields.values[name]
    if name in TEXT_FIELDS:
        if operator not in ("=", ":", "!="):
            raise FilterError(f"{name} is text: use {name}=… or {name}!=…")
        wanted = operator != "!="
        return lambda r: (value in (getter(r) or "").lower()) == wanted
    if name == "status" and re.fullmatch(r"[1-5]xx", value):
        if operator not in ("=", ":", "!="):
            raise FilterError(f"status={value} or status!={value}: a class of statuses has no order")
        hundreds, wanted = int(value[0]), operator != "!="
        return lambda r: (s := getter(r)) is not None and (s // 100 == hundreds) == wanted
    number = _number(value, time=name in TIME_FIELDS)
    if number is None:
        raise FilterError(f"{name}{operator}{value}: {value!r} is not {'a time' if name in TIME_FIELDS else 'a number'}; e.g. {_example(name)}")
    compare = _OPERATORS[operator]
    return lambda r: (v := getter(r)) is not None and compare(v, number)


def _number(value: str, *, time: bool) -> float | None:
    """`400`, `1.5k`; for times `2s`, `500ms`, `1m` or a bare number of milliseconds."""
    match = re.fullmatch(r"([0-9]*\.?[0-9]+)(ms|s|m|k)?", value)
    if not match:
        return None
    number, unit = float(match.group(1)), match.group(2)
    if unit in ("s", "m", "ms") and not time:
        return None
    return number * {"s": 1000, "m": 60_000, "k": 1000}.get(unit or "", 1)


def _unknown_field(name: str) -> str:
    close = difflib.get_close_matches(name, FIELDS + FLAGS, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]}? " if close else ""
    return f"unknown field {name!r}: {hint}fields are {', '.join(FIELDS)}"


def _example(name: str) -> str:
    return {"status": "status>=400", "tokens": "tokens>1k", "in": "in>=10k", "ttft": "ttft>2s", "dur": "dur<500ms"}.get(name, f"{name}=…")
