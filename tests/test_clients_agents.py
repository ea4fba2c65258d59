"""An openai-agents agent loop with a function tool, through the proxy's chat completions and the fake CLI."""

from __future__ import annotations

import pytest

agents = pytest.importorskip("agents")
from openai import AsyncOpenAI  # noqa: E402

calls: list[str] = []


@agents.function_tool
def get_weather(city: str) -> str:
    """Current weather of a city."""
    calls.append(city)
    return f"18C and sunny in {city}"


@pytest.mark.parametrize("streamed", [False, True])
async def test_agent_loop_calls_the_tool_and_answers(engine, streamed):
    agents.set_tracing_disabled(True)  # no trace upload: the test is offline
    client = AsyncOpenAI(base_url=engine.url + "/v1", api_key="unused", max_retries=0, timeout=30)
    model = agents.OpenAIChatCompletionsModel(model="sonnet", openai_client=client)
    agent = agents.Agent(name="weather", instructions="Answer with the tool's help.", tools=[get_weather], model=model)
    calls.clear()
    question = "What is the weather in Paris? [[fake:model]]"
    if streamed:
        result = agents.Runner.run_streamed(agent, question)
        async for _ in result.stream_events():
            pass
    else:
        result = await agents.Runner.run(agent, question)
    await client.close()
    assert calls == ["Paris"]
    assert result.final_output == "The tool returned: 18C and sunny in Paris"
