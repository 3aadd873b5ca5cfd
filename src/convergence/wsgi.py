"""WSGI entry point for app servers (gunicorn in the demo and in production)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "convergence.settings")
application = get_wsgi_application()
