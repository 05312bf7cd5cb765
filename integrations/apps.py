from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "Merchants and connections"

    def ready(self) -> None:
        from integrations import checks  # noqa: F401 - registers the system checks
        from integrations.accounts import platform_account_changed
        from integrations.cooldowns import cooldown_carry
        from integrations.lookups import range_checked_lookups_register

        platform_account_changed.connect(cooldown_carry, dispatch_uid="cooldown_carry")
        range_checked_lookups_register()
