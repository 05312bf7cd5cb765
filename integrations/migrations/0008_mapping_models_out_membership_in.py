"""State-only moves, the tables stay as they are: the shipping and carrier maps now belong to the
orders app (`orders.0005`), and `MerchantMembership` comes here from the portal app (which drops it
in `portal.0002`), so that the OAuth callback can check it without importing the merchant pages.
The membership's content type follows it, so admin history and permissions stay with the model.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def content_type_move(apps, schema_editor, *, source: str, target: str) -> None:
    rows = apps.get_model("contenttypes", "ContentType").objects.using(schema_editor.connection.alias)
    if not rows.filter(app_label=target, model="merchantmembership").exists():
        rows.filter(app_label=source, model="merchantmembership").update(app_label=target)


def forwards(apps, schema_editor) -> None:
    content_type_move(apps, schema_editor, source="portal", target="integrations")


def backwards(apps, schema_editor) -> None:
    content_type_move(apps, schema_editor, source="integrations", target="portal")


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("integrations", "0007_interrupted_runs_and_platform_cooldowns"),
        ("orders", "0005_mapping_models_from_inventory_and_integrations"),
        ("portal", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="CarrierNameMap"),
                migrations.DeleteModel(name="ShippingMethodMap"),
                migrations.CreateModel(
                    name="MerchantMembership",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("merchant", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="memberships", to="integrations.merchant")),
                        ("user", models.OneToOneField(help_text="Signs in at /merchant/login/ and sees only this merchant's connections, orders and aliases.", on_delete=django.db.models.deletion.CASCADE, related_name="merchant_membership", to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        "verbose_name": "merchant membership",
                        "db_table": "portal_merchantmembership",
                        "ordering": ["merchant__name", "user__username"],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(forwards, backwards),
    ]
