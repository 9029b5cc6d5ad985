"""URLs of the search pages; included by marketplace/urls.py."""

urlpatterns: list = []
