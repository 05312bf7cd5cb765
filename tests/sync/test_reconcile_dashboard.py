"""The staff dashboard shows reconciliation gaps first, from the problems the reconciliation raised
against the sandboxes, and stops showing them once a later run is clean."""

from __future__ import annotations

from orders.dashboard import dashboard_get
from sync.reconcile.run import reconcile
from tests.sync.test_reconcile import delivered


def test_gaps_come_first_on_the_dashboard_and_go_when_a_later_run_is_clean(admin_client, wired):
    orders = delivered(wired, "9501")
    with wired.bergen.lock:
        removed = [o for o in wired.bergen.orders if o["referenceNum"] == orders["9501"].cust_ref]
        wired.bergen.orders[:] = [o for o in wired.bergen.orders if o not in removed]
    reconcile(connection_id=wired.cart.pk)

    page = admin_client.get("/admin/").content.decode()

    [gap] = dashboard_get().reconcile_gaps
    assert gap.merchant == wired.merchant
    assert "Reconciliation gaps" in page and "#9501 missing at warehouse" in page
    assert page.index("reconcile-gaps") < page.index("open problem")
    with wired.bergen.lock:
        wired.bergen.orders.extend(removed)
    reconcile(connection_id=wired.cart.pk)

    assert dashboard_get().reconcile_gaps == []
    assert "Reconciliation gaps" not in admin_client.get("/admin/").content.decode()
