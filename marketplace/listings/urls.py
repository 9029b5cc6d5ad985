"""Declaring, filing at CNIPA and withdrawing: filing also lists the patent and the withdrawal unlists it, so
these are the marketplace's views. Included by marketplace/urls.py before licensing's declaration pages."""

from django.urls import path

from marketplace.listings import views

urlpatterns = [
    path("declarations/new/", views.declare, name="declare"),
    path("declarations/<int:pk>/file/", views.declaration_file, name="declaration_file"),
    path("declarations/<int:pk>/withdraw/", views.declaration_file_withdrawal, name="declaration_file_withdrawal"),
]
