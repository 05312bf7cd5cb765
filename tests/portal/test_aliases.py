"""SKU aliases on the merchant pages: list, search, add (releasing held orders), edit, delete, CSV."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from integrations.csv_cells import FORMULA_STARTS
from orders.models import HoldCode, OrderStatus, SKUAlias, WarehouseSKUList
from tests.admin_helpers import form_values, import_order, messages_of
from tests.factories import SKUAliasFactory, WarehouseSKUListFactory
from tests.portal.conftest import import_orders


def upload(client, content: str | bytes, name: str = "aliases.csv"):
    data = content.encode() if isinstance(content, str) else content
    return client.post(reverse("portal:alias_import"), {"file": SimpleUploadedFile(name, data, "text/csv")})


LISTED = ["W-NEW-1", "FIXED", "W", "UPDATED", "W-1", "W-2", "W-3", "NEW-WMS", "W-X", "MINE-WMS-SKU", 'W "1"']


@pytest.fixture(autouse=True)
def listed(request):
    """`mine`'s warehouse lists the SKUs these tests save (read just now)."""
    if "mine" in request.fixturenames:
        mine = request.getfixturevalue("mine")
        return WarehouseSKUListFactory(warehouse=mine.wms, skus=LISTED)
    return None


def aliases_of(merchant) -> dict[str, tuple[str, str]]:
    return {a.cart_sku: (a.warehouse_sku, a.note) for a in SKUAlias.objects.filter(merchant=merchant)}


def test_list_and_search(client, mine):
    SKUAliasFactory(merchant=mine.merchant, cart_sku="TEE-RED-M", warehouse_sku="T-R-M", note="red tee")

    everything = client.get(reverse("portal:alias_list")).content.decode()
    found = client.get(reverse("portal:alias_list"), {"q": "red"}).content.decode()
    by_wms = client.get(reverse("portal:alias_list"), {"q": "T-R-M"})

    assert "TEE-RED-M" in everything and "MINE-CART-SKU" in everything
    assert "TEE-RED-M" in found and "MINE-CART-SKU" not in found
    assert [a.cart_sku for a in by_wms.context["page"]] == ["TEE-RED-M"]


def test_the_list_is_paginated(client, mine):
    SKUAlias.objects.bulk_create(
        SKUAlias(merchant=mine.merchant, cart_sku=f"BULK-{n:03}", warehouse_sku=f"W-{n}") for n in range(150)
    )

    first = client.get(reverse("portal:alias_list"))
    second = client.get(reverse("portal:alias_list"), {"page": 2})

    assert len(first.context["page"]) == 100
    assert len(second.context["page"]) == 51
    assert "page 1 of 2" in first.content.decode()


def test_add_an_alias(client, mine):
    page = client.get(reverse("portal:alias_create"))
    assert page.status_code == 200

    response = client.post(
        reverse("portal:alias_create"), {"cart_sku": "NEW-1", "warehouse_sku": "W-NEW-1", "note": "n"}, follow=True
    )

    assert ("success", "Alias NEW-1 → W-NEW-1 saved.") in messages_of(response)
    assert aliases_of(mine.merchant)["NEW-1"] == ("W-NEW-1", "n")


def test_a_cart_sku_that_has_an_alias_is_refused(client, mine):
    response = client.post(reverse("portal:alias_create"), {"cart_sku": "MINE-CART-SKU", "warehouse_sku": "OTHER"})

    assert response.status_code == 200
    assert "already has an alias" in response.content.decode()
    assert aliases_of(mine.merchant)["MINE-CART-SKU"] == ("MINE-WMS-SKU", "")


def test_edit_an_alias(client, mine):
    url = reverse("portal:alias_edit", args=[mine.alias.pk])
    assert "MINE-WMS-SKU" in client.get(url).content.decode()

    client.post(url, {"cart_sku": "MINE-CART-SKU", "warehouse_sku": "FIXED"})

    assert aliases_of(mine.merchant)["MINE-CART-SKU"] == ("FIXED", "")


def test_delete_asks_first_then_deletes(client, mine):
    url = reverse("portal:alias_delete", args=[mine.alias.pk])

    confirm = client.get(url)
    assert confirm.status_code == 200
    assert SKUAlias.objects.filter(pk=mine.alias.pk).exists()

    response = client.post(url)

    assert response["Location"] == reverse("portal:alias_list")
    assert not SKUAlias.objects.filter(pk=mine.alias.pk).exists()


def test_an_order_held_for_an_unknown_sku_offers_add_alias_prefilled(wired_client, wired):
    held = import_order(wired, "4001", sku="TEE-BLK")
    assert (held.status, held.hold_code) == (OrderStatus.ERROR, HoldCode.UNKNOWN_SKU)
    detail = reverse("portal:order_detail", args=[held.pk])

    page = wired_client.get(detail).content.decode()
    listing = wired_client.get(reverse("portal:order_list")).content.decode()

    add_url = f"{reverse('portal:alias_create')}?cart_sku=TEE-BLK&amp;next="
    assert form_values(page, "alias-form-1")["cart_sku"] == ["TEE-BLK"]  # the order page's own alias form
    assert '<option value="SKU-2">' in page  # the warehouse's SKUs as last read, to pick from
    assert add_url in listing
    form = wired_client.get(reverse("portal:alias_create"), {"cart_sku": "TEE-BLK", "next": detail})
    assert 'value="TEE-BLK"' in form.content.decode()


def test_saving_the_alias_releases_the_held_order_and_says_how_many(wired_client, wired):
    held, also_held = import_orders(wired, ["4002", "4003"], sku="TEE-BLK")
    detail = reverse("portal:order_detail", args=[held.pk])

    response = wired_client.post(
        reverse("portal:alias_create"), {"cart_sku": "TEE-BLK", "warehouse_sku": "SKU-2", "next": detail}, follow=True
    )

    assert response.redirect_chain[-1][0] == detail
    assert (
        "success",
        "Alias TEE-BLK → SKU-2 saved. 2 held order(s) released: they pass every check now and will go with the "
        "next sync.",
    ) in messages_of(response)
    for order in (held, also_held):
        order.refresh_from_db()
        assert order.status == OrderStatus.NEW
        assert order.lines.get().warehouse_sku == "SKU-2"


def test_a_next_url_off_the_site_is_ignored(client, mine):
    response = client.post(
        reverse("portal:alias_create"), {"cart_sku": "N-2", "warehouse_sku": "W", "next": "https://evil.example/"}
    )

    assert response["Location"] == reverse("portal:alias_list")


class TestCsv:
    def test_export_has_a_header_and_every_alias_of_the_merchant_only(self, client, mine, theirs):
        SKUAliasFactory(merchant=mine.merchant, cart_sku="A,1", warehouse_sku="W-A", note='say "hi"')

        response = client.get(reverse("portal:alias_export"))

        assert response["Content-Type"].startswith("text/csv")
        assert "attachment" in response["Content-Disposition"]
        rows = list(csv.reader(io.StringIO(response.content.decode())))
        assert rows == [
            ["cart_sku", "warehouse_sku", "note"],
            ["A,1", "W-A", 'say "hi"'],
            ["MINE-CART-SKU", "MINE-WMS-SKU", ""],
        ]

    def test_the_import_page_renders(self, client):
        assert client.get(reverse("portal:alias_import")).status_code == 200

    def test_a_good_file_adds_and_updates(self, client, mine, theirs):
        response = upload(
            client, "cart_sku,warehouse_sku,note\nMINE-CART-SKU,UPDATED,changed\nNEW-1,W-1,\n\nNEW-2,W-2,x\n"
        )

        assert response.status_code == 302
        follow = client.get(response["Location"])
        assert ("success", "Imported: 2 added, 1 updated, 0 unchanged.") in messages_of(follow)
        assert aliases_of(mine.merchant) == {
            "MINE-CART-SKU": ("UPDATED", "changed"),
            "NEW-1": ("W-1", ""),
            "NEW-2": ("W-2", "x"),
        }
        assert aliases_of(theirs.merchant) == {"THEIR-CART-SKU": ("THEIR-WMS-SKU", "")}

    def test_a_file_without_header_or_note_keeps_stored_notes(self, client, mine):
        mine.alias.note = "keep me"
        mine.alias.save()

        upload(client, "MINE-CART-SKU,NEW-WMS\r\nX-1,W-X\r\n")

        assert aliases_of(mine.merchant)["MINE-CART-SKU"] == ("NEW-WMS", "keep me")
        assert aliases_of(mine.merchant)["X-1"] == ("W-X", "")

    def test_an_exported_file_imports_as_unchanged(self, client, mine):
        exported = client.get(reverse("portal:alias_export")).content

        follow = client.get(upload(client, exported)["Location"])

        assert ("success", "Imported: 0 added, 0 updated, 1 unchanged.") in messages_of(follow)

    def test_a_bad_file_reports_every_bad_row_by_line_and_applies_nothing(self, client, mine):
        before = aliases_of(mine.merchant)
        content = "\n".join(
            [
                "cart_sku,warehouse_sku,note",  # 1
                "MINE-CART-SKU,WOULD-CHANGE,",  # 2 good, but must not be applied
                "GOOD-1,W-1",  # 3 good, must not be added
                ",W-2",  # 4 cart_sku empty
                "NO-WMS,",  # 5 warehouse_sku empty
                "GOOD-1,W-again",  # 6 duplicate of line 3
                "LONG," + "X" * 201,  # 7 too long
                "A,B,note,extra",  # 8 too many columns
            ]
        )

        response = upload(client, content)

        assert response.status_code == 200
        assert response.context["errors"] == [
            "Line 4: cart_sku is empty.",
            "Line 5: warehouse_sku is empty.",
            "Line 6: cart SKU 'GOOD-1' is already on line 3.",
            "Line 7: warehouse_sku is 201 characters long, at most 200 are allowed.",
            "Line 8: 4 columns, expected at most 3 (cart_sku, warehouse_sku, note).",
        ]
        page = response.content.decode()
        assert "Nothing was imported" in page
        assert "Line 6: cart SKU &#x27;GOOD-1&#x27; is already on line 3." in page
        assert aliases_of(mine.merchant) == before

    @pytest.mark.parametrize(
        "content, error",
        [
            (b"\xff\xfe\x00b", "The file is not UTF-8 text"),
            ("\n\n", "The file has no aliases"),
            ("cart_sku,warehouse_sku\n", "The file has no aliases"),
            ("cart_sku,wms\nA,B\n", "Line 1: unknown column 'wms'"),
            ("note,cart_sku\nA,B\n", "Line 1: the header lacks the column warehouse_sku."),
        ],
    )
    def test_unreadable_files_say_why(self, client, mine, content, error):
        response = upload(client, content)

        assert response.status_code == 200
        assert any(e.startswith(error) for e in response.context["errors"]), response.context["errors"]

    def test_an_empty_upload_is_refused_by_the_form(self, client, mine):
        response = upload(client, "")

        assert "The submitted file is empty." in response.content.decode()
        assert aliases_of(mine.merchant) == {"MINE-CART-SKU": ("MINE-WMS-SKU", "")}

    def test_a_bom_and_quoted_cells_are_read(self, client, mine):
        upload(client, '\ufeffcart_sku,warehouse_sku,note\n"Q,1","W ""1""",ok\n')

        assert aliases_of(mine.merchant)["Q,1"] == ('W "1"', "ok")

    def test_an_import_releases_the_orders_it_fixes(self, wired_client, wired):
        held = import_order(wired, "5001", sku="TEE-BLK")

        follow = wired_client.get(upload(wired_client, "TEE-BLK,SKU-1\nUNRELATED,SKU-2\n")["Location"])

        assert (
            "success",
            "Imported: 2 added, 0 updated, 0 unchanged. 1 held order(s) released: they pass every check now and "
            "will go with the next sync.",
        ) in (messages_of(follow))
        held.refresh_from_db()
        assert held.status == OrderStatus.NEW


# SKUs and notes as the pages store them (stripped, no NUL), with formula starts and quotes made likely.
stored_text = st.builds(
    lambda start, rest: (start + rest).strip(),
    st.sampled_from(["", "'", "''", "=", "+", "-", "@", "'-", "'=", "=\t", "-\r"]),
    st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=15),
)
skus = stored_text.filter(bool)
alias_sets = st.dictionaries(skus, st.tuples(skus, stored_text), min_size=1, max_size=6)


@settings(
    max_examples=40,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(aliases=alias_sets)
@example(aliases={"-ABC": ('=HYPERLINK("http://evil.example")', "@SUM(A1)"), "+1": ("'-x", "''")})
@example(aliases={"'quoted": ("''twice", "'=not a formula"), "plain": ("x\ry", 'a,"b"')})
def test_export_then_import_gives_back_any_alias_set_and_no_cell_starts_a_formula(client, mine, aliases):
    SKUAlias.objects.filter(merchant=mine.merchant).delete()
    WarehouseSKUList.objects.filter(warehouse=mine.wms).update(skus=[sku for sku, _ in aliases.values()])
    SKUAlias.objects.bulk_create(
        SKUAlias(merchant=mine.merchant, cart_sku=cart_sku, warehouse_sku=warehouse_sku, note=note)
        for cart_sku, (warehouse_sku, note) in aliases.items()
    )

    exported = client.get(reverse("portal:alias_export")).content
    SKUAlias.objects.filter(merchant=mine.merchant).delete()
    response = upload(client, exported)

    cells = [cell for row in csv.reader(io.StringIO(exported.decode(), newline="")) for cell in row]
    assert [cell for cell in cells if cell.startswith(FORMULA_STARTS)] == []
    assert response.status_code == 302, response.context and response.context["errors"]
    assert aliases_of(mine.merchant) == aliases


def test_an_import_with_a_nul_character_is_refused_by_line(client, mine):
    response = upload(client, "cart_sku,warehouse_sku,note\nGOOD,W-1,\nBAD\x00SKU,W-2,\nOK,W-3,no\x00te\n")

    assert response.status_code == 200
    assert response.context["errors"] == [
        "Line 3: cart_sku contains a NUL character (code 0), which text cannot hold.",
        "Line 4: note contains a NUL character (code 0), which text cannot hold.",
    ]
    assert aliases_of(mine.merchant) == {"MINE-CART-SKU": ("MINE-WMS-SKU", "")}
