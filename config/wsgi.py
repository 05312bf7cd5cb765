import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

from integrations.checks import startup_errors_refuse  # noqa: E402 - needs the apps loaded above

startup_errors_refuse()
