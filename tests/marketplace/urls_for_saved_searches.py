"""The project's URLs plus the saved-search pages (before Wagtail's catch-all), for tests that run before
marketplace/urls.py includes marketplace.saved_searches.urls."""

from django.conf.urls.i18n import i18n_patterns
from django.urls import include, path

from marketplace.urls import urlpatterns as project_urlpatterns

urlpatterns = [
    *i18n_patterns(path("", include("marketplace.saved_searches.urls")), prefix_default_language=True),
    *project_urlpatterns,
]
