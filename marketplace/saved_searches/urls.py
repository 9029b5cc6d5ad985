"""URLs of the saved-search pages; included by marketplace/urls.py."""

from django.urls import path

from marketplace.saved_searches import views as saved_search_views

urlpatterns: list = [
    path("searches/saved/", saved_search_views.saved_search_list, name="saved_search_list"),
    path("searches/saved/new/", saved_search_views.saved_search_new, name="saved_search_new"),
    path("searches/saved/<int:pk>/delete/", saved_search_views.saved_search_delete, name="saved_search_delete"),
    path("listings/<int:pk>/save/", saved_search_views.listing_save, name="listing_save"),
    path("listings/<int:pk>/unsave/", saved_search_views.listing_unsave, name="listing_unsave"),
]
