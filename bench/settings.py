"""Settings for benchmark runs: the test settings (database from DATABASE_URL, local media, no e-mail) with
DEBUG off and a URLconf that adds the bare baseline view. Used by `make bench` only."""

from marketplace.settings.test import *  # noqa: F403
from marketplace.settings.test import BASE_DIR, env

ROOT_URLCONF = "bench.urls"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
MEDIA_ROOT = env("MEDIA_ROOT", default=str(BASE_DIR / "bench" / "results" / "media.tmp"))
PRIVATE_MEDIA_ROOT = env("PRIVATE_MEDIA_ROOT", default=str(BASE_DIR / "bench" / "results" / "private-media.tmp"))
# Persistent connections, as production runs (a new connection per request would be measured otherwise).
DATABASES["default"]["CONN_MAX_AGE"] = 60  # noqa: F405
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "ERROR"}}
