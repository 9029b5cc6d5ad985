"""URLs of the IP office's pages; included by marketplace/urls.py."""

from django.urls import path

from marketplace.office import views as office_views

urlpatterns: list = [
    path("office/statistics/", office_views.statistics_dashboard, name="office_statistics"),
    path("office/statistics/declarations/", office_views.statistics_declarations, name="office_statistics_declarations"),
]
