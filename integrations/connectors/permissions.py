"""What *Test connection* says of the permissions a platform's setup guide requires.

A test proves a permission only with a request that changes nothing. Where a platform documents a read
that is refused without the permission (Squarespace: each API's "Read" level), the test makes that read
and names each missing permission in the setup guide's words. Where only a write could tell (every
platform's write level: none documents a way to ask a key or token what it may write), the test says so
plainly: the first write refused for permission (401/403, `AuthenticationError`) stops the connection's
runs and opens a problem with what to change.
"""

from __future__ import annotations

from integrations.connectors.errors import AuthenticationError


def writes_unchecked(platform: str, needs: str) -> str:
    """The test's sentence for the writes it cannot check; `needs`: what the setup guide requires."""
    return (
        f" Write permission cannot be checked until the first write ({platform} offers no way to ask without "
        f"changing data): {needs}. A write refused for permission stops the sync and opens a problem that "
        "says what to change."
    )


def permissions_missing(missing: list[str], *, where: str) -> AuthenticationError:
    """One refusal naming every missing permission (each a sentence), then where to change them."""
    return AuthenticationError(" ".join(missing) + f" {where}", status=403)


# The connection setting that tells a cart connector whether the connection's inventory sync is on
# (given by `integrations.services`, never stored): a permission only that sync needs is checked then.
INVENTORY_SYNC_HINT = "_inventory_sync"
