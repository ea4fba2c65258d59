"""Real clients of the Responses API through the proxy and the fake CLI: openai-agents with its
default model (`OpenAIResponsesModel`) running a tool loop."""

from __future__ import annotations

import pytest

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
