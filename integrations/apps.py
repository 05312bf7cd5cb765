from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "Merchants and connections"

    def ready(self) -> None:
        from integrations import checks  # noqa: F401 - registers the system checks
