# Included by marketplace/urls.py under "navigation/": these paths are relative to it.
from django.urls import path, re_path

from patents.navigation import views as views_navigation

urlpatterns = [
    path("", views_navigation.navigation_platform, name="navigation_platform"),
    re_path(r"^export\.(?P<fmt>csv|xlsx)$", views_navigation.navigation_platform_export,
            name="navigation_platform_export"),
    path("<slug:slug>/", views_navigation.navigation_holder, name="navigation_holder"),
    re_path(r"^(?P<slug>[-a-zA-Z0-9_]+)/export\.(?P<fmt>csv|xlsx)$", views_navigation.navigation_holder_export,
            name="navigation_holder_export"),
]
