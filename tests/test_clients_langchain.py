"""LangChain (langchain-openai) against the proxy and the fake CLI: `bind_tools` round trips and
`with_structured_output` in both its modes (strict json_schema, and a forced function call)."""

from __future__ import annotations

import pytest

langchain_openai = pytest.importorskip("langchain_openai")
from langchain_core.messages import HumanMessage, ToolMessage  # noqa: E402
from langchain_core.tools import tool  # noqa: E402
from pydantic import BaseModel  # noqa: E402


@tool
def get_weather(city: str) -> str:
    """Current weather of a city."""
    return f"18C and sunny in {city}"


class Person(BaseModel):
    name: str
    age: int


def chat_model(engine, **options):
    return langchain_openai.ChatOpenAI(base_url=engine.url + "/v1", api_key="unused", model="sonnet", max_retries=0, timeout=30, **options)


@pytest.mark.parametrize("streaming", [False, True])
async def test_bind_tools_round_trip(engine, streaming):
    model = chat_model(engine, streaming=streaming).bind_tools([get_weather])
    messages = [HumanMessage("Weather in Paris? [[fake:tool_call]]")]
    first = await model.ainvoke(messages)
    assert [(c["name"], c["args"]) for c in first.tool_calls] == [("get_weather", {"city": "Paris"})]
    call = first.tool_calls[0]
    messages += [first, ToolMessage(get_weather.invoke(call["args"]), tool_call_id=call["id"])]
    second = await model.ainvoke(messages)
    assert second.content == "The tool returned: 18C and sunny in Paris"
    assert not second.tool_calls


async def test_streamed_tool_call_chunks_merge(engine):
    model = chat_model(engine).bind_tools([get_weather])
    merged = None
    async for chunk in model.astream("Weather in Paris? [[fake:tool_call]]"):
        merged = chunk if merged is None else merged + chunk
    assert [(c["name"], c["args"]) for c in merged.tool_calls] == [("get_weather", {"city": "Paris"})]


@pytest.mark.parametrize("method", ["json_schema", "function_calling"])
async def test_with_structured_output(engine, method):
    model = chat_model(engine).with_structured_output(Person, method=method)
    person = await model.ainvoke("Who wrote the first program? [[fake:model]]")
    assert isinstance(person, Person)
    assert person.model_dump().keys() == {"name", "age"}
