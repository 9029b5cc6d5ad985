from django.urls import path, re_path

from patents.inventory import views

urlpatterns = [
    path("portfolio/", views.portfolio, name="portfolio"),
    re_path(r"^portfolio/export\.(?P<fmt>csv|xlsx)$", views.portfolio_export, name="portfolio_export"),
    path("portfolio/regrade/", views.portfolio_regrade, name="portfolio_regrade"),
    path("portfolio/patents/<int:pk>/", views.patent_detail, name="patent_detail"),
    path("portfolio/patents/<int:pk>/grade/", views.patent_grade, name="patent_grade"),
    path("portfolio/patents/<int:pk>/tags/", views.patent_tags, name="patent_tags"),
    path("portfolio/patents/<int:pk>/standing/", views.patent_standing, name="patent_standing"),
    path("portfolio/patents/<int:pk>/english/", views.patent_english, name="patent_english"),
    path("inventory/import/", views.inventory_upload, name="inventory_upload"),
    path("inventory/batches/", views.batch_list, name="batch_list"),
    path("inventory/batches/<int:pk>/", views.batch_detail, name="batch_detail"),
    path("inventory/batches/<int:pk>/status.json", views.batch_status, name="batch_status"),
    path("inventory/batches/<int:pk>/errors.csv", views.batch_error_report, name="batch_error_report"),
]
