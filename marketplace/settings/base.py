"""Settings shared by every environment. Everything secret or deployment-specific comes from the
environment (django-environ), so the same code runs as the SQLite demo and as production on PostgreSQL."""

from datetime import timedelta
from pathlib import Path

import environ
from django.utils.translation import gettext_lazy

PROJECT_DIR = Path(__file__).resolve().parent.parent
BASE_DIR = PROJECT_DIR.parent

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env("SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "marketplace.parties",
    "marketplace",
    "patents",
    "licensing",
    "cms",
    "wagtail.contrib.settings",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.simple_translation",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.locales",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "django_filters",
    "csp",
    "axes",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_tasks",
    "django_tasks_db",
    # The audit log of state changes (marketplace/audit, docs/security.md "Audit log").
    "auditlog",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Read-your-writes with a replica: pins a request to the primary after its user wrote (marketplace/replica).
    "marketplace.replica.middleware.ReadYourWritesMiddleware",
    "marketplace.security.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # django-auditlog's actor (the signed-in user) and the request as the source of every change it logs.
    "marketplace.audit.middleware.AuditMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Anonymous listing pages from the cache, before Wagtail routes them: needs the user and messages above.
    "marketplace.listings.cache.ListingPageCacheMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
    # Last, as django-axes asks: it turns a locked-out log-in into our "log-in paused" page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "marketplace.urls"
WSGI_APPLICATION = "marketplace.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PROJECT_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "wagtail.contrib.settings.context_processors.settings",
                "marketplace.parties.context_processors.parties",
            ],
        },
    },
]

# DATABASE_URL decides the engine: SQLite file in the project directory by default (the embedded
# demo), PostgreSQL in production and in the second half of the test suite.
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"].setdefault("ATOMIC_REQUESTS", False)
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
# With persistent connections, check a reused one at the start of each request: after a database restart the
# worker's old connection is dead, and without the check the first request of every worker fails on it.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("CONN_HEALTH_CHECKS", default=False)
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # The embedded engine, tuned per connection: WAL lets pages be read while an import or a payment writes;
    # a 64 MiB page cache and a 256 MiB memory map keep the search documents and their full-text index in
    # memory (the default cache is 2 MB, so every facet count read them from disk again); temporary B-trees
    # (facet grouping, sorting) stay in memory.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("init_command", env(
        "SQLITE_INIT_COMMAND", default="PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
        "PRAGMA cache_size=-65536; PRAGMA mmap_size=268435456; PRAGMA temp_store=MEMORY"))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# A PostgreSQL streaming replica (hot standby) for the reads that only show the market: the search, the listing
# pages and the IP office's dashboard (marketplace/replica/router.py); everything else, and any user's reads for
# REPLICA_STICKY_SECONDS after they wrote, from the primary. Not set: every read from the primary.
if env("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = {**env.db("DATABASE_REPLICA_URL"), "CONN_MAX_AGE": DATABASES["default"]["CONN_MAX_AGE"],
                            "CONN_HEALTH_CHECKS": DATABASES["default"]["CONN_HEALTH_CHECKS"],
                            "TEST": {"MIRROR": "default"}}
DATABASE_ROUTERS = ["marketplace.replica.router.ReplicaRouter"]
REPLICA_STICKY_SECONDS = env.float("REPLICA_STICKY_SECONDS", default=15.0)

CACHES = {
    "default": env.cache("CACHE_URL", default="locmemcache://default"),
    # Live progress of background work, shared between the worker and the web process.
    "progress": env.cache("PROGRESS_CACHE_URL", default=f"filecache://{BASE_DIR / '.cache' / 'progress'}"),
}

# Anonymous listing pages are served from the default cache (marketplace.listings.cache): at most this long
# (licence counts and other listings' "similar listings" follow within it), and browsers keep them this long.
LISTING_PAGE_CACHE_SECONDS = env.int("LISTING_PAGE_CACHE_SECONDS", default=600)
LISTING_PAGE_MAX_AGE = env.int("LISTING_PAGE_MAX_AGE", default=60)

# Background work (imports, regrading, matching, exports, notifications) runs as django-tasks: immediately in the
# tests (the task runs inside the request that enqueued it), through the database queue, `manage.py run_worker`
# and `manage.py run_scheduler` in development (`make run`, settings/dev.py) and production (the Procfile).
TASKS = {"default": {"BACKEND": env("TASKS_BACKEND", default="django_tasks.backends.immediate.ImmediateBackend")}}
# The task workers (`manage.py run_worker`, marketplace/scheduling/worker.py): a failed task is tried again after
# TASK_RETRY_BACKOFF_SECONDS, then 4x longer each time, up to TASK_MAX_ATTEMPTS runs in all (a worker lost
# mid-task counts as an attempt); TASK_NO_RETRY lists task paths that must never run twice. Every
# TASK_RECOVER_SECONDS each worker queues again the running tasks whose worker is gone (on PostgreSQL known from
# the worker's lock at once; on SQLite, once they have run TASK_LOST_AFTER_MINUTES).
TASK_MAX_ATTEMPTS = env.int("TASK_MAX_ATTEMPTS", default=3)
TASK_RETRY_BACKOFF_SECONDS = env.float("TASK_RETRY_BACKOFF_SECONDS", default=30.0)
TASK_NO_RETRY: list[str] = env.list("TASK_NO_RETRY", default=[])
TASK_RECOVER_SECONDS = env.float("TASK_RECOVER_SECONDS", default=10.0)
TASK_LOST_AFTER_MINUTES = env.int("TASK_LOST_AFTER_MINUTES", default=360)
# The scheduler's full refresh of stored matches (marketplace/scheduling/schedule.py); a posted or edited need or
# listing is refreshed at once on its own.
MATCH_REFRESH_MINUTES = env.int("MATCH_REFRESH_MINUTES", default=15)

# Inventory files: the web upload limit and the limit of the import service itself (the CLI).
INVENTORY_MAX_UPLOAD_MB = env.int("INVENTORY_MAX_UPLOAD_MB", default=50)
INVENTORY_MAX_FILE_MB = env.int("INVENTORY_MAX_FILE_MB", default=1024)
# Only where the database has no advisory locks (SQLite): a batch running longer than this is taken as
# abandoned by a lost worker (patents/inventory/liveness.py; on PostgreSQL the worker's own lock tells).
INVENTORY_RUN_TIMEOUT_HOURS = env.int("INVENTORY_RUN_TIMEOUT_HOURS", default=6)
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

AUTH_USER_MODEL = "parties.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes checks every log-in (site and admins) before the model backend: after AXES_FAILURE_LIMIT
# failures of one account from one address, that pair waits AXES_COOLOFF_MINUTES; a success resets the count.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Both log-in forms (ours and the admins') post the e-mail address as "username" (Django's AuthenticationForm).
AXES_USERNAME_FORM_FIELD = "username"
AXES_LOCKOUT_CALLABLE = "marketplace.security.login_locked_out"
AXES_VERBOSE = False

# Content-Security-Policy (django-csp): only our own origin; marketplace.security adds the Stripe.js and Stripe
# API origins per request, and lets the Wagtail and Django admins keep their inline scripts and styles.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"], "script-src": ["'self'"], "style-src": ["'self'"],
        "img-src": ["'self'", "data:"], "font-src": ["'self'"], "connect-src": ["'self'"], "frame-src": ["'self'"],
        "object-src": ["'none'"], "base-uri": ["'self'"], "form-action": ["'self'"], "frame-ancestors": ["'none'"],
    },
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "/"

# Simplified Chinese first: a browser asking for Chinese (or for nothing we have) gets Chinese.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [PROJECT_DIR / "locale"]
# The empty choice of every filter's select, in the page's language (django-filter writes "---------").
FILTERS_EMPTY_CHOICE_LABEL = gettext_lazy("Any")
TIME_ZONE = "Asia/Shanghai"
# The quick-licence deal rate counts declarations licensed within this many days of publication.
QUICK_LICENCE_DAYS = env.int("QUICK_LICENCE_DAYS", default=90)
# seed_demo gives the demo two years of history (marketplace.demo.seed.seed_history) so the charts show something.
DEMO_HISTORY = env.bool("DEMO_HISTORY", default=True)
# The platform's home province, as organisations write it: the IP office's statistics count a licensee there as
# local and any other as out-of-province (the demo's IP office is Shenzhen's).
PLATFORM_HOME_REGION = env("PLATFORM_HOME_REGION", default="广东省")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(BASE_DIR / "media")))
# Uploaded inventories, error reports and exports: served only through permission-checked views.
PRIVATE_MEDIA_ROOT = Path(env("PRIVATE_MEDIA_ROOT", default=str(BASE_DIR / "private-media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
DATA_UPLOAD_MAX_NUMBER_FIELDS = 10_000

EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="noreply@patent-market.localhost")

# Wagtail
WAGTAIL_SITE_NAME = "Open Patent Licensing Marketplace"
WAGTAILADMIN_BASE_URL = env("WAGTAILADMIN_BASE_URL", default="http://127.0.0.1:8000")
WAGTAIL_I18N_ENABLED = True
WAGTAIL_CONTENT_LANGUAGES = LANGUAGES
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
WAGTAILDOCS_EXTENSIONS = ["csv", "docx", "odt", "pdf", "pptx", "txt", "xlsx"]
WAGTAILIMAGES_EXTENSIONS = ["gif", "jpg", "jpeg", "png", "webp"]

# The JSON API under /api/ (marketplace/api/, docs/api.md): read-only, JSON only, token or session
# authentication, paginated, filtered through the FilterSets the HTML pages use, errors always as JSON.
REST_FRAMEWORK = {
    # Token first: an unauthenticated request then gets 401 with `WWW-Authenticate: Token`, not 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_FILTER_BACKENDS": ["marketplace.api.filters.SelectorFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "marketplace.api.pagination.PagePagination",
    "PAGE_SIZE": 20,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "marketplace.api.exceptions.json_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Open Patent Licensing Marketplace API",
    "DESCRIPTION": "Read-only JSON API: public listings, declarations and the gazette; with a token, your "
                   "organisation's patents, licences, needs and statements; for the IP office, the statistics. "
                   "Money is integer fen (1 yuan = 100 fen) unless a field says yuan. See docs/api.md.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/",
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI and Redoc from our own static files (drf-spectacular-sidecar): nothing from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Only our API: Wagtail's admin API is DRF too, but it is not part of this one.
    "PREPROCESSING_HOOKS": ["marketplace.api.schema.only_public_api"],
    # Each query parameter's schema says what the server enforces (bounds, no empty values).
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums",
                             "marketplace.api.schema.declare_enforced_values"],
    # Several models have a `state` or `kind`; name each enum after what it is.
    "ENUM_NAME_OVERRIDES": {
        "FeeFormEnum": "licensing.models.FeeForm",
        "GradeEnum": "patents.models.Grade",
        "PatentKindEnum": "patents.models.PatentKind",
        "OrganisationKindEnum": "marketplace.parties.models.OrganisationKind",
        "DeclarationStateEnum": "licensing.models.DeclarationState",
        "PublicDeclarationStateEnum": ["filed", "announced", "withdrawal_filed", "withdrawn"],
        "LicenceStateEnum": "licensing.models.licences.LicenceState",
        "NeedStateEnum": ["open", "closed"],
        "GazetteEntryKindEnum": ["publication", "withdrawal"],
    },
}

# Payments: the real stripe library; STRIPE_API_BASE points it at the local stand-in (localstripe)
# in dev and tests, and is left empty in production.
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", default="")
STRIPE_PUBLISHABLE_KEY = env("STRIPE_PUBLISHABLE_KEY", default="")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_API_BASE = env("STRIPE_API_BASE", default="")
STRIPE_JS_URL = env("STRIPE_JS_URL", default="https://js.stripe.com/v3/")
# Seconds per request to Stripe, and retries of a failed connection (the library's own default is 80 s): a
# Stripe that stops answering must give the buyer a message before gunicorn's 30 s worker timeout kills the
# request, so 3 attempts x 8 s plus the library's back-off (~1.5 s) stay under it.
STRIPE_TIMEOUT = env.float("STRIPE_TIMEOUT", default=8.0)
STRIPE_MAX_NETWORK_RETRIES = env.int("STRIPE_MAX_NETWORK_RETRIES", default=2)
# The function licensing asks for the platform fee rate (percent) when a payment succeeds; the rate is stored
# on the payment. A setting rather than an argument because payments succeed inside licensing (webhook, the
# buyer's return), where no marketplace service is on the call stack to pass it in; a setting rather than an
# import because licensing sits below the marketplace and the CMS.
PLATFORM_FEE_RATE_PROVIDER = "marketplace.fees.selectors.current_platform_fee_rate"
# Who hears, inside the same transaction, that patents, licences or organisations changed: the marketplace keeps
# the listings' search documents (and cached pages) in step with them (marketplace/parties/listeners.py).
# The IP office's statistics facts (marketplace.office.facts, rebuilt for the patents concerned) and then its
# cached dashboards (marketplace.office.cache) hear of declarations, licences, payments, grades and holders.
STATISTICS_LISTENERS = ["marketplace.office.facts.statistics_facts_changed", "marketplace.office.cache.statistics_changed"]
PATENT_CHANGE_LISTENERS = ["marketplace.search.documents.listing_documents_patents_changed",
                           "marketplace.listings.cache.listing_cache_patents_changed",
                           "marketplace.matching.services.matching_index_patents_changed",
                           *STATISTICS_LISTENERS,
                           # An art. 86 situation arising on a declared patent prompts a withdrawal.
                           "licensing.declarations.situations.declared_patents_changed"]
LICENCE_CHANGE_LISTENERS = ["marketplace.search.documents.listing_documents_licences_changed",
                            "marketplace.listings.cache.listing_cache_invalidate",
                            *STATISTICS_LISTENERS]
ORGANISATION_CHANGE_LISTENERS = ["marketplace.search.documents.listing_documents_holders_changed",
                                 "marketplace.listings.cache.listing_cache_holders_changed",
                                 *STATISTICS_LISTENERS]
DECLARATION_CHANGE_LISTENERS = [*STATISTICS_LISTENERS]
PAYMENT_CHANGE_LISTENERS = [*STATISTICS_LISTENERS]
VOUCHER_CHANGE_LISTENERS = [*STATISTICS_LISTENERS]

# The audit log (marketplace/audit): django-auditlog records the changes; the client address is not kept (behind
# a proxy it would come from a header anyone can set, and it is personal data the log does not need).
AUDITLOG_DISABLE_REMOTE_ADDR = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="WARNING")},
}
