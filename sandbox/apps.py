from django.apps import AppConfig


class SandboxConfig(AppConfig):
    """Local emulators of the platforms' APIs; installed in development and tests only, never in production."""

    name = "sandbox"
    verbose_name = "Sandboxes (development only)"
