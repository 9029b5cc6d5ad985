"""Test settings: the database still comes from DATABASE_URL so the same suite runs on SQLite and on a
real PostgreSQL server."""

from marketplace.settings.base import *  # noqa: F403
from marketplace.settings.base import BASE_DIR, env

DEBUG = False
SECRET_KEY = "test-only-key"  # noqa: S105 - never used outside the test run
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed: tests create many users
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = env("MEDIA_ROOT", default=str(BASE_DIR / "test-output" / "media"))
PRIVATE_MEDIA_ROOT = env("PRIVATE_MEDIA_ROOT", default=str(BASE_DIR / "test-output" / "private-media"))
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", default="sk_test_localstripe_tests")
STRIPE_PUBLISHABLE_KEY = env("STRIPE_PUBLISHABLE_KEY", default="pk_test_localstripe_tests")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", default="whsec_localstripe_tests")
STRIPE_API_BASE = env("STRIPE_API_BASE", default="http://127.0.0.1:8420")
STRIPE_JS_URL = env("STRIPE_JS_URL", default="http://127.0.0.1:8420/js.stripe.com/v3/")
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "tests"},
    "progress": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "progress"},
}
# The test client's login() calls authenticate() without a request, which django-axes refuses; the log-in
# throttling tests switch it back on (tests/parties/test_login_throttling.py).
AXES_ENABLED = False
# The demo's two-year history takes a minute to seed: the tests that seed the demo for its accounts and pages
# leave it out; the tests of the history and the charts turn it on (DEMO_HISTORY=1 runs them all with it).
DEMO_HISTORY = env.bool("DEMO_HISTORY", default=False)
