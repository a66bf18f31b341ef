"""WSGI entry point (gunicorn ``erial.wsgi``)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "erial.settings")
application = get_wsgi_application()
