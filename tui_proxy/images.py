"""Images in a request, whatever face carried them: the limits the Messages API sets, and
the checks of a base64 image's data (each face words the error its own way)."""

from __future__ import annotations

import base64
import binascii
from typing import Literal

#: Largest decoded image accepted (the Messages API's own cap is 5 MB per image).
MAX_IMAGE_BYTES = 5 * 1024 * 1024
IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")
#: Longest image URL accepted (the API fetches it).
MAX_IMAGE_URL_CHARS = 8192
MAX_IMAGE_MB = MAX_IMAGE_BYTES // (1024 * 1024)


def base64_problem(data: str) -> Literal["too_large", "not_base64"] | None:
    """What is wrong with an image's base64 data, if anything."""
    if len(data) * 3 // 4 > MAX_IMAGE_BYTES:
        return "too_large"
    try:
        base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return "not_base64"
    return None
