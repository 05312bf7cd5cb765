"""The admin's connection form shows each unconfirmed call of the platform as a switch, off by
default, with the reason; every connector's unconfirmed calls have their switch."""

from __future__ import annotations

import pytest
from django.urls import reverse

from integrations.connectors.base import call_switch_name
from integrations.connectors.registry import CONNECTORS
from integrations.forms import CartConnectionForm
from tests.admin_helpers import form_values
from tests.factories import CartConnectionFactory

REASON = (
    "Unconfirmed: Overstock publishes no inventory endpoint; CartRover's guide names OptionSku but no path. "
    "Turn on only if your Overstock rep gave you the path."
)


def test_the_admin_change_page_shows_the_switch_with_its_reason(admin_client, db):
    cart = CartConnectionFactory(
        platform="overstock",
        credentials_values={"username": "supplier-7", "password": "pw"},
        settings={"warehouse_name": "Main Warehouse", "enable_order_lookup": True},
    )

    page = admin_client.get(reverse("admin:integrations_cartconnection_change", args=[cart.pk])).content.decode()

    assert "Turn on: Inventory upload (unconfirmed)" in page
    assert REASON in page  # help text is ours, rendered as written
    assert 'type="checkbox" name="setting__overstock__enable_inventory_upload"' in page
    values = form_values(page, "cartconnection_form")
    assert "setting__overstock__enable_inventory_upload" not in values  # off by default
    assert values["setting__overstock__enable_order_lookup"] == ["on"]  # as stored


@pytest.mark.parametrize("key", sorted(CONNECTORS))
def test_every_unconfirmed_call_has_its_switch_off_by_default(key):
    connector = CONNECTORS[key]
    switches = {f.name: f for f in connector.setting_fields if f.switch}

    assert set(switches) == {call_switch_name(name) for name in connector.unconfirmed_calls}
    assert all(f.default is False and not f.required for f in switches.values())
    for name in connector.unconfirmed_calls:
        assert not connector(settings={}).call_enabled(name)


def test_a_switch_is_a_checkbox_stored_as_true_or_false(db):
    form = CartConnectionForm.for_platform("overstock")()

    assert form.fields["setting__overstock__enable_inventory_upload"].widget.input_type == "checkbox"
