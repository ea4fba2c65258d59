"""A mock of the Anthropic Messages API for running the real `claude` CLI offline.

Scenarios are chosen per request by a `[[mock:NAME key=value]]` marker in the
prompt; see `scenarios.py` for the list.
"""

from .markers import Marker, find_marker, parse_marker
from .scenarios import SCENARIOS, TEXT_ANSWER
from .server import MockAnthropic, RecordedRequest

__all__ = ["SCENARIOS", "TEXT_ANSWER", "Marker", "MockAnthropic", "RecordedRequest", "find_marker", "parse_marker"]
