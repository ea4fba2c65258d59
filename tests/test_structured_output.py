"""`response_format` through the CLI's `--json-schema`: the content is the validated JSON, nothing else."""

from __future__ import annotations

import json
from pathlib import Path

import openai
import pytest

STATUS_SCHEMA = {"type": "object", "properties": {"status": {"type": "string", "enum": ["ok"]}}, "required": ["status"], "additionalProperties": False}
STRICT = {"type": "json_schema", "json_schema": {"name": "status", "strict": True, "schema": STATUS_SCHEMA}}
ASK = [{"role": "system", "content": "Be terse."}, {"role": "user", "content": "Status? [[fake:structured]]"}]


def last_record(record_dir: Path) -> dict:
    return json.loads(max(record_dir.glob("*.json"), key=lambda p: p.stat().st_mtime).read_text())


async def test_json_schema_content_is_exactly_the_structured_output(openai_client, fake_claude_env):
    reply = await openai_client.chat.completions.create(model="sonnet", messages=ASK, response_format=STRICT)
    assert reply.choices[0].message.content == '{"status":"ok"}'
    assert reply.choices[0].finish_reason == "stop"
    run = last_record(fake_claude_env)
    schema_args = [a for a in run["argv"] if a.startswith("--json-schema=")]
    assert [json.loads(a.split("=", 1)[1]) for a in schema_args] == [STATUS_SCHEMA]
    assert run["system_prompt"] == "Be terse."  # the schema is the CLI's job, not an instruction


async def test_json_object_asks_for_any_object(openai_client, fake_claude_env):
    reply = await openai_client.chat.completions.create(model="sonnet", messages=ASK, response_format={"type": "json_object"})
    assert isinstance(json.loads(reply.choices[0].message.content), dict)
    assert "--json-schema={\"type\":\"object\"}" in last_record(fake_claude_env)["argv"]


async def test_streamed_structured_output_is_one_json_content(openai_client):
    stream = await openai_client.chat.completions.create(model="sonnet", messages=ASK, response_format=STRICT, stream=True)
    chunks = [c async for c in stream]
    contents = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert contents == ['{"status":"ok"}']  # the model's prose around the tool call is not the answer
    assert chunks[-1].choices[0].finish_reason == "stop"


async def test_sdk_parse_helper_gets_the_object(openai_client):
    from pydantic import BaseModel

    class Person(BaseModel):
        name: str
        age: int

    value = json.dumps({"name": "Ada", "age": 36})
    messages = [{"role": "user", "content": f"Who? [[fake:structured value={json.dumps(value)}]]"}]
    reply = await openai_client.chat.completions.parse(model="sonnet", messages=messages, response_format=Person)
    assert reply.choices[0].message.parsed == Person(name="Ada", age=36)


async def test_a_run_without_structured_output_is_an_error(openai_client):
    messages = [{"role": "user", "content": "[[fake:text]]"}]
    with pytest.raises(openai.APIStatusError) as caught:
        await openai_client.chat.completions.create(model="sonnet", messages=messages, response_format=STRICT)
    assert caught.value.status_code == 502
    assert caught.value.code == "structured_output_missing"


async def test_an_oversized_schema_is_rejected(openai_client):
    schema = {"type": "object", "description": "x" * 70_000}
    with pytest.raises(openai.BadRequestError) as caught:
        await openai_client.chat.completions.create(model="sonnet", messages=ASK, response_format={"type": "json_schema", "json_schema": {"name": "big", "schema": schema}})
    assert caught.value.param == "response_format"
