from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "Merchants and connections"

    def ready(self) -> None:
        from django.db.models import IntegerField

        from integrations.lookups import IntegerFieldIn

        IntegerField.register_lookup(IntegerFieldIn)
