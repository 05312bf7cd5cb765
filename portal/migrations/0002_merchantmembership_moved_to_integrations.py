"""`MerchantMembership` now belongs to the integrations app (`integrations.0008`): drop it from this
app's state only; its table, `portal_merchantmembership`, stays as it is."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0008_mapping_models_out_membership_in"),
        ("portal", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="MerchantMembership")],
            database_operations=[],
        ),
    ]
