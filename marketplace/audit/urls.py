"""URLs of the audit log; included by marketplace/urls.py."""

from django.urls import path

from marketplace.audit import views as audit_views

urlpatterns: list = [
    path("audit/", audit_views.audit_log, name="audit_log"),
]
