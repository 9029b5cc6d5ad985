"""URLs of the needs pages; included by marketplace/urls.py."""

from django.urls import path

from marketplace.needs import views as need_views

urlpatterns: list = [
    path("needs/", need_views.need_board, name="need_board"),
    path("needs/new/", need_views.need_new, name="need_new"),
    path("needs/mine/", need_views.need_mine, name="need_mine"),
    path("needs/<int:pk>/", need_views.need_detail, name="need_detail"),
    path("needs/<int:pk>/propose/", need_views.need_propose, name="need_propose"),
    path("needs/<int:pk>/close/", need_views.need_close, name="need_close"),
]
