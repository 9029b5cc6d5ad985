"""URLs of the certificate pages; included by marketplace/urls.py."""

from django.urls import path

from licensing.certificates import views as certificate_views

urlpatterns = [
    path("licences/<int:pk>/certificate/", certificate_views.licence_certificate, name="licence_certificate"),
    path("licences/<int:pk>/certificate.pdf", certificate_views.licence_certificate_pdf,
         name="licence_certificate_pdf"),
    path("verify/", certificate_views.certificate_verify, name="certificate_verify"),
    path("verify/<str:number>/", certificate_views.certificate_verify_number, name="certificate_verify_number"),
]
