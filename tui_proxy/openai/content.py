"""Content parts of OpenAI messages (chat and Responses), parsed into the neutral parts.

The two APIs name their parts differently (`text` / `image_url` in chat, `input_text` /
`input_image` in Responses) but mean the same; each caller says which names it accepts.
"""

from __future__ import annotations

from typing import Any

from ..conversation import ImagePart, Part, TextPart
from ..errors import invalid, unsupported
from ..images import IMAGE_TYPES, MAX_IMAGE_MB, MAX_IMAGE_URL_CHARS, base64_problem



def text_only(content: Any, where: str, kinds: tuple[str, ...], *, required: bool = True) -> str:
    """Content that may only hold text: a string or an array of text parts of `kinds`
    (a `refusal` part's text is under `refusal`)."""
    if content is None:
        if required:
            raise invalid(where, f"'{where}' is required.", "missing_required_parameter")
        return ""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise invalid(where, f"'{where}' must be a string or an array of content parts.", "invalid_type")
    texts = []
    for j, part in enumerate(content):
        part_where = f"{where}[{j}]"
        if not isinstance(part, dict):
            raise invalid(part_where, f"'{part_where}' must be an object.", "invalid_type")
        kind = part.get("type")
        if kind not in kinds:
            raise invalid(f"{part_where}.type", f"'{part_where}.type' must be {' or '.join(repr(k) for k in kinds)} here.")
        key = "refusal" if kind == "refusal" else "text"
        if not isinstance(part.get(key), str):
            raise invalid(part_where, f"'{part_where}.{key}' must be a string.", "invalid_type")
        texts.append(part[key])
    return "\n".join(texts)


def user_parts(content: Any, where: str, *, text: tuple[str, ...], image: str, refused: tuple[str, ...]) -> tuple[Part, ...]:
    """A user message's content: a string, or text and image parts (`text` and `image` name
    them in the caller's API); `refused` kinds are a 400 saying they are not supported."""
    if content is None:
        raise invalid(where, f"'{where}' is required.", "missing_required_parameter")
    if isinstance(content, str):
        return (TextPart(content),)
    if not isinstance(content, list):
        raise invalid(where, f"'{where}' must be a string or an array of content parts.", "invalid_type")
    parts: list[Part] = []
    for j, part in enumerate(content):
        part_where = f"{where}[{j}]"
        if not isinstance(part, dict):
            raise invalid(part_where, f"'{part_where}' must be an object.", "invalid_type")
        kind = part.get("type")
        if kind in text:
            if not isinstance(part.get("text"), str):
                raise invalid(part_where, f"'{part_where}.text' must be a string.", "invalid_type")
            parts.append(TextPart(part["text"]))
        elif kind == image:
            if part.get("file_id") is not None and part.get("image_url") is None:
                raise unsupported(f"{part_where}.file_id", "Images by file id are not supported (there is no Files API here): send an image_url.")
            parts.append(image_part(part.get("image_url"), part_where))
        elif kind in refused:
            raise unsupported(f"{part_where}.type", f"'{kind}' content parts are not supported.")
        else:
            raise invalid(f"{part_where}.type", f"'{part_where}.type' must be {text[0]!r} or {image!r}.")
    return tuple(parts)


def image_part(image_url: Any, where: str) -> ImagePart:
    if isinstance(image_url, str):  # some clients send the bare URL
        url = image_url
    elif isinstance(image_url, dict) and isinstance(image_url.get("url"), str):
        url = image_url["url"]
    else:
        raise invalid(f"{where}.image_url", f"'{where}.image_url.url' must be a string.", "invalid_type")
    if url.startswith(("http://", "https://")):
        if len(url) > MAX_IMAGE_URL_CHARS:
            raise invalid(f"{where}.image_url", "Image URL is too long.")
        return ImagePart(url=url)
    if url.startswith("data:"):
        header, sep, data = url.partition(",")
        media_type = header[5:].split(";")[0].lower()
        if not sep or ";base64" not in header:
            raise invalid(f"{where}.image_url", "Image data URLs must be base64: data:image/png;base64,...")
        if media_type not in IMAGE_TYPES:
            raise invalid(f"{where}.image_url", f"Unsupported image type {media_type!r}: use one of {', '.join(IMAGE_TYPES)}.")
        problem = base64_problem(data)
        if problem == "too_large":
            raise invalid(f"{where}.image_url", f"Image is larger than {MAX_IMAGE_MB} MB.", "image_too_large")
        if problem == "not_base64":
            raise invalid(f"{where}.image_url", "Image data is not valid base64.")
        return ImagePart(media_type=media_type, data=data)
    raise invalid(f"{where}.image_url", "Image URLs must be http(s) URLs or base64 data URLs.")
