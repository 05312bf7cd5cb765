"""When the connections' subscriptions are made, checked and removed (the rules: `integrations.webhooks`).

After an access grant (`sync.jobs`), every day (`webhooks_check`, which also removes those of
connections made inactive since), and when a connection is deactivated or deleted (`sync.signals`).
A platform that cannot be reached leaves things as they were, said in the result; polling goes on.
"""

from __future__ import annotations

from integrations.connectors.errors import ConnectorError
from integrations.models import CartConnection
from integrations.services import ConnectionNotConfigured
from integrations.webhooks import webhook_capable, webhooks_ensure, webhooks_remove
from sync.schedules import schedules_reconcile


def webhooks_ensure_for(*, connection: CartConnection) -> str:
    """Ensure one connection's subscription; the outcome as a sentence (errors included)."""
    if not webhook_capable(connection):
        return ""
    try:
        outcome = webhooks_ensure(connection=connection)
    except (ConnectorError, ConnectionNotConfigured) as exc:
        return f"Webhooks: could not be checked at {connection.platform_label} ({exc}); orders are polled."
    schedules_reconcile()  # the polling interval follows whether webhooks are live
    return outcome.message


def webhooks_check() -> str:
    """The daily check: every capable connection's subscription ensured (removed when inactive)."""
    results = []
    connections = CartConnection.objects.select_related("merchant").order_by("pk")
    for connection in connections:
        if not webhook_capable(connection):
            continue
        if not (connection.active and connection.merchant.active):
            if connection.webhook_subscriptions.exists():
                results.append(f"{connection}: {webhooks_remove(connection=connection)} subscription(s) removed")
            continue
        results.append(f"{connection}: {webhooks_ensure_for(connection=connection)}")
    return "; ".join(results) or "no connection takes webhooks"
