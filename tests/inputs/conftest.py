"""The merchant-page fixtures (a signed-in merchant `client`, `mine`, `theirs`) for these tests too."""

from tests.portal.conftest import client, mine, theirs, user  # noqa: F401
