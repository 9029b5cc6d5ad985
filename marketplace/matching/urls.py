"""URLs of the matching pages; included by marketplace/urls.py."""

from django.urls import path

from marketplace.matching import views as match_views

urlpatterns: list = [
    path("needs/<int:pk>/matches/", match_views.need_matches, name="need_matches"),
    path("declarations/<int:pk>/needs/", match_views.declaration_needs, name="declaration_needs"),
]
