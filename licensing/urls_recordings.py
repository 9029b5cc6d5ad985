"""URLs of the recording pages; included by licensing/urls.py."""

urlpatterns: list = []
