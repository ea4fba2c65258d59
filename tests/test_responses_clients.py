"""Real clients of the Responses API through the proxy and the fake CLI, running a tool loop:
openai-agents with its default model (`OpenAIResponsesModel`), and the AI SDK's default
`openai(id)` (npm `ai`, `@ai-sdk/openai`; installed by scripts/test into .cache/npm-aisdk, found
there or through $AI_SDK_DIR; missing: skipped locally, a failure in CI)."""

from __future__ import annotations

import asyncio
import json
import os

import pytest

from test_conformance import ROOT, tool_or_skip

agents = pytest.importorskip("agents")
from openai import AsyncOpenAI  # noqa: E402

from test_clients_agents import calls, get_weather  # noqa: E402  (the same tool as the chat-model loop)


@pytest.mark.parametrize("streamed", [False, True])
async def test_agents_default_model_runs_a_tool_loop(engine, streamed):
    agents.set_tracing_disabled(True)  # no trace upload: the test is offline
    client = AsyncOpenAI(base_url=engine.url + "/v1", api_key="unused", max_retries=0, timeout=30)
    provider = agents.OpenAIProvider(openai_client=client)  # the SDK's defaults, our client
    assert isinstance(provider.get_model("claude-sonnet-4"), agents.OpenAIResponsesModel)
    config = agents.RunConfig(model_provider=provider)
    agent = agents.Agent(name="weather", instructions="Answer with the tool's help.", tools=[get_weather], model="claude-sonnet-4")
    calls.clear()
    question = "What is the weather in Paris? [[fake:model]]"
    if streamed:
        result = agents.Runner.run_streamed(agent, question, run_config=config)
        kinds = [event.type async for event in result.stream_events()]
        assert "raw_response_event" in kinds
    else:
        result = await agents.Runner.run(agent, question, run_config=config)
    await client.close()
    assert calls == ["Paris"]
    assert result.final_output == "The tool returned: 18C and sunny in Paris"
    assert result.raw_responses[0].response_id.startswith("resp_")


AI_SDK_DEFAULT = ROOT / ".cache" / "npm-aisdk"
AI_SDK_SCRIPT = ROOT / "tests" / "clients" / "ai_sdk_responses.mjs"


async def test_ai_sdk_default_openai_model_runs_a_tool_loop(engine):
    folder = os.environ.get("AI_SDK_DIR") or str(AI_SDK_DEFAULT)
    tool_or_skip(os.path.join(folder, "node_modules", "@ai-sdk", "openai"), "the AI SDK (npm ai, @ai-sdk/openai)")
    env = {**os.environ, "PROXY_URL": engine.url + "/v1", "MODEL": "claude-sonnet-4", "PROMPT": "Weather in Paris? [[fake:model]]"}
    # Evaluated in the SDK's folder: bare imports resolve from the working directory.
    process = await asyncio.create_subprocess_exec("node", "--input-type=module", "-e", AI_SDK_SCRIPT.read_text(), env=env, cwd=folder, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = (data.decode() for data in await asyncio.wait_for(process.communicate(), 120))
    code = process.returncode
    assert code == 0, err[-3000:]
    result = json.loads(out.strip().splitlines()[-1])
    assert result["provider"] == "openai.responses"  # the default model speaks /v1/responses
    assert result["text"] == "The tool returned: 18C and sunny in Paris" and result["steps"] == 2
    assert result["streamed"].endswith("The tool returned: 18C and sunny in Paris")
    assert result["calls"] == ["Paris", "Paris"]  # the tool ran once per loop (generate, then stream)
