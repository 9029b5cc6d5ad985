from django.urls import path

from licensing.declarations import feeds, views

urlpatterns = [
    path("declarations/", views.declaration_list, name="declaration_list"),
    path("declarations/<int:pk>/", views.declaration_detail, name="declaration_detail"),
    path("declarations/<int:pk>/document.<str:fmt>", views.declaration_document, name="declaration_document"),
    path("declarations/<int:pk>/discard/", views.declaration_discard, name="declaration_discard"),
    path("declarations/<int:pk>/consents/", views.consent_add, name="consent_add"),
    path("gazette/", views.gazette, name="gazette"),
    path("gazette/feed/", feeds.GazetteFeed(), name="gazette_feed"),
]
