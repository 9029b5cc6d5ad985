from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from licensing.payments.webhooks import stripe_webhook
from marketplace import views
from marketplace.api import token_views as api_token_views

# Outside the language prefix: machine endpoints and the admin.
urlpatterns = [
    path("django-admin/", admin.site.urls),
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    path("i18n/", include("django.conf.urls.i18n")),
    path("healthz", views.healthz, name="healthz"),
    path("stripe/webhook/", stripe_webhook, name="stripe_webhook"),
    # The JSON API and its OpenAPI schema and docs (marketplace/api/, docs/api.md).
    path("api/", include("marketplace.api.urls")),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

# People's pages live under /zh-hans/ and /en/; "/" redirects by the browser's language. Each feature package
# has its own urls.py, included here once.
urlpatterns += i18n_patterns(
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/api-token/", api_token_views.api_token, name="api_token"),
    path("", include("marketplace.parties.urls")),
    path("", include("patents.inventory.urls")),
    path("navigation/", include("patents.navigation.urls")),
    # Publishing and withdrawing also list and unlist the patent, so these are the marketplace's views.
    path("", include("marketplace.listings.urls")),
    path("", include("licensing.declarations.urls")),
    path("", include("licensing.licences.urls")),
    path("", include("licensing.certificates.urls")),
    path("", include("licensing.recording.urls")),
    path("", include("licensing.royalties.urls")),
    path("", include("licensing.vouchers.urls")),
    path("", include("licensing.ledger.urls")),
    path("", include("marketplace.search.urls")),
    path("", include("marketplace.saved_searches.urls")),
    path("", include("marketplace.needs.urls")),
    path("", include("marketplace.matching.urls")),
    path("", include("marketplace.office.urls")),
    path("", include("marketplace.scheduling.urls")),
    path("", include("marketplace.pools.urls")),
    path("", include("marketplace.audit.urls")),
    # Wagtail serves every other path (home page, content pages, later the listings); keep it last.
    path("", include(wagtail_urls)),
    prefix_default_language=True,
)
