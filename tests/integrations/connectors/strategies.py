"""Hypothesis strategies for bad input: payloads shaped like each platform's documentation, then
mutated adversarially (fields dropped, wrong types, None, huge strings, RTL/emoji/NUL, ids longer
than any warehouse takes, negative/fractional/huge quantities, nested garbage).

The doc shapes come from the sandboxes' builders where they exist (they are written from the docs,
independently of the connectors), so a mutation starts from what the platform really sends.
"""

from __future__ import annotations

import copy
import json
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring  # noqa: S405 - building test documents only

from hypothesis import strategies as st

from sandbox import squarespace_data

NASTY_TEXTS = [
    "",
    " ",
    "\x00",
    "A-1\x00001",
    "\u202e\u05d4\u05d6\u05de\u05e0\u05d4\u202c",  # RTL override around Hebrew
    "طلب رقم ١٢٣",  # Arabic with Arabic-Indic digits
    "👩‍👩‍👧‍👦📦🚚",
    "\ufeff\u200b\u200d",
    "Robert'); DROP TABLE orders;--",
    "<b>&amp;</b>]]>",
    "null",
    "None",
    "NaN",
    "Infinity",
    "-1",
    "1e309",
    "２",
    "٣",
    "²",
    "\r\n\t",
    "%s%n{0}{{7*7}}",
]
# Longer than any warehouse reference (and than our 255-character columns).
LONG_IDS = ["9" * 64, "ORD-" + "7" * 300, "x" * 1000, "é" * 256, "👍" * 300]


def long_text() -> st.SearchStrategy[str]:
    return st.builds(
        lambda unit, n: unit * n, st.sampled_from(["x", "é", "👍", "\u202e", "ש", "\x00", "9"]), st.integers(256, 3000)
    )


texts = st.one_of(st.text(max_size=40), st.sampled_from(NASTY_TEXTS), st.sampled_from(LONG_IDS), long_text())
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    texts,
)
garbage = st.recursive(
    scalars,
    lambda kids: st.one_of(st.lists(kids, max_size=3), st.dictionaries(st.text(max_size=8), kids, max_size=3)),
    max_leaves=8,
)
ids = st.one_of(texts, st.integers(-(10**20), 10**20), st.sampled_from(LONG_IDS))
QUANTITY_TEXTS = ["2", "2.0", "2.5", "-1", "-0", "0", "1e3", "1E+20", "1E+400", "Infinity", "-Infinity", "NaN", "sNaN"]
QUANTITY_TEXTS += ["", " 3 ", "３", "٣", "0.0000001", "3,000", "1_000", "0x10", "+4", "4.000000000000000001"]
quantities = st.one_of(
    st.integers(-5, 5),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(QUANTITY_TEXTS),
    st.booleans(),
    st.none(),
)


def _offset_time(moment: datetime, minutes: int) -> str:
    return moment.replace(tzinfo=timezone(timedelta(minutes=minutes))).isoformat()


TIMESTAMP_TEXTS = [
    "9999-12-31T23:59:59-05:00",  # in UTC: past the last representable year
    "0001-01-01T00:00:00+05:30",  # in UTC: before the first
    "2024-02-30T00:00:00Z",
    "2024-05-01",
    "2024-05-01T14:03:07.1234567",
    "2024-05-01T14:03:07.12+05:30",
    "0001-01-01T00:00:00",
    "not a date",
    "",
]
timestamps = st.one_of(
    st.builds(
        _offset_time,
        st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59)),  # noqa: DTZ001
        st.integers(-(23 * 60 + 59), 23 * 60 + 59),
    ),
    st.sampled_from(TIMESTAMP_TEXTS),
    garbage,
)
money_values = st.one_of(
    st.decimals(allow_nan=False, allow_infinity=False, places=2).map(str),
    st.sampled_from(["1E+20", "123456789012.34", "0.001", "-5.00", "NaN", "Infinity", "1e999", ""]),
    scalars,
)


# --- the mutation engine ------------------------------------------------------------------------


def _slots(value: Any) -> list[tuple[Any, Any]]:
    """Every (container, key) of a JSON tree, depth first."""
    found: list[tuple[Any, Any]] = []
    if isinstance(value, dict):
        for key in list(value):
            found.append((value, key))
            found.extend(_slots(value[key]))
    elif isinstance(value, list):
        for index in range(len(value)):
            found.append((value, index))
            found.extend(_slots(value[index]))
    return found


@st.composite
def mutated(
    draw: st.DrawFn,
    base: st.SearchStrategy[Any],
    fields: dict[str, st.SearchStrategy[Any]] | None = None,
    max_mutations: int = 4,
) -> Any:
    """A doc-shaped payload with up to `max_mutations` adversarial edits: half of them give a field named
    in `fields` that field's own nasty values, the others drop any field or put garbage anywhere."""
    doc = copy.deepcopy(draw(base))
    fields = fields or {}
    for _ in range(draw(st.integers(0, max_mutations))):
        slots = _slots(doc)
        if not slots:
            break
        targeted = [(container, key) for container, key in slots if key in fields]
        if targeted and draw(st.booleans()):
            container, key = draw(st.sampled_from(targeted))
            container[key] = draw(fields[key])
            continue
        container, key = draw(st.sampled_from(slots))
        if draw(st.booleans()):
            del container[key]
        else:
            container[key] = draw(garbage)
    return json.loads(json.dumps(doc))  # only what JSON can carry (NaN and Infinity included)


# --- Squarespace ----------------------------------------------------------------------------------

hex_ids = st.text("0123456789abcdef", min_size=24, max_size=24)
skus = st.sampled_from(["SKU-1", "SKU-2", "WMS-SKU-9", "NOT-STOCKED"])


@st.composite
def squarespace_orders(draw: st.DrawFn) -> dict[str, Any]:
    """One Order resource as the Commerce API documents it (every field present, some null)."""
    created = draw(st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2030, 1, 1))).replace(tzinfo=UTC)  # noqa: DTZ001
    lines = []
    for _ in range(draw(st.integers(1, 3))):
        spec = {"sku": draw(skus), "quantity": draw(st.integers(1, 5)), "price": "10.00", "name": "Widget"}
        line = squarespace_data.build_line_item(spec, "USD", draw(st.uuids()).hex)
        line["id"], line["productId"] = draw(hex_ids), draw(hex_ids)
        lines.append(line)
    order = squarespace_data.build_order(
        order_number=str(draw(st.integers(1000, 99999))),
        created_on=created,
        modified_on=created,
        fulfillment_status="PENDING",
        line_items=lines,
        shipping_method="Standard",
        shipping_amount="5.00",
        shipping_address=squarespace_data.build_address(None),
        billing_address=squarespace_data.build_address(None),
        customer_email="ada@example.com",
        testmode=False,
        currency="USD",
    )
    order["id"] = draw(hex_ids)
    return order


SQUARESPACE_FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "id": ids,
    "orderNumber": ids,
    "createdOn": timestamps,
    "modifiedOn": timestamps,
    "quantity": quantities,
    "value": money_values,
    "sku": texts,
    "fulfillmentStatus": st.one_of(st.sampled_from(["PENDING", "FULFILLED", "CANCELED", "pending", ""]), garbage),
    "lineItemType": st.one_of(st.sampled_from(["PHYSICAL_PRODUCT", "DIGITAL", "SERVICE", "GIFT_CARD"]), garbage),
    "lineItems": st.one_of(st.none(), st.just([]), garbage),
    "shippingLines": st.one_of(st.none(), st.just([]), garbage),
    "shippingAddress": st.one_of(st.none(), garbage),
    "testmode": st.one_of(st.sampled_from(["true", "false", "1", 0, 1]), garbage),
}
adversarial_squarespace_orders = st.one_of(
    mutated(squarespace_orders(), SQUARESPACE_FIELDS), garbage, st.just(None), st.just([])
)


# --- TradeGecko -----------------------------------------------------------------------------------


@st.composite
def tradegecko_bundles(draw: st.DrawFn) -> dict[str, Any]:
    """An order with what the connector fetches for it in batches: its lines, their variants, its addresses."""
    order_id = draw(st.integers(1, 10**6))
    line_ids = draw(st.lists(st.integers(1, 10**6), min_size=1, max_size=3, unique=True))
    variants = [
        {"id": 100 + n, "sku": draw(skus), "name": "Widget", "product_name": "Widget"} for n in range(len(line_ids))
    ]
    lines = [
        {
            "id": line_id,
            "order_id": order_id,
            "variant_id": variants[n]["id"],
            "quantity": f"{draw(st.integers(1, 5))}.0",
            "price": "20.0",
            "discount": draw(st.sampled_from([None, "10.0"])),
            "label": None,
            "line_type": "product",
            "freeform": False,
            "position": n,
        }
        for n, line_id in enumerate(line_ids)
    ]
    lines.append(
        {"id": 9_999_999, "order_id": order_id, "variant_id": None, "quantity": "1.0", "price": "5.0"}
        | {"label": "Standard", "line_type": "shipping", "freeform": True, "position": 99}
    )
    address = {
        "id": 6,
        "first_name": "Ada",
        "last_name": "Lovelace",
        "company_name": None,
        "address1": "12 Analytical Row",
        "address2": None,
        "suburb": None,
        "city": "Hoboken",
        "state": "NJ",
        "zip_code": "07030",
        "country": "US",
        "phone_number": "+1 201 555 0100",
        "email": "ada@example.com",
    }
    order = {
        "id": order_id,
        "order_number": f"SO{draw(st.integers(1, 99999)):05d}",
        "status": "active",
        "fulfillment_status": "unshipped",
        "email": "ada@example.com",
        "phone_number": None,
        "issued_at": "2024-05-01",
        "created_at": "2024-05-01T09:46:08Z",
        "updated_at": "2024-05-02T08:10:33Z",
        "shipping_address_id": 6,
        "billing_address_id": 6,
        "stock_location_id": 3,
        "order_line_item_ids": [*line_ids, 9_999_999],
    }
    return {"order": order, "lines": lines, "variants": variants, "addresses": [address]}


TRADEGECKO_FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "id": ids,
    "order_id": ids,
    "variant_id": ids,
    "order_number": ids,
    "quantity": quantities,
    "price": money_values,
    "discount": money_values,
    "position": quantities,
    "created_at": timestamps,
    "updated_at": timestamps,
    "issued_at": timestamps,
    "order_line_item_ids": st.one_of(garbage, st.lists(ids, max_size=3)),
    "shipping_address_id": ids,
    "billing_address_id": ids,
    "status": st.one_of(st.sampled_from(["draft", "active", "finalized", "fulfilled", "void", "deleted"]), garbage),
    "fulfillment_status": st.one_of(st.sampled_from(["unshipped", "partial", "shipped"]), garbage),
    "line_type": st.one_of(st.sampled_from(["product", "shipping", "discount", ""]), garbage),
    "country": st.one_of(st.sampled_from(["nz", "NZL", "New Zealand", ""]), texts),
    "sku": texts,
    "stock_location_id": ids,
}


# --- Overstock ------------------------------------------------------------------------------------

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
xml_texts = texts.map(lambda t: _NOT_XML.sub("", t))


def build_element(parent: Element | None, tag: str, text: str | None = None, children: list | None = None) -> Element:
    element = Element(tag) if parent is None else SubElement(parent, tag)
    element.text = text
    for spec in children or []:
        build_element(element, *spec)
    return element


def overstock_order_spec(number: str, lines: list[tuple[str, str, str]]) -> tuple:
    """(tag, text, children) of one `processedSalesOrder` shaped like integrators' samples."""
    line_specs = [
        (
            "processedSalesOrderLine",
            None,
            [
                ("salesChannelLineNumber", line_no),
                ("partnerSKU", sku),
                ("salesChannelSKU", "9001234"),
                ("quantity", quantity),
                ("itemName", "Nottingham chair"),
                ("lineStatus", "OPEN"),
                ("unitCost", "12.50"),
            ],
        )
        for line_no, sku, quantity in lines
    ]
    return (
        "processedSalesOrder",
        None,
        [
            ("salesChannelOrderNumber", number),
            ("salesChannelName", "OSTK"),
            ("orderDate", "2024-05-01T16:54:34.000-06:00"),
            ("sofsCreatedDate", "2024-05-01T16:58:00.000-06:00"),
            ("warehouseName", None, [("code", "IML TEST")]),
            (
                "shipToAddress",
                None,
                [
                    ("contactName", "Ada King Lovelace"),
                    ("address1", "2 Boston Street"),
                    ("city", "Salt Lake City"),
                    ("stateOrProvince", "UT"),
                    ("postalCode", "84121"),
                    ("countryCode", "us"),
                    ("phone", "801-555-1212"),
                ],
            ),
            (
                "shippingSpecifications",
                None,
                [
                    (
                        "smallParcelShipment",
                        None,
                        [("shippingServiceLevel", None, [("code", "GROUND")]), ("carrier", None, [("code", "FEDEX")])],
                    )
                ],
            ),
            ("status", "OPEN"),
            *line_specs,
        ],
    )


overstock_field_texts: dict[str, st.SearchStrategy[str]] = {
    "quantity": quantities.map(lambda q: _NOT_XML.sub("", str(q))),
    "salesChannelLineNumber": st.one_of(
        st.sampled_from(["1", "2", "0", "-1", "²", "٣", "１", "1" * 12, "9" * 5000, "01", "1.5", ""]), xml_texts
    ),
    "salesChannelOrderNumber": st.one_of(st.sampled_from(LONG_IDS), xml_texts),
    "orderDate": st.one_of(st.sampled_from(TIMESTAMP_TEXTS), xml_texts),
    "sofsCreatedDate": st.one_of(st.sampled_from(TIMESTAMP_TEXTS), xml_texts),
    "status": st.one_of(st.sampled_from(["OPEN", "CANCELLED", "SHIPPED"]), xml_texts),
    "lineStatus": st.one_of(st.sampled_from(["OPEN", "CANCELLED", "SHIPPED", "DELIVERED"]), xml_texts),
    "unitCost": st.one_of(st.sampled_from(["1E+20", "NaN", "12.5", "-3"]), xml_texts),
    "totalCount": st.one_of(st.sampled_from(["0", "1", "3", "²", "٣", "9" * 5000, "-1", "1e3", "null"]), xml_texts),
}


def overstock_listing(*orders: tuple[str, str]) -> tuple[bytes, list[Element]]:
    """A listing of doc-shaped orders given as (order number, line quantity), as `overstock_listings` gives."""
    root = Element("processedSalesOrderMessage")
    for number, quantity in orders:
        build_element(root, *overstock_order_spec(number, [("1", "SKU-1", quantity)]))
    return tostring(root, encoding="utf-8"), list(root)


@st.composite
def overstock_listings(draw: st.DrawFn) -> tuple[bytes, list[Element]]:
    """A `processedSalesOrderMessage` of 1-3 orders, each mutated: elements dropped, duplicated, renamed
    into another namespace spelling, given nasty text or garbage children. Returns the body and the order
    elements as built (before serialising)."""
    namespace = draw(st.sampled_from(["", "{api.supplieroasis.com}"]))
    root = Element(f"{namespace}processedSalesOrderMessage", {"xmlns:ns2": "api.supplieroasis.com"})
    for n in range(draw(st.integers(1, 3))):
        lines = [(str(i), draw(skus), str(draw(st.integers(1, 5)))) for i in range(1, draw(st.integers(1, 3)) + 1)]
        order = build_element(root, *overstock_order_spec(f"OSTK-{n}-{draw(st.integers(0, 999))}", lines))
        for _ in range(draw(st.integers(0, 4))):
            elements = list(order.iter())
            target = draw(st.sampled_from(elements))
            action = draw(st.sampled_from(["drop", "text", "text", "child", "duplicate", "rename"]))
            if action == "drop" and target is not order:
                for parent in order.iter():
                    if target in list(parent):
                        parent.remove(target)
                        break
            elif action == "text":
                strategy = overstock_field_texts.get(target.tag, xml_texts)
                target.text = draw(strategy)
            elif action == "child":
                build_element(
                    target, draw(st.sampled_from(["list", "quantity", "processedSalesOrderLine", "x"])), draw(xml_texts)
                )
            elif action == "duplicate" and target is not order:
                target.append(copy.deepcopy(target))
            elif action == "rename":
                local = target.tag.rsplit("}", 1)[-1]
                target.tag = draw(st.sampled_from([local.upper(), f"ns2:{local}", f"{{other}}{local}", local]))
    if draw(st.booleans()):
        build_element(root, "totalCount", draw(overstock_field_texts["totalCount"]))
    if namespace:
        for element in root.iter():
            if not element.tag.startswith("{") and ":" not in element.tag:
                element.tag = namespace + element.tag
    return tostring(root, encoding="utf-8"), [e for e in root if not e.tag.endswith("totalCount")]


# --- Bergen (Extensiv) ----------------------------------------------------------------------------


@st.composite
def bergen_tracking_rows(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "orderId": draw(st.integers(1, 10**6)),
        "referenceNum": f"R-{draw(st.integers(1, 9999))}",
        "poNum": "1001",
        "packageId": draw(st.integers(1, 10**6)),
        "carrier": "UPS",
        "carrierService": "Ground",
        "trackingNumber": f"1Z{draw(st.integers(10**8, 10**9))}",
        "trackingUrl": None,
        "shipDate": "2024-05-01T14:03:07.12",
        "items": [{"sku": draw(skus), "qty": draw(st.integers(1, 5))} for _ in range(draw(st.integers(0, 3)))],
    }


@st.composite
def bergen_stock_rows(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "itemIdentifier": {"sku": draw(skus), "id": draw(st.integers(1000, 2000))},
        "facilityId": draw(st.integers(1, 4)),
        "qualifier": "",
        "onHand": draw(st.integers(0, 100)),
        "available": draw(st.integers(0, 100)),
    }


@st.composite
def bergen_order_records(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "referenceNum": f"R-{draw(st.integers(1, 9999))}",
        "poNum": "1001",
        "readOnly": {
            "orderId": draw(st.integers(1, 10**6)),
            "status": draw(st.integers(0, 3)),
            "customerIdentifier": {"name": "DEMO", "id": 1},
            "facilityIdentifier": {"name": "NJ", "id": 1},
        },
    }


BERGEN_FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "qty": quantities,
    "available": quantities,
    "onHand": quantities,
    "facilityId": quantities,
    "status": st.one_of(quantities, garbage),
    "orderId": ids,
    "packageId": ids,
    "shipDate": timestamps,
    "sku": texts,
    "trackingNumber": texts,
    "totalResults": quantities,
}
