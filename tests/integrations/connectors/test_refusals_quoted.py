"""Each platform's refusal, as its connector words it: the status and at most a short, clean summary of
the platform's own error fields, while the refusal's kind is still read from everything it said."""

from __future__ import annotations

import pytest

from integrations.connectors.answers import SUMMARY_LIMIT
from integrations.connectors.bergen.writes import classify_rejection
from integrations.connectors.errors import BadPayloadError, DuplicateReferenceError, OrderRejectedError
from integrations.connectors.overstock.wire import parse_orders
from integrations.connectors.overstock.writes import item_refusals
from integrations.connectors.overstock.xml import error_summary, read_xml
from integrations.connectors.tradegecko.writes import classify_order_refusal

INTERNAL = "Payroll export for all staff"
PAGE = f"<html><head><title>Admin</title></head><body><h1>Intranet</h1><p>{INTERNAL}</p></body></html>"


def test_bergen_a_refusal_that_is_a_page_says_its_status_only():
    error = classify_rejection(400, None, PAGE, ["SKU-1"])

    assert str(error) == "Bergen Logistics refused the order (400): Bad Request"


def test_bergen_a_plain_text_duplicate_is_still_read_as_one_but_not_quoted():
    raw = f"Duplicate reference number: an order with this reference already exists. {INTERNAL}"

    error = classify_rejection(409, None, raw, ["SKU-1"])

    assert isinstance(error, DuplicateReferenceError)
    assert INTERNAL not in str(error) and str(error).endswith("(409): Conflict")


def test_bergen_a_json_refusal_keeps_a_bounded_summary_and_its_kind():
    body = {"ErrorCode": "InvalidSku", "Hint": "Sku WIDGET-9 does not exist. " + "x" * 300 + INTERNAL}

    error = classify_rejection(400, body, "", ["WIDGET-9"])

    assert isinstance(error, OrderRejectedError) and error.reason_code == "unknown_sku" and error.skus == ["WIDGET-9"]
    assert "(400): InvalidSku Sku WIDGET-9 does not exist." in str(error)
    assert INTERNAL not in str(error)


def test_tradegecko_field_errors_are_quoted_but_markup_is_not():
    readable = classify_order_refusal(422, {"errors": {"base": ["Stock location is archived"]}}, "R1")
    marked_up = classify_order_refusal(422, {"errors": {"base": [PAGE]}}, "R1")

    assert str(readable) == "TradeGecko refused order R1 (422): Stock location is archived"
    assert str(marked_up) == "TradeGecko refused order R1 (422): Unprocessable Entity"


def test_overstock_an_xhtml_page_is_named_by_its_root_never_its_text():
    with pytest.raises(BadPayloadError) as caught:
        parse_orders(read_xml(PAGE.encode(), what="a test listing"), warehouse=None)

    assert "<html> where an order listing was expected" in str(caught.value)
    assert INTERNAL not in str(caught.value) and "Intranet" not in str(caught.value)


def test_overstock_error_elements_are_summarised_and_the_rest_of_the_document_is_not():
    answer = read_xml(
        f"<errorResponse><error><code>BAD_WINDOW</code><message>Range too long</message></error>"
        f"<debug>{INTERNAL}</debug></errorResponse>".encode(),
        what="test",
    )

    assert error_summary(answer) == "BAD_WINDOW: Range too long"


def test_overstock_an_items_refusal_reason_is_bounded():
    answer = read_xml(
        f"<inventoryResponse><item><salesChannelSKU>A</salesChannelSKU><status>ERROR</status>"
        f"<message>{'Quantity refused. ' * 20}{INTERNAL}</message></item></inventoryResponse>".encode(),
        what="test",
    )

    refused = item_refusals(answer, ["A"])

    assert refused["A"].startswith("ERROR: Quantity refused.")
    assert len(refused["A"]) <= SUMMARY_LIMIT and INTERNAL not in refused["A"]
