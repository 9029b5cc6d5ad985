import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings.production")
application = get_wsgi_application()

# The Chinese segmenter's dictionary (~0.5 s, 2-6 s on a busy machine) loaded as the server starts, not by the
# first buyer's search on each worker: loaded once in the master when gunicorn runs with --preload.
from marketplace.listings.text import jieba  # noqa: E402 - after the application: settings are configured

jieba.initialize()
