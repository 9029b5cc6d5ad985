"""Local development: the embedded default (SQLite) and the local Stripe stand-in on 127.0.0.1:8420."""

from marketplace.settings.base import *  # noqa: F403
from marketplace.settings.base import BASE_DIR, env

DEBUG = env.bool("DEBUG", default=True)
# A development-only key; production refuses to start without its own (see production.py).
SECRET_KEY = env("SECRET_KEY", default="dev-only-insecure-key-never-used-in-production")
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", default="sk_test_localstripe_dev")
STRIPE_PUBLISHABLE_KEY = env("STRIPE_PUBLISHABLE_KEY", default="pk_test_localstripe_dev")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", default="whsec_localstripe_dev")
STRIPE_API_BASE = env("STRIPE_API_BASE", default="http://127.0.0.1:8420")
STRIPE_JS_URL = env("STRIPE_JS_URL", default="http://127.0.0.1:8420/js.stripe.com/v3/")
# `make run` starts the task worker and the scheduler beside the web server (scripts/serve-dev.sh), as production
# runs them: a need's matching and its notifications then happen in the background, not in the request.
TASKS = {"default": {"BACKEND": env("TASKS_BACKEND", default="django_tasks_db.DatabaseBackend")}}
# The worker changes what pages show (an import regrades patents, a refresh stores matches), so the page caches
# must be one the web server and the worker share: files, as the progress cache (base.py).
CACHES["default"] = env.cache("CACHE_URL", default=f"filecache://{BASE_DIR / '.cache' / 'default'}")  # noqa: F405
