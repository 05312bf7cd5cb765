"""Helpers of the admin tests: what a page's form would submit, the messages it flashes, a real import.

`form_values` reads an HTML form the way a browser submits it, so admin tests post what a person would.

Posting the values the page really shows (prefilled settings, inline management forms, blank
password inputs) catches what hand-built POST data would hide: a secret echoed into the page,
a field the template forgot, a formset prefix that changed.
"""

from __future__ import annotations

from datetime import timedelta
from html.parser import HTMLParser

from django.contrib.messages import get_messages
from django.utils import timezone

from orders.models import Order
from sync.cycle import cart_connection_sync_orders


class _FormReader(HTMLParser):
    def __init__(self, form_id: str) -> None:
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.found = False
        self.inside = False
        self.pairs: list[tuple[str, str]] = []
        self._select: dict | None = None
        self._option: dict | None = None
        self._textarea: dict | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            if a.get("id") == self.form_id:
                self.found = self.inside = True
            return
        if not self.inside:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text").lower()
            if kind in ("submit", "button", "image", "reset", "file"):
                return
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.pairs.append((name, a.get("value") or "on"))
                return
            self.pairs.append((name, a.get("value", "")))
        elif tag == "select" and name:
            self._select = {"name": name, "multiple": "multiple" in a, "options": [], "selected": []}
        elif tag == "option" and self._select is not None:
            self._option = {"value": a.get("value"), "text": "", "selected": "selected" in a}
        elif tag == "textarea" and name:
            self._textarea = {"name": name, "text": ""}

    def handle_data(self, data: str) -> None:
        if self._option is not None:
            self._option["text"] += data
        if self._textarea is not None:
            self._textarea["text"] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self.inside:
            self.inside = False
        elif tag == "option" and self._option is not None and self._select is not None:
            value = self._option["value"] if self._option["value"] is not None else self._option["text"].strip()
            self._select["options"].append(value)
            if self._option["selected"]:
                self._select["selected"].append(value)
            self._option = None
        elif tag == "select" and self._select is not None:
            chosen = self._select["selected"]
            if not chosen and not self._select["multiple"] and self._select["options"]:
                chosen = self._select["options"][:1]  # a single select submits its first option
            self.pairs.extend((self._select["name"], value) for value in chosen)
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            text = self._textarea["text"]
            self.pairs.append((self._textarea["name"], text[1:] if text.startswith("\n") else text))
            self._textarea = None


def form_values(html: str, form_id: str) -> dict[str, list[str]]:
    """Every value the form with this id would submit, as {name: [values]} for the test client."""
    reader = _FormReader(form_id)
    reader.feed(html)
    if not reader.found:
        raise AssertionError(f"no <form id={form_id!r}> on the page")
    values: dict[str, list[str]] = {}
    for name, value in reader.pairs:
        values.setdefault(name, []).append(value)
    return values


def messages_of(response) -> list[tuple[str, str]]:
    """(level tag, text) of every message the response's request flashed."""
    return [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]


def import_order(wired, number: str, *, sku: str = "SKU-1", shipping: str = "Standard") -> Order:
    """Put one open order at the Squarespace sandbox and run the real sync; return it as stored."""
    wired.squarespace.add_order(
        order_number=number,
        created_on=timezone.now() - timedelta(hours=1),
        lines=[{"sku": sku, "quantity": 1, "price": "10.00", "name": "Item"}],
        shipping_method=shipping,
    )
    cart_connection_sync_orders(connection=wired.cart)
    return Order.objects.get(cart_connection=wired.cart, order_number=number)
