"""`POST /v1/messages/count_tokens` answered by an estimate, never by spawning the CLI.

The CLI has no token counter of its own, and calling the model to count would spend the
subscription. The estimate counts what the proxy would send (the system prompt with the tool
instructions, the rendered conversation, the tools' schemas) with the same word-piece
estimate as `max_tokens` (`claude/output_limits.py`), plus a fixed cost per image. It does not
count what the CLI adds upstream (its identity and environment lines, a few hundred tokens).
"""

from __future__ import annotations

import json

from ..claude.output_limits import estimate_tokens
from ..claude.plan import plan_run
from ..conversation import ModelRequest

#: Anthropic's cost of an image is width x height / 750, at most ~1,600 tokens after its own
#: downscaling: the proxy does not decode images, so it counts the most.
TOKENS_PER_IMAGE = 1600


def estimate_input_tokens(request: ModelRequest) -> int:
    plan = plan_run(request)
    texts = [plan.prompt.system_prompt or ""]
    images = 0
    for block in plan.prompt.blocks:
        if block["type"] == "text":
            texts.append(block["text"])
        else:
            images += 1
    for tool in plan.tools.offered:
        texts.append(f"{tool.name} {tool.description} {json.dumps(tool.parameters, ensure_ascii=False)}")
    return sum(estimate_tokens(text) for text in texts) + images * TOKENS_PER_IMAGE
