"""`SKUAlias` now belongs to the orders app (`orders.0005`): drop it from this app's state only;
its table, `inventory_skualias`, stays as it is."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0001_initial"),
        ("orders", "0005_mapping_models_from_inventory_and_integrations"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="SKUAlias")],
            database_operations=[],
        ),
    ]
