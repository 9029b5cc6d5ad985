"""URLs of the statement pages and the refund / termination actions; included by marketplace/urls.py."""

from django.urls import path

from licensing.ledger import views as statement_views

urlpatterns: list = [
    path("statements/", statement_views.statement_index, name="statement_index"),
    path("statements/organisations/<slug:slug>/", statement_views.statement_organisation,
         name="statement_organisation"),
    path("licences/<int:pk>/statement/", statement_views.statement_licence, name="statement_licence"),
    path("licences/<int:pk>/refund/", statement_views.licence_refund, name="licence_refund"),
    path("licences/<int:pk>/terminate/", statement_views.licence_terminate, name="licence_terminate"),
]
