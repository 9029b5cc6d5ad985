"""URLs of the voucher pages; included by marketplace/urls.py."""

from django.urls import path

from licensing.vouchers import views as voucher_views

urlpatterns: list = [
    path("vouchers/", voucher_views.voucher_list, name="voucher_list"),
    path("vouchers/issue/", voucher_views.voucher_issue, name="voucher_issue"),
]
