"""The XML the Overstock sandbox writes and reads, in the shapes integrators' code shows.

Writing: Supplier Oasis answers like a JAXB service. The root declares ``xmlns:ns2="api.supplieroasis.com"``
and no default namespace; elements of the shared schema are ``ns2:``-prefixed, the others (``list``,
``processedSalesOrderLine``, ``status``, ``itemName``, ``unitCost``...) are unprefixed and so in *no*
namespace. Which element gets the prefix follows the field aliases of one integrator (a Java client that
maps ``ns2:salesChannelOrderNumber`` but ``lineStatus``); ShipWorks strips ``ns2:`` and the declaration
before parsing, which only works with exactly this mix. A parser must match local names: one that ignores
namespaces misses the prefixed fields, one that expects the namespace everywhere misses the rest.

Guesses (no sample found): the acknowledgement of ``POST /shipments``, the error body, the whole
inventory message and its answer, and the prefixes inside ``shipConfirmationDetail``.

Reading: bodies are parsed with defusedxml and matched by local name, so the sandbox takes both shapes
integrators send (ShipWorks puts the root in the namespace and the children in none; a Java client puts
everything in the default namespace).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from xml.etree.ElementTree import Element, ParseError
from xml.sax.saxutils import escape

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from sandbox import overstock_data as data

NAMESPACE = "api.supplieroasis.com"
_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'

# A node is (qualified name, text) or (qualified name, children); None children and empty texts are left out,
# as JAXB leaves out null fields.
Node = tuple[str, "str | int | Sequence[Node | None] | None"]


class XmlError(ValueError):
    """A request body that is not well-formed (or is refused by defusedxml) XML."""


def document(root: str, children: Iterable[Node | None]) -> bytes:
    inner = "".join(_render(child) for child in children if child is not None)
    return f'{_DECLARATION}<{root} xmlns:ns2="{NAMESPACE}">{inner}</{root}>'.encode()


def _render(node: Node) -> str:
    name, content = node
    if content is None or content == "":
        return ""
    if isinstance(content, str | int):
        return f"<{name}>{escape(str(content))}</{name}>"
    return f"<{name}>{''.join(_render(child) for child in content if child is not None)}</{name}>"


def _address(address: dict[str, str]) -> list[Node]:
    return [(f"ns2:{name}", address.get(name)) for name in data.ADDRESS_FIELDS]


def _confirmation(confirmation: data.Confirmation, package_number: int) -> Node:
    when = data.oasis_time(confirmation.confirmed_at)
    return (
        "shipConfirmationDetail",
        [
            ("quantityShipped", confirmation.quantity),
            (
                "packageDetail",
                [
                    ("packageID", confirmation.shipment_id.replace("SHP", "PKG")),
                    ("packageNumber", package_number),
                    ("trackingNumber", confirmation.tracking_number),
                ],
            ),
            (
                "shipmentDetail",
                [
                    ("shipmentID", confirmation.shipment_id),
                    ("shipmentCarrier", confirmation.carrier),
                    ("dateShipped", data.oasis_time(confirmation.ship_date)),
                    ("dateConfirmed", when),
                ],
            ),
        ],
    )


def _line(line: data.Line) -> Node:
    return (
        "processedSalesOrderLine",
        [
            ("ns2:salesChannelLineNumber", line.number),
            ("ns2:partnerSKU", line.partner_sku),
            ("ns2:salesChannelSKU", line.option_sku),
            ("ns2:quantity", line.quantity),
            ("lineId", line.line_id),
            ("itemName", line.item_name),
            ("lineStatus", line.status),
            ("unitCost", line.unit_cost),
            ("unitCostCurrencyCode", "USD"),
            *(_confirmation(confirmation, number) for number, confirmation in enumerate(line.confirmations, 1)),
        ],
    )


def _order(order: data.Order, element: str) -> Node:
    return (
        element,
        [
            ("ns2:salesChannelName", order.sales_channel),
            ("ns2:salesChannelOrderNumber", order.number),
            ("ns2:orderDate", data.oasis_time(order.order_date)),
            ("ns2:sofsCreatedDate", data.oasis_time(order.created)),
            ("ns2:warehouseName", [("ns2:code", order.warehouse)]),
            ("ns2:shipToAddress", _address(order.ship_to)),
            ("ns2:returnAddress", _address(data.RETURN_ADDRESS)),
            (
                "ns2:shippingSpecifications",
                [
                    ("ns2:isThirdPartyBilling", "false"),
                    ("ns2:isSignatureRequired", "false"),
                    ("ns2:isDeclaredValueRequired", "false"),
                    (
                        "ns2:smallParcelShipment",
                        [
                            ("ns2:shippingServiceLevel", [("ns2:code", order.service_level)]),
                            ("ns2:carrier", [("ns2:code", order.carrier)]),
                        ],
                    ),
                    ("ns2:isExport", "false"),
                ],
            ),
            ("orderId", order.order_id),
            ("status", order.status),
            ("actionRequired", "false"),
            *(_line(line) for line in order.lines),
        ],
    )


def orders_document(orders: Sequence[data.Order], *, list_wrapper: bool) -> bytes:
    """``processedSalesOrderMessage``/``processedSalesOrder``, or (``list_wrapper``) the version ShipWorks and
    a Java client read: ``processedSalesOrderTypeList`` with ``totalCount`` and one ``list`` per order."""
    if list_wrapper:
        return document(
            "ns2:processedSalesOrderTypeList",
            [("totalCount", str(len(orders))), *(_order(order, "list") for order in orders)],
        )
    return document("ns2:processedSalesOrderMessage", [_order(order, "processedSalesOrder") for order in orders])


def shipment_acknowledgement(confirmations: Sequence[data.Confirmation]) -> bytes:
    return document(
        "ns2:supplierShipmentResponseMessage",
        [
            (
                "supplierShipmentResponse",
                [
                    ("ns2:salesChannelOrderNumber", confirmation.order_number),
                    ("ns2:salesChannelLineNumber", confirmation.line_number),
                    ("ns2:trackingNumber", confirmation.tracking_number),
                    ("shipmentId", confirmation.shipment_id),
                    ("status", "ACCEPTED"),
                ],
            )
            for confirmation in confirmations
        ],
    )


ErrorDetail = tuple[str, str, dict[str, "str | int | None"]]


def errors_document(errors: Sequence[ErrorDetail]) -> bytes:
    """``errorResponse`` with one ``error {code, message, context...}`` per problem."""
    return document(
        "ns2:errorResponse",
        [
            (
                "ns2:error",
                [
                    ("ns2:code", code),
                    ("ns2:message", message),
                    *((f"ns2:{name}", value) for name, value in context.items()),
                ],
            )
            for code, message, context in errors
        ],
    )


def inventory_results(results: Sequence[dict[str, str | int | None]]) -> bytes:
    """One ``inventoryUpdateResult`` per ``inventoryUpdate`` sent, in order: SUCCESS, or ERROR with the reason."""
    return document(
        "ns2:inventoryUpdateResponseMessage",
        [
            (
                "inventoryUpdateResult",
                [
                    ("ns2:salesChannelSKU", result["sku"]),
                    ("ns2:warehouse", [("ns2:code", result["warehouse"])]),
                    ("ns2:quantity", result["quantity"]),
                    ("status", "ERROR" if result["code"] else "SUCCESS"),
                    ("ns2:error", [("ns2:code", result["code"]), ("ns2:message", result["message"])])
                    if result["code"]
                    else None,
                ],
            )
            for result in results
        ],
    )


# -- reading ---------------------------------------------------------------------------------------


def parse(body: bytes) -> Element:
    if not body.strip():
        raise XmlError("The request body is empty.")
    try:
        return fromstring(body)
    except (ParseError, DefusedXmlException) as exc:
        raise XmlError(f"The request body is not well-formed XML: {exc}") from exc


def local_name(element: Element) -> str:
    return element.tag.rsplit("}", 1)[-1]


def children(element: Element, name: str) -> list[Element]:
    return [child for child in element if local_name(child) == name]


def child(element: Element | None, *path: str) -> Element | None:
    for name in path:
        if element is None:
            return None
        element = next((candidate for candidate in element if local_name(candidate) == name), None)
    return element


def text(element: Element | None, *path: str) -> str | None:
    """Stripped text at ``path`` (local names), or None when absent or blank."""
    found = child(element, *path)
    value = (found.text or "").strip() if found is not None else ""
    return value or None
