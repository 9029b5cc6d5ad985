"""Declaring, publishing and withdrawing: publishing also lists the patent and withdrawing unlists it, so
these are the marketplace's views. Included by marketplace/urls.py before licensing's declaration pages."""

from django.urls import path

from marketplace.listings import views

urlpatterns = [
    path("declarations/new/", views.declare, name="declare"),
    path("declarations/<int:pk>/publish/", views.declaration_publish, name="declaration_publish"),
    path("declarations/<int:pk>/withdraw/", views.declaration_withdraw, name="declaration_withdraw"),
]
