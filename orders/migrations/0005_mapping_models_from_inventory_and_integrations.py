"""The mapping models (SKU aliases, shipping and carrier maps) join the orders app.

Only Django's model state moves: the tables keep their names (`db_table`), so no row is copied and
nothing is locked. `inventory.0002` and `integrations.0008` then drop the models from their apps'
state. The content types follow, so admin history and granted permissions stay with the models.
"""

import django.db.models.deletion
import django.db.models.functions.text
from django.db import migrations, models

MOVED = {"skualias": "inventory", "shippingmethodmap": "integrations", "carriernamemap": "integrations"}


def content_types_move(apps, schema_editor, *, to_new: bool) -> None:
    content_type = apps.get_model("contenttypes", "ContentType")
    rows = content_type.objects.using(schema_editor.connection.alias)
    for model, old_app in MOVED.items():
        source, target = ("orders", old_app) if not to_new else (old_app, "orders")
        if not rows.filter(app_label=target, model=model).exists():
            rows.filter(app_label=source, model=model).update(app_label=target)


def forwards(apps, schema_editor) -> None:
    content_types_move(apps, schema_editor, to_new=True)


def backwards(apps, schema_editor) -> None:
    content_types_move(apps, schema_editor, to_new=False)


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("integrations", "0007_interrupted_runs_and_platform_cooldowns"),
        ("inventory", "0001_initial"),
        ("orders", "0004_syncrun_interrupted_and_lease"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="CarrierNameMap",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("warehouse_carrier", models.CharField(help_text="As the warehouse reports it, e.g. 'FDX'.", max_length=80)),
                        ("cart_carrier", models.CharField(help_text="As the cart should show it, e.g. 'FedEx'.", max_length=80)),
                        ("cart_connection", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="carrier_names", to="integrations.cartconnection")),
                    ],
                    options={
                        "verbose_name": "carrier name mapping",
                        "db_table": "integrations_carriernamemap",
                        "constraints": [models.UniqueConstraint(django.db.models.functions.text.Lower("warehouse_carrier"), models.F("cart_connection"), name="unique_carrier_map_per_cart", violation_error_message="This carrier already has a name on this cart connection.")],
                    },
                ),
                migrations.CreateModel(
                    name="ShippingMethodMap",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("cart_method", models.CharField(help_text="As the cart sends it, e.g. 'Standard Shipping' (matched ignoring case).", max_length=200)),
                        ("ship_code", models.CharField(help_text="The warehouse's code, e.g. 'UPS:Ground' or 'FEDEX'.", max_length=80)),
                        ("warehouse", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="shipping_methods", to="integrations.wmsconnection")),
                    ],
                    options={
                        "verbose_name": "shipping method mapping",
                        "db_table": "integrations_shippingmethodmap",
                        "constraints": [models.UniqueConstraint(django.db.models.functions.text.Lower("cart_method"), models.F("warehouse"), name="unique_ship_method_per_warehouse", violation_error_message="This shipping method already has a mapping on this warehouse connection.")],
                    },
                ),
                migrations.CreateModel(
                    name="SKUAlias",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("cart_sku", models.CharField(max_length=200, verbose_name="cart SKU")),
                        ("warehouse_sku", models.CharField(max_length=200, verbose_name="warehouse SKU")),
                        ("note", models.CharField(blank=True, max_length=200)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        ("merchant", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="sku_aliases", to="integrations.merchant")),
                    ],
                    options={
                        "verbose_name": "SKU alias",
                        "verbose_name_plural": "SKU aliases",
                        "db_table": "inventory_skualias",
                        "ordering": ["merchant", "cart_sku"],
                        "indexes": [models.Index(fields=["merchant", "warehouse_sku"], name="inventory_s_merchan_81dc5d_idx")],
                        "constraints": [models.UniqueConstraint(fields=("merchant", "cart_sku"), name="unique_alias_per_merchant", violation_error_message="This cart SKU already has an alias for this merchant.")],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(forwards, backwards),
    ]
