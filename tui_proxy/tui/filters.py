"""The requests list filter: a few typed words, all of which must match.

    status>=400   status=5xx   status=200   error   live   done   stream   !stream
    model=sonnet  client=curl  id=5e1f      anything else: text in id, client, model,
                                             path, prompt or answer (case-insensitive)

A `!` before any word negates it. Unknown `key=value` words fall back to text search,
so a typo narrows the list rather than raising.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from typing import Callable

from .exchange_view import ExchangeView

Predicate = Callable[[ExchangeView], bool]

_COMPARISON = re.compile(r"^(status|ttft|tokens|dur)(>=|<=|!=|=|>|<|:)(.+)$")
_FIELD = re.compile(r"^(model|client|id|path)[=:](.+)$")

HELP = "status>=400 status=5xx error live done stream !stream model=x client=x id=x text"


@dataclass(frozen=True, slots=True)
class Filter:
    text: str
    predicates: tuple[Predicate, ...]

    def __call__(self, view: ExchangeView) -> bool:
        return all(p(view) for p in self.predicates)

    def __bool__(self) -> bool:
        return bool(self.predicates)


MATCH_ALL = Filter("", ())


def parse_filter(text: str) -> Filter:
    try:
        words = shlex.split(text)
    except ValueError:  # an unclosed quote while typing
        words = text.split()
    return Filter(text.strip(), tuple(_word(w) for w in words if w and w != "!"))


def _word(word: str) -> Predicate:
    if word.startswith("!") and len(word) > 1:
        inner = _word(word[1:])
        return lambda v: not inner(v)
    lowered = word.lower()
    flag = _FLAGS.get(lowered)
    if flag is not None:
        return flag
    match = _COMPARISON.match(lowered)
    if match:
        predicate = _comparison(*match.groups())
        if predicate is not None:
            return predicate
    match = _FIELD.match(lowered)
    if match:
        name, needle = match.groups()
        return lambda v: needle in (getattr(v, name) or "").lower()
    return _text(lowered)


_FLAGS: dict[str, Predicate] = {
    "error": lambda v: v.failed,
    "errors": lambda v: v.failed,
    "ok": lambda v: not v.in_flight and not v.failed,
    "live": lambda v: v.in_flight,
    "running": lambda v: v.in_flight,
    "done": lambda v: not v.in_flight,
    "stream": lambda v: v.stream,
    "thinking": lambda v: len(v.thinking) > 0,
}

_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "=": lambda a, b: a == b,
    ":": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    ">": lambda a, b: a > b,
    "<": lambda a, b: a < b,
    ">=": lambda a, b: a >= b,
    "<=": lambda a, b: a <= b,
}


def _comparison(name: str, op: str, value: str) -> Predicate | None:
    compare = _OPERATORS[op]
    if name == "status" and re.fullmatch(r"[1-5]xx", value) and op in ("=", ":", "!="):
        hundreds = int(value[0])
        want = op != "!="
        return lambda v: v.status is not None and (v.status // 100 == hundreds) == want
    number = _number(value, seconds=name in ("ttft", "dur"))
    if number is None:
        return None
    if name == "status":
        return lambda v: v.status is not None and compare(v.status, number)
    if name == "tokens":
        return lambda v: compare(v.tokens_out, number)
    if name == "ttft":
        return lambda v: (t := v.ttft_ms()) is not None and compare(t, number)
    return lambda v: v.final_duration_ms is not None and compare(v.final_duration_ms, number)


def _number(value: str, *, seconds: bool) -> float | None:
    """`400`; for times `2s`, `500ms` or a bare number of milliseconds."""
    match = re.fullmatch(r"([0-9]*\.?[0-9]+)(ms|s|k)?", value)
    if not match:
        return None
    number, unit = float(match.group(1)), match.group(2)
    if unit == "s" and seconds:
        return number * 1000
    if unit == "k":
        return number * 1000
    return number


def _text(needle: str) -> Predicate:
    def matches(view: ExchangeView) -> bool:
        haystack = (view.id, view.client, view.model or "", view.path, str(view.text))
        if any(needle in s.lower() for s in haystack):
            return True
        return needle.encode() in view.body.lower()

    return matches
