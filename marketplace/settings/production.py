"""Production: PostgreSQL from DATABASE_URL, gunicorn behind a TLS-terminating proxy, whitenoise for
static files. Refuses to start without a real SECRET_KEY."""

from django.core.exceptions import ImproperlyConfigured

from marketplace.settings.base import *  # noqa: F403
from marketplace.settings.base import env

DEBUG = False
SECRET_KEY = env("SECRET_KEY", default="")
if len(SECRET_KEY) < 50 or SECRET_KEY.startswith(("dev-", "test-", "django-insecure")):
    raise ImproperlyConfigured(
        "SECRET_KEY must be set in the environment to a random value of at least 50 characters "
        "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(64))')."
    )
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")

# The default cache holds the anonymous listing pages (marketplace.listings.cache) with their invalidation
# tokens, and the funnel's once-a-day view keys: it must be one cache shared by every app server, or a listing
# withdrawn through one server stays on the others. Redis rather than the database cache: a cached page is
# then one in-memory round trip that takes no connection or row from PostgreSQL, which the pages and search
# already load; Redis evicts the least used pages by itself (maxmemory-policy allkeys-lru), where Django's
# database cache counts and culls its table on writes and leaves dead rows to vacuum. Local memory would be
# per worker process (each its own copy, never invalidated by the others), so production refuses it.
CACHE_URL = env("CACHE_URL", default="")
if not CACHE_URL.startswith(("redis://", "rediss://")):
    raise ImproperlyConfigured(
        "CACHE_URL must point at the Redis server that every app server shares, e.g. redis://cache:6379/0 "
        "(the listing pages are cached there; see marketplace/settings/production.py)."
    )
CACHES["default"] = env.cache("CACHE_URL")  # noqa: F405
# The live progress of an import (patents/inventory/progress.py) is written by whichever worker runs it and read by
# whichever app server the holder's browser reaches: the same Redis (its own key prefix) unless
# PROGRESS_CACHE_URL names another; base.py's file cache would be one machine's.
CACHES["progress"] = {**env.cache("PROGRESS_CACHE_URL", default=CACHE_URL), "KEY_PREFIX": "progress"}  # noqa: F405

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
EMAIL_URL = env.email_url("EMAIL_URL", default="smtp://localhost:25")
vars().update(EMAIL_URL)

# TLS is terminated by the proxy in front of gunicorn; trust its header.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
TASKS = {"default": {"BACKEND": env("TASKS_BACKEND", default="django_tasks_db.DatabaseBackend")}}
CONN_MAX_AGE = env.int("CONN_MAX_AGE", default=60)
# Connections outlive requests, so each is checked before a request reuses it: after a PostgreSQL restart or
# failover the workers reconnect instead of answering 500 once each (tests/reliability/test_restart.py). The same
# for the replica, when there is one (DATABASE_REPLICA_URL).
for _database in DATABASES.values():  # noqa: F405
    _database["CONN_MAX_AGE"] = CONN_MAX_AGE
    _database["CONN_HEALTH_CHECKS"] = env.bool("CONN_HEALTH_CHECKS", default=True)
LOGGING["root"]["level"] = env("LOG_LEVEL", default="INFO")  # noqa: F405
