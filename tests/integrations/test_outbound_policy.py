"""What the outbound policy counts as public, and what a typed address must be to be saved."""

from __future__ import annotations

import ipaddress

import pytest

from integrations.outbound import (
    OPERATOR_CONFIGURED,
    OutboundPolicy,
    connection_policy,
    non_public_kind,
    public_only,
    typed_address_refusal,
)
from tests.factories import CartConnectionFactory, WMSConnectionFactory


@pytest.mark.parametrize(
    "address, kind",
    [
        ("127.0.0.1", "loopback"),
        ("127.254.0.9", "loopback"),
        ("::1", "loopback"),
        ("0.0.0.0", "unspecified"),  # Linux connects it to the machine itself
        ("0.1.2.3", "private"),  # 0.0.0.0/8, "this network"
        ("::", "unspecified"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("fc00::1", "private"),
        ("fd12:3456::1", "private"),
        ("169.254.10.10", "link-local"),
        ("fe80::1", "link-local"),
        ("224.0.0.1", "multicast"),
        ("239.255.255.250", "multicast"),
        ("ff02::1", "multicast"),
        ("100.64.0.1", "shared"),
        ("240.0.0.1", "private"),
        ("255.255.255.255", "private"),
        ("198.18.0.1", "private"),
        ("192.0.2.1", "private"),
        ("169.254.169.254", "metadata"),
        ("169.254.170.2", "metadata"),
        ("fd00:ec2::254", "metadata"),
        ("100.100.100.200", "metadata"),
        ("192.0.0.192", "metadata"),
        ("::ffff:127.0.0.1", "loopback address (inside an IPv6 address)"),
        ("::ffff:10.0.0.1", "private address (inside an IPv6 address)"),
        ("::ffff:169.254.169.254", "metadata address (inside"),
        ("::127.0.0.1", "loopback address (inside an IPv6 address)"),
        ("::ffff:0:10.0.0.1", "private address (inside an IPv6 address)"),
        ("64:ff9b::10.0.0.1", "private address (inside an IPv6 address)"),
        ("64:ff9b::169.254.169.254", "metadata address (inside"),
        ("2002:7f00:1::1", "loopback address (inside an IPv6 address)"),  # 6to4 of 127.0.0.1
        ("2002:a00:1::1", "private address (inside an IPv6 address)"),  # 6to4 of 10.0.0.1
        ("2001:0:4136:e378:8000:63bf:f5ff:fffe", "private address (inside an IPv6 address)"),  # Teredo client 10.0.0.1
    ],
)
def test_addresses_off_the_public_internet_are_named(address, kind):
    assert kind in (non_public_kind(ipaddress.ip_address(address)) or "")


@pytest.mark.parametrize(
    "address", ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8", "64:ff9b::8.8.8.8"]
)
def test_public_addresses_pass(address):
    assert non_public_kind(ipaddress.ip_address(address)) is None


def test_a_typed_address_must_be_https(fake_dns):
    fake_dns["shop.example"] = ["93.184.216.34"]

    assert typed_address_refusal("https://shop.example/api", public_only()) is None
    assert "Use an https:// address" in typed_address_refusal("http://shop.example", public_only())
    assert "Use an https:// address" in typed_address_refusal("ftp://shop.example", public_only())


def test_a_bare_host_is_read_as_https_as_bergen_reads_it(fake_dns):
    fake_dns["www.acme.atworkweb.example"] = ["93.184.216.34"]
    fake_dns["inside.example"] = ["10.0.0.7"]

    assert typed_address_refusal("www.acme.atworkweb.example", public_only()) is None
    assert "private address" in typed_address_refusal("inside.example", public_only())


@pytest.mark.parametrize(
    "url, says",
    [
        ("https://10.0.0.5", "10.0.0.5 is a private address"),
        ("https://127.0.0.1:8000/api", "127.0.0.1 is a loopback address"),
        ("https://[::1]/", "[::1] is a loopback address"),
        ("https://[::ffff:127.0.0.1]/", "loopback address (inside an IPv6 address)"),
        ("https://169.254.169.254/latest/meta-data/", "a cloud metadata address"),
        ("https://2130706433/", "resolves to a loopback address"),  # 127.0.0.1 written as one number
        ("https://0x7f.1/", "resolves to a loopback address"),
        ("https://localhost/", "localhost resolves to a loopback address"),
        ("https://user:secret@shop.example/", "Leave any user name and password out"),
        ("https:///nohost", "Enter a full address"),
    ],
)
def test_typed_addresses_that_are_refused_say_why(url, says, fake_dns):
    fake_dns["shop.example"] = ["93.184.216.34"]

    assert says in (typed_address_refusal(url, public_only()) or "")


def test_a_name_is_refused_when_any_of_its_addresses_is_not_public(fake_dns):
    fake_dns["rebind.example"] = ["93.184.216.34", "127.0.0.1"]

    refusal = typed_address_refusal("https://rebind.example", public_only())

    assert (
        refusal
        == "rebind.example resolves to a loopback address: only addresses on the public internet can be reached."
    )


def test_a_name_that_does_not_resolve_yet_is_accepted_and_checked_on_every_request(fake_dns):
    assert typed_address_refusal("https://not-yet.invalid", public_only()) is None


def test_a_resolved_name_is_not_shown_as_the_address_it_resolves_to(fake_dns):
    fake_dns["db.internal.example"] = ["10.9.8.7"]

    refusal = typed_address_refusal("https://db.internal.example", public_only())

    assert "private address" in refusal and "10.9.8.7" not in refusal  # no map of our network for a merchant


def test_listed_private_hosts_may_be_private_but_still_https(fake_dns, settings):
    settings.OUTBOUND_PRIVATE_HOSTS = ["WMS.Internal.example."]
    fake_dns["wms.internal.example"] = ["10.20.30.40"]
    fake_dns["other.internal.example"] = ["10.20.30.41"]

    assert typed_address_refusal("https://wms.internal.example:8443", public_only()) is None
    assert "Use an https:// address" in typed_address_refusal("http://wms.internal.example", public_only())
    assert "private address" in typed_address_refusal("https://other.internal.example", public_only())


def test_a_listed_host_never_reaches_a_metadata_address(fake_dns, settings):
    settings.OUTBOUND_PRIVATE_HOSTS = ["wms.internal.example"]
    fake_dns["wms.internal.example"] = ["169.254.169.254"]

    assert "cloud metadata" in typed_address_refusal("https://wms.internal.example", public_only())


def test_the_sandbox_exception_allows_loopback_and_http_but_never_metadata():
    assert typed_address_refusal("http://127.0.0.1:8001", OPERATOR_CONFIGURED) is None
    assert "cloud metadata" in typed_address_refusal("http://169.254.169.254", OPERATOR_CONFIGURED)
    assert "cloud metadata" in typed_address_refusal("http://[fd00:ec2::254]", OPERATOR_CONFIGURED)


class TestConnectionPolicy:
    """Which connections get an exception: only through their API base URL, which a merchant cannot set."""

    def test_a_sandbox_tooling_connection_may_reach_its_sandbox(self, db, settings):
        settings.SANDBOX_ENABLED = False

        assert connection_policy(CartConnectionFactory(sandbox_tooling=True)).private_ok is True
        assert connection_policy(CartConnectionFactory()).private_ok is False

    def test_the_sandbox_tooling_mark_counts_only_while_the_sandbox_app_is_installed(self, db, settings):
        settings.SANDBOX_ENABLED = False
        settings.INSTALLED_APPS = [app for app in settings.INSTALLED_APPS if app != "sandbox"]

        assert connection_policy(CartConnectionFactory(sandbox_tooling=True)).private_ok is False

    def test_staff_addresses_may_be_private_while_sandbox_enabled_is_on(self, db, settings):
        connection = WMSConnectionFactory()
        settings.SANDBOX_ENABLED = True
        assert connection_policy(connection).private_ok is True
        settings.SANDBOX_ENABLED = False
        assert connection_policy(connection).private_ok is False

    def test_an_address_the_merchant_gave_never_gets_an_exception(self, db, settings):
        """Bergen without an API base URL calls the Account Web Address, which the merchant typed."""
        settings.SANDBOX_ENABLED = True
        settings.DEBUG = True
        connection = WMSConnectionFactory(api_base_url="", sandbox_tooling=True)

        assert connection_policy(connection) == OutboundPolicy(private_hosts=frozenset())
