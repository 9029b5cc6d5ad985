"""URLs of the voucher pages; included by licensing/urls.py."""

urlpatterns: list = []
