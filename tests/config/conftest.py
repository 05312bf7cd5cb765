"""The merchant-page fixtures (a signed-in merchant `client`, `mine`, `theirs`) for these tests too: the
address guard is checked on the merchant pages as well as on the admin."""

from tests.portal.conftest import client, mine, theirs, user  # noqa: F401
