"""Reading and writing Overstock Supplier Oasis XML, safely and without caring about namespaces.

Overstock's API is JAXB behind HTTP Basic: bodies are XML in the namespace `api.supplieroasis.com`,
sometimes as a default namespace, sometimes with an `ns2:` prefix on every element, sometimes with
no namespace at all, depending on the endpoint's version. Integrators agree on element names, not on
their order or their namespace, so everything here matches on *local* names (case-insensitively)
and never on position.

Bodies are parsed with defusedxml and any DTD is refused outright: Overstock never sends one, and a
document that declares entities (XXE, "billion laughs") is an attack or a broken proxy, not an order
listing. Known glitches become `BadPayloadError`, which fails the run loudly rather than making an
empty window look complete: a body of literally `null` (ShipWorks works around the same thing), an
empty body, an HTML error page.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from xml.etree.ElementTree import Element  # noqa: S405 - the type only; parsing goes through defusedxml

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from integrations.connectors.answers import summary
from integrations.connectors.errors import BadPayloadError

NAMESPACE = "api.supplieroasis.com"

# Text Overstock writes for "no value" inside an element (seen as <billingAccountNumber>null<…>).
_NULL_TEXTS = frozenset({"null", "nil"})
# Characters XML 1.0 cannot carry at all, even escaped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def read_xml(body: bytes | str, *, what: str) -> Element:
    """The root element of a body, or `BadPayloadError` saying why it cannot be read.

    `what` names the request in the message ("the orders window 12:00–13:00 UTC").
    """
    raw = body.encode() if isinstance(body, str) else body or b""
    stripped = raw.strip()
    if not stripped:
        raise BadPayloadError(f"Overstock answered {what} with an empty body")
    if stripped.lower() == b"null":
        raise BadPayloadError(
            f"Overstock answered {what} with a body of literally `null` (a known Overstock glitch): "
            "nothing was read, the next run asks again"
        )
    try:
        return SafeET.fromstring(raw, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise BadPayloadError(
            f"Overstock answered {what} with XML that declares a DTD or entities ({type(exc).__name__}): "
            "refused unread, as Overstock never sends one"
        ) from None
    except SafeET.ParseError as exc:
        raise BadPayloadError(
            f"Overstock answered {what} with a body that is not valid XML (malformed or truncated: {exc})"
        ) from None


def local_name(tag: Any) -> str:
    """`{api.supplieroasis.com}orderDate` or `ns2:orderDate` → `orderDate` (comments have no name)."""
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1].rsplit(":", 1)[-1]


def _is(element: Element, name: str) -> bool:
    return local_name(element.tag).lower() == name.lower()


def children(element: Element | None, name: str) -> list[Element]:
    """The direct children with this local name, in document order."""
    if element is None:
        return []
    return [child for child in element if _is(child, name)]


def child(element: Element | None, *path: str) -> Element | None:
    """The first element down this path of local names (`child(order, "warehouseName", "code")`)."""
    for name in path:
        found = children(element, name)
        if not found:
            return None
        element = found[0]
    return element


def descendants(element: Element | None, name: str) -> Iterator[Element]:
    """Every element below `element` (not itself) with this local name."""
    if element is None:
        return
    for found in element.iter():
        if found is not element and _is(found, name):
            yield found


def own_text(element: Element | None) -> str:
    """An element's own text, stripped; `null` and missing read as empty."""
    if element is None or element.text is None:
        return ""
    text = element.text.strip()
    return "" if text.lower() in _NULL_TEXTS else text


def text(element: Element | None, *path: str) -> str:
    """The text at a path of local names below `element`, or "" when any step is missing."""
    return own_text(child(element, *path))


def first_text(element: Element | None, *paths: tuple[str, ...]) -> str:
    """The first non-empty text among several paths (versions name some fields differently)."""
    for path in paths:
        value = text(element, *path)
        if value:
            return value
    return ""


_ERROR_MESSAGE_PATHS = (("message",), ("errorMessage",), ("description",), ("reason",))
_MESSAGE_ELEMENTS = ("message", "errormessage", "description")


def error_summary(root: Element) -> str:
    """What an XML answer says went wrong, as a message may quote it (`answers.summary`): each
    `error` element as "code: message", else the text of message elements; never the document's
    whole text (it may be another host's page), "" when it has none of these."""
    parts = [
        ": ".join(p for p in (text(el, "code"), first_text(el, *_ERROR_MESSAGE_PATHS)) if p)
        for el in root.iter()
        if local_name(el.tag).lower() == "error"
    ]
    parts = [p for p in parts if p] or [
        "".join(el.itertext()) for el in root.iter() if local_name(el.tag).lower() in _MESSAGE_ELEMENTS
    ]
    return summary([p for p in parts if p])


MAX_PAYLOAD_DEPTH = 40  # deeper nesting is cut off in the stored copy (no order is that deep)


def to_dict(element: Element, depth: int = 0) -> Any:
    """A JSON-able form of an element for the order's stored payload: local names as keys, a
    repeated element as a list, a leaf as its text."""
    kids = [k for k in element if local_name(k.tag)]
    if not kids:
        return own_text(element)
    if depth >= MAX_PAYLOAD_DEPTH:
        return "…(nested too deep: cut off)"
    result: dict[str, Any] = {}
    for kid in kids:
        name = local_name(kid.tag)
        value = to_dict(kid, depth + 1)
        if name in result:
            if not isinstance(result[name], list):
                result[name] = [result[name]]
            result[name].append(value)
        else:
            result[name] = value
    return result


# --- windows -------------------------------------------------------------------------------------


def windows(start: datetime, end: datetime, hours: float) -> Iterator[tuple[datetime, datetime]]:
    """Consecutive [start, end) windows of `hours` covering the range; the last may be shorter."""
    if hours <= 0:
        raise ValueError("a window must be longer than zero hours")
    step = timedelta(hours=hours)
    while start < end:
        stop = min(start + step, end)
        yield start, stop
        start = stop


# --- writing -------------------------------------------------------------------------------------


def xml_safe(value: Any) -> str:
    """Text ElementTree can write: escaping is its job, but characters XML cannot hold at all
    (control characters from a warehouse's free-text field) are dropped here."""
    return _NOT_XML.sub("", "" if value is None else str(value)).strip()


def qualified(name: str) -> str:
    return f"{{{NAMESPACE}}}{name}"
