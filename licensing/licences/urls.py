from django.urls import path

from licensing.licences import views

urlpatterns = [
    path("declarations/<int:pk>/licence/", views.licence_take, name="licence_take"),
    path("licences/", views.licence_list, name="licence_list"),
    path("licences/<int:pk>/", views.licence_detail, name="licence_detail"),
    path("licences/<int:pk>/pay/", views.licence_pay, name="licence_pay"),
    path("licences/<int:pk>/return/", views.licence_return, name="licence_return"),
    path("licences/<int:pk>/cancel/", views.licence_cancel, name="licence_cancel"),
]
