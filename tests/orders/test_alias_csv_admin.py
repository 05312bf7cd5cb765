"""SKU aliases as CSV in the admin: the merchant pages' all-or-nothing import, and an export per merchant."""

from __future__ import annotations

import csv
import io

from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from orders.models import OrderStatus, SKUAlias
from tests.admin_helpers import messages_of
from tests.factories import MerchantFactory, SKUAliasFactory, UserFactory

IMPORT = "admin:orders_skualias_import"
EXPORT = "admin:orders_skualias_export"


def upload(text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("aliases.csv", text.encode(), content_type="text/csv")


def test_a_good_file_is_imported_for_the_chosen_merchant_and_releases_its_held_orders(
    admin_client, admin_user, wired, held_for_sku
):
    other = MerchantFactory()
    text = "cart_sku,warehouse_sku,note\nTEE-BLK,SKU-2,black tee\nMUG-1,SKU-1,\n"

    response = admin_client.post(reverse(IMPORT), {"merchant": wired.merchant.pk, "file": upload(text)}, follow=True)

    assert response.status_code == 200
    [(level, message)] = [m for m in messages_of(response) if "imported" in m[1]]
    assert level == "success"
    assert "2 added, 0 updated, 0 unchanged" in message
    assert "1 held order(s) released" in message
    assert set(SKUAlias.objects.filter(merchant=wired.merchant).values_list("cart_sku", "warehouse_sku")) == {
        ("TEE-BLK", "SKU-2"),
        ("MUG-1", "SKU-1"),
    }
    assert not SKUAlias.objects.filter(merchant=other).exists()
    held_for_sku.refresh_from_db()
    assert held_for_sku.status == OrderStatus.NEW
    entry = LogEntry.objects.get(object_id=str(wired.merchant.pk), user=admin_user)
    assert "imported from a CSV file" in entry.change_message


def test_a_file_with_bad_lines_names_each_and_saves_nothing(admin_client):
    merchant = MerchantFactory()
    SKUAliasFactory(merchant=merchant, cart_sku="KEEP", warehouse_sku="OLD")
    text = "cart_sku,warehouse_sku\nKEEP,NEW\n,SKU-9\nDUP,SKU-1\nDUP,SKU-2\n"

    response = admin_client.post(reverse(IMPORT), {"merchant": merchant.pk, "file": upload(text)})

    assert response.status_code == 200
    errors = response.context["errors"]
    assert errors == [
        "Line 3: cart_sku is empty.",
        "Line 5: cart SKU 'DUP' is already on line 4.",
    ]
    page = response.content.decode()
    assert "Nothing was imported" in page
    assert "Line 3: cart_sku is empty." in page
    assert list(SKUAlias.objects.filter(merchant=merchant).values_list("cart_sku", "warehouse_sku")) == [
        ("KEEP", "OLD")
    ]


def test_the_import_requires_a_merchant(admin_client):
    response = admin_client.post(reverse(IMPORT), {"merchant": "", "file": upload("A,B\n")})

    assert response.status_code == 200
    assert response.context["form"].errors["merchant"]
    assert not SKUAlias.objects.exists()


def test_the_export_holds_one_merchants_aliases_in_the_import_format_safe_for_a_spreadsheet(admin_client):
    merchant, other = MerchantFactory(), MerchantFactory()
    SKUAliasFactory(merchant=merchant, cart_sku="B-SKU", warehouse_sku="W-2", note="=HYPERLINK(1)")
    SKUAliasFactory(merchant=merchant, cart_sku="A-SKU", warehouse_sku="W-1", note="")
    SKUAliasFactory(merchant=other, cart_sku="THEIRS", warehouse_sku="W-9")

    response = admin_client.get(reverse(EXPORT), {"merchant": merchant.pk})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert f"sku-aliases-{merchant.slug}-" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["cart_sku", "warehouse_sku", "note"]
    assert [row[:2] for row in rows[1:]] == [["A-SKU", "W-1"], ["B-SKU", "W-2"]]
    assert not rows[2][2].startswith("=")


def test_an_export_without_one_merchant_says_why_nothing_was_exported(admin_client):
    response = admin_client.get(reverse(EXPORT), {"merchant": "not-a-number"}, follow=True)

    assert ("error", "Nothing exported: choose one merchant (filter the list by merchant) first.") in messages_of(
        response
    )


def test_the_list_links_import_and_the_filtered_merchants_export(admin_client):
    merchant = MerchantFactory(name="Export Me")
    url = reverse("admin:orders_skualias_changelist")

    unfiltered = admin_client.get(url).content.decode()
    filtered = admin_client.get(url, {"merchant__id__exact": merchant.pk}).content.decode()

    assert 'id="alias-import-link"' in unfiltered
    assert 'id="alias-export-link"' not in unfiltered
    assert f"{reverse(EXPORT)}?merchant={merchant.pk}" in filtered
    assert "Export CSV of Export Me" in filtered


def test_staff_without_the_alias_permissions_cannot_import_or_export(db):
    user = UserFactory(is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_merchant"))
    client = Client()
    client.force_login(user)
    merchant = MerchantFactory()

    assert client.get(reverse(EXPORT), {"merchant": merchant.pk}).status_code == 403
    assert client.post(reverse(IMPORT), {"merchant": merchant.pk, "file": upload("A,B\n")}).status_code == 403
    assert not SKUAlias.objects.exists()
