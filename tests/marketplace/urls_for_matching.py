"""The project's URLs plus the matching pages (before Wagtail's catch-all), for tests that run before
marketplace/urls.py includes marketplace.matching.urls."""

from django.conf.urls.i18n import i18n_patterns
from django.urls import include, path

from marketplace.urls import urlpatterns as project_urlpatterns

urlpatterns = [
    *i18n_patterns(path("", include("marketplace.matching.urls")), prefix_default_language=True),
    *project_urlpatterns,
]
