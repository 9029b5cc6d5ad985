"""URLs of the search pages; included by marketplace/urls.py."""

from django.urls import path

from marketplace.search import views as search_views

urlpatterns: list = [
    path("search/", search_views.listing_search_page, name="listing_search"),
    path("api/listings/", search_views.api_listings, name="api_listings"),
]
