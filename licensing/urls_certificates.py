"""URLs of the certificate pages; included by licensing/urls.py."""

urlpatterns: list = []
