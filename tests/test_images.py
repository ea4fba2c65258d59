"""`image_url` parts: data URLs become base64 image blocks, http(s) URLs url blocks; limits give clear 400s."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import openai
import pytest

PNG = base64.b64encode(bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000" "1f15c4890000000d49444154789c6360000002000100ffff03000006000557bfabd40000000049454e44ae426082")).decode()


def stdin_blocks(record_dir: Path) -> list[dict]:
    """The content of the message the run answered: the last record of its session file."""
    record = json.loads(max(record_dir.glob("*.json"), key=lambda p: p.stat().st_mtime).read_text())
    users = [r["message"] for r in record["resumed"] if r.get("type") == "user"]
    return users[-1]["content"]


def ask(*parts: dict) -> list[dict]:
    return [{"role": "user", "content": [{"type": "text", "text": "What is this?"}, *parts]}]


async def test_data_url_becomes_a_base64_image_block(openai_client, fake_claude_env):
    part = {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}", "detail": "low"}}
    reply = await openai_client.chat.completions.create(model="sonnet", messages=ask(part))
    assert reply.choices[0].finish_reason == "stop"
    blocks = stdin_blocks(fake_claude_env)
    assert blocks[0] == {"type": "text", "text": "What is this?"}
    assert blocks[1] == {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}}


async def test_https_url_becomes_a_url_image_block(openai_client, fake_claude_env):
    part = {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}}
    await openai_client.chat.completions.create(model="sonnet", messages=ask(part))
    assert stdin_blocks(fake_claude_env)[1] == {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}}


async def test_images_in_history_keep_their_place(openai_client, fake_claude_env):
    image = {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}}
    messages = [*ask(image), {"role": "assistant", "content": "A pixel."}, {"role": "user", "content": "And its colour?"}]
    await openai_client.chat.completions.create(model="sonnet", messages=messages)
    record = json.loads(max(fake_claude_env.glob("*.json"), key=lambda p: p.stat().st_mtime).read_text())
    contents = [[b["type"] for b in r["message"]["content"]] for r in record["resumed"] if r.get("type") in ("user", "assistant")]
    assert contents == [["text", "image"], ["text"], ["text"]]  # native messages: the image in its own turn


@pytest.mark.parametrize(
    ("url", "code", "says"),
    [
        ("data:image/bmp;base64," + PNG, "invalid_value", "Unsupported image type"),
        ("data:image/png," + PNG, "invalid_value", "base64"),
        ("data:image/png;base64,@@@not-base64@@@", "invalid_value", "not valid base64"),
        ("data:image/png;base64," + "A" * (7 * 1024 * 1024), "image_too_large", "larger than 5 MB"),
        ("ftp://example.com/cat.png", "invalid_value", "http(s) URLs or base64 data URLs"),
    ],
)
async def test_bad_images_get_clear_errors(openai_client, url, code, says):
    part = {"type": "image_url", "image_url": {"url": url}}
    with pytest.raises(openai.BadRequestError) as caught:
        await openai_client.chat.completions.create(model="sonnet", messages=ask(part))
    assert caught.value.code == code
    assert caught.value.param == "messages[0].content[1].image_url"
    assert says in caught.value.message
