"""A person's action on a connection in the admin is kept on its history (the admin's History page)
with the user."""

from __future__ import annotations

from django.contrib.admin.models import LogEntry
from django.urls import reverse

from integrations.models import WMSConnection


def test_unblock_and_test_are_recorded_with_the_user(admin_client, admin_user, wired):
    WMSConnection.objects.filter(pk=wired.wms.pk).update(blocked_reason="Gave up retrying after 24 hours")
    changelist = reverse("admin:integrations_wmsconnection_changelist")

    admin_client.post(changelist, {"action": "unblock_connections", "_selected_action": [wired.wms.pk]})
    admin_client.post(changelist, {"action": "test_connections", "_selected_action": [wired.wms.pk]})

    entries = LogEntry.objects.filter(object_id=str(wired.wms.pk)).order_by("pk")
    assert [e.user for e in entries] == [admin_user, admin_user]
    assert entries[0].get_change_message().startswith("Unblocked")
    assert entries[1].get_change_message().startswith("Test connection (job ")
    history = admin_client.get(reverse("admin:integrations_wmsconnection_history", args=[wired.wms.pk]))
    assert "Unblocked" in history.content.decode()
