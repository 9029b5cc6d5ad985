"""URLs of the needs pages; included by marketplace/urls.py."""

urlpatterns: list = []
