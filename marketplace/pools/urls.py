"""URLs of the IP office's securitization pool builder; included by marketplace/urls.py."""

from django.urls import path

from marketplace.pools import views as pool_views

urlpatterns: list = [
    path("office/pools/", pool_views.pool_list, name="pool_list"),
    path("office/pools/new/", pool_views.pool_new, name="pool_new"),
    path("office/pools/<int:pk>/", pool_views.pool_detail, name="pool_detail"),
    path("office/pools/<int:pk>/freeze/", pool_views.pool_freeze, name="pool_freeze"),
    path("office/pools/<int:pk>/export/<str:fmt>/", pool_views.pool_export, name="pool_export"),
    path("office/pools/exports/<int:pk>/", pool_views.pool_export_status, name="pool_export_status"),
    path("office/pools/exports/<int:pk>/download/", pool_views.pool_export_download, name="pool_export_download"),
]
