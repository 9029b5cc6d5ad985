"""URLs of the royalty pages; included by marketplace/urls.py."""

from django.urls import path

from licensing.royalties import views as royalty_views

urlpatterns = [
    path("licences/<int:pk>/royalties/", royalty_views.royalty_reports, name="royalty_reports"),
    path("royalty-invoices/<int:pk>/", royalty_views.royalty_invoice, name="royalty_invoice"),
    path("royalty-invoices/<int:pk>/pay/", royalty_views.royalty_invoice_pay, name="royalty_invoice_pay"),
    path("royalty-invoices/<int:pk>/return/", royalty_views.royalty_invoice_return, name="royalty_invoice_return"),
    path("royalties/arrears/", royalty_views.royalty_arrears, name="royalty_arrears"),
]
