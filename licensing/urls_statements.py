"""URLs of the statement pages; included by licensing/urls.py."""

urlpatterns: list = []
