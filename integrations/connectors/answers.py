"""What of a platform's answer a message may quote: the status, and at most a short, clean summary.

Connector errors become the messages people read: a connection test's answer on the merchant's page,
a held order's reason, a sync run's last message, the admin's history. A connection's address may
lead somewhere that is not the platform (a typo, a stale sandbox, someone probing an internal
service), so the body of an answer is never quoted. A message keeps the HTTP status with its standard
phrase (not the server's own reason line) and, at most, a summary taken from a field the platform's
error format defines (a JSON `message`, an XML error element...), passed through `summary()`:
printable text only, no markup, no links, at most `SUMMARY_LIMIT` characters. Every connector quotes
a platform's text through this module and nowhere else.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from http import HTTPStatus
from typing import Any

SUMMARY_LIMIT = 150
# The fields a JSON error body names its message in, most specific first.
ERROR_FIELDS = ("message", "Message", "error_description", "error", "Hint", "hint", "errors", "detail")

_MARKUP = re.compile(r"<\s*/?\s*[A-Za-z!?][^<>]*>")
_LINK = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]*://\S*|\bwww\.\S+", re.IGNORECASE)
_MEDIA_TYPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9.+-]{0,40}/[A-Za-z0-9][A-Za-z0-9.+-]{0,60}")


def redact(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "[redacted]")
    return text


def summary(value: Any, limit: int = SUMMARY_LIMIT, *, secrets: Iterable[str] = ()) -> str:
    """A platform's text as a message may quote it, or "" when it is not a message at all.

    Text holding markup is refused whole (an HTML page in a JSON field is still a page); secrets are
    redacted before anything is cut (a cut secret would no longer match); links are replaced by
    "[link]"; control, format (bidi, zero-width) and other unprintable characters become spaces; the
    result is one line of at most `limit` characters.
    """
    text = flatten(value)
    if not text or _MARKUP.search(text):
        return ""
    text = _LINK.sub("[link]", redact(text, secrets))
    text = "".join(char if char.isprintable() else " " for char in text)
    text = " ".join(text.replace("<", " ").replace(">", " ").split())
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + "…"


def flatten(value: Any) -> str:
    """The words of a JSON value: strings as they are, `{field: [messages]}` as "field: messages"."""
    if value is None or isinstance(value, bool):
        return ""
    if isinstance(value, dict):
        parts = (f"{key}: {flatten(item)}" if isinstance(key, str) else flatten(item) for key, item in value.items())
        return "; ".join(part for part in parts if part and not part.endswith(": "))
    if isinstance(value, (list, tuple)):
        return "; ".join(part for part in (flatten(item) for item in value) if part)
    return str(value)


def json_error_summary(body: Any, *, secrets: Iterable[str] = ()) -> str:
    """The summary of a JSON error body's first message field, or "" (a body that is not an object
    has none: it is never quoted)."""
    if not isinstance(body, dict):
        return ""
    for field in ERROR_FIELDS:
        found = summary(body.get(field), secrets=secrets)
        if found:
            return found
    return ""


def status_phrase(status: int) -> str:
    """The standard phrase of an HTTP status ("Not Found"), never what the server put in its reason line."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"HTTP {status}"


def media_type(content_type: str | None) -> str:
    """An answer's media type ("text/html") when it looks like one, else ""."""
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    return kind if _MEDIA_TYPE.fullmatch(kind) else ""
