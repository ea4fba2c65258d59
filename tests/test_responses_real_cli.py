"""`/v1/responses` in front of the REAL pinned CLI and the loopback mock of the Messages API:
llm-comply `--format open-responses` in full (the mock plays a model that calls an offered
client tool, since the suite's prompts carry no marker), a function-call round trip through
the strict SDK, and `codex exec` completing a task that needs one function call."""

from __future__ import annotations

import json

import pytest
from openai import AsyncOpenAI

from tests.mock_anthropic import MockAnthropic
from tests.real_cli import real_cli_engine
from test_responses_codex import codex_exec
from test_responses_conformance import COMPACTION, run_open_responses

WEATHER = {"type": "function", "name": "get_weather", "description": "Current weather of a city.", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}


@pytest.fixture
async def mock():
    async with MockAnthropic(default_scenario="model") as server:
        yield server


@pytest.fixture
async def engine(tmp_path, monkeypatch, mock):
    async with real_cli_engine(tmp_path, monkeypatch, mock) as started:
        yield started


async def test_llm_comply_open_responses_passes_in_full_with_the_real_cli(engine, mock):
    code, outcomes, results, err = await run_open_responses(engine.url + "/v1")
    assert code == 0, (outcomes, err[-2000:])
    assert {status for status in outcomes.values()} <= {"passed", "skipped"}, outcomes
    assert outcomes["tool-calling"] == "passed" and outcomes["image-input"] == "passed"
    warnings = {r.get("test_id") or r.get("id"): r.get("warnings") for r in results if r.get("warnings")}
    assert warnings.keys() <= COMPACTION, warnings
    offered = [tool["name"] for request in mock.message_requests() for tool in request.body.get("tools") or []]
    assert "mcp__client__get_weather" in offered  # the suite's tool reached the model through the CLI


async def test_function_call_round_trip_with_the_real_cli(engine, mock):
    async with AsyncOpenAI(base_url=engine.url + "/v1", api_key="unused", max_retries=0, timeout=60, _strict_response_validation=True) as client:
        async with client.responses.stream(model="sonnet", input="Weather in Paris?", tools=[WEATHER]) as events:
            first = await events.get_final_response()
        call = first.output[-1]
        assert call.type == "function_call" and call.name == "get_weather" and json.loads(call.arguments) == {"city": "Paris"}
        second = await client.responses.create(model="sonnet", previous_response_id=first.id, tools=[WEATHER],
                                               input=[{"type": "function_call_output", "call_id": call.call_id, "output": "18C and sunny"}])
    assert second.output_text == "Tool result received: 18C and sunny"
    first_request, followup = mock.message_requests()
    assert followup.headers["x-claude-code-session-id"] == first_request.headers["x-claude-code-session-id"]  # the same CLI went on


async def test_codex_exec_with_the_real_cli(engine, tmp_path):
    task = "Run `pwd` and report its output. [[mock:client_tools tool=mcp__client__exec_command cmd=pwd]]"
    answer = await codex_exec(engine.url, tmp_path, task)
    assert answer.startswith("Tool result received:") and "Process exited with code 0" in answer  # Codex ran the call
