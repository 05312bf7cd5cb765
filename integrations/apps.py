from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "Merchants and connections"

    def ready(self) -> None:
        from integrations.lookups import range_checked_lookups_register

        range_checked_lookups_register()
