"""URLs of the background work's page; included by marketplace/urls.py."""

from django.urls import path

from marketplace.scheduling import views

urlpatterns: list = [
    path("office/tasks/", views.background_tasks, name="office_tasks"),
]
