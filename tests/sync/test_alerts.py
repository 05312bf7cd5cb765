"""Alert digests: one short mail per merchant to its contact and the support team, never one per order,
and each problem mentioned once."""

from __future__ import annotations

import pytest

from orders.models import Problem
from orders.services.records.problems import connection_problem
from orders.tasks import alerts_task
from sync.alerts import alerts_send_digests
from tests.factories import CartConnectionFactory, MerchantFactory
from tests.orders.helpers import seed, sync

SUPPORT = ["support@orderbridge.example", "oncall@orderbridge.example"]


@pytest.fixture(autouse=True)
def _support(settings):
    settings.SUPPORT_EMAILS = SUPPORT


def hold(wired, *numbers: str) -> None:
    """Orders the warehouse would refuse (an unknown SKU), imported by a real sync."""
    for number in numbers:
        seed(wired.squarespace, number, lines=[{"sku": f"UNKNOWN-{number}", "quantity": 1, "price": "5.00"}])
    sync(wired.cart)


def test_several_held_orders_make_one_mail_per_merchant_listing_them(wired, mailoutbox):
    wired.merchant.contact_email = "owner@shop.example"
    wired.merchant.save()
    hold(wired, "5001", "5002", "5003")

    result = alerts_send_digests()

    assert result == "1 digest(s) sent for 3 problem(s)"
    [mail] = mailoutbox
    assert mail.to == ["owner@shop.example", *SUPPORT]
    assert mail.subject == f"[Orderbridge] 3 problem(s) need attention for {wired.merchant.name}"
    for number in ("5001", "5002", "5003"):
        assert f"Order #{number} held" in mail.body
        assert f"UNKNOWN-{number}" in mail.body
    assert "[unknown_sku]" in mail.body
    assert not Problem.objects.filter(alerted_at__isnull=True).exists()


def test_a_second_run_sends_nothing_new(wired, mailoutbox):
    hold(wired, "5001", "5002")
    alerts_send_digests()

    assert alerts_task() == "0 digest(s) sent for 0 problem(s)"
    assert len(mailoutbox) == 1


def test_a_new_problem_later_makes_a_new_mail_with_only_it(wired, mailoutbox):
    hold(wired, "5001", "5002")
    alerts_send_digests()
    seed(wired.squarespace, "5003", lines=[{"sku": "UNKNOWN-5003", "quantity": 1, "price": "5.00"}])
    sync(wired.cart)

    alerts_send_digests()

    assert len(mailoutbox) == 2
    later = mailoutbox[1]
    assert "1 new problem(s)" in later.body
    assert "#5003" in later.body
    assert "#5001" not in later.body and "#5002" not in later.body


def test_each_merchant_gets_its_own_digest(wired, mailoutbox):
    hold(wired, "5001")
    other = CartConnectionFactory(merchant=MerchantFactory(name="Other shop", contact_email="other@shop.example"))
    connection_problem(connection=other, reason_code="needs_person", message="Stopped until a person acts: 401")

    alerts_send_digests()

    by_first_recipient = {mail.to[0]: mail for mail in mailoutbox}
    assert set(by_first_recipient) == {wired.merchant.contact_email, "other@shop.example"}
    other_mail = by_first_recipient["other@shop.example"]
    assert "Other shop" in other_mail.subject
    assert "401" in other_mail.body and "#5001" not in other_mail.body


def test_a_merchant_without_a_contact_still_alerts_the_support_team(wired, mailoutbox):
    wired.merchant.contact_email = ""
    wired.merchant.save()
    hold(wired, "5001")

    alerts_send_digests()

    [mail] = mailoutbox
    assert mail.to == SUPPORT


def test_a_long_digest_stays_short(wired, mailoutbox):
    hold(wired, *[str(6000 + n) for n in range(35)])

    alerts_send_digests()

    [mail] = mailoutbox
    assert "35 new problem(s)" in mail.body
    assert "and 5 more" in mail.body
    assert mail.body.count("Order #") == 30
