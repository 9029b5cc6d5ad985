"""URLs of the recording pages; included by marketplace/urls.py."""

from django.urls import path, re_path

from licensing.recording import views as recording_views

urlpatterns = [
    path("recordings/", recording_views.recording_list, name="recording_list"),
    re_path(r"^recordings/export\.(?P<fmt>csv|xlsx)$", recording_views.recording_export, name="recording_export"),
    path("licences/<int:pk>/recording/", recording_views.licence_recording, name="licence_recording"),
    re_path(r"^licences/(?P<pk>[0-9]+)/recording\.(?P<fmt>csv|xlsx)$", recording_views.licence_recording_export,
            name="licence_recording_export"),
]
