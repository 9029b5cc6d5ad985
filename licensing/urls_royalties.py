"""URLs of the royalty pages; included by licensing/urls.py."""

urlpatterns: list = []
