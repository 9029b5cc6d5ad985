from django.urls import include, path

from licensing import feeds, licence_views, views

urlpatterns = [
    path("declarations/", views.declaration_list, name="declaration_list"),
    path("declarations/<int:pk>/", views.declaration_detail, name="declaration_detail"),
    path("declarations/<int:pk>/discard/", views.declaration_discard, name="declaration_discard"),
    path("declarations/<int:pk>/consents/", views.consent_add, name="consent_add"),
    path("declarations/<int:pk>/licence/", licence_views.licence_take, name="licence_take"),
    path("licences/", licence_views.licence_list, name="licence_list"),
    path("licences/<int:pk>/", licence_views.licence_detail, name="licence_detail"),
    path("licences/<int:pk>/pay/", licence_views.licence_pay, name="licence_pay"),
    path("licences/<int:pk>/return/", licence_views.licence_return, name="licence_return"),
    path("licences/<int:pk>/cancel/", licence_views.licence_cancel, name="licence_cancel"),
    path("", include("licensing.urls_certificates")),
    path("", include("licensing.urls_recordings")),
    path("", include("licensing.urls_royalties")),
    path("", include("licensing.urls_vouchers")),
    path("", include("licensing.urls_statements")),
    path("gazette/", views.gazette, name="gazette"),
    path("gazette/feed/", feeds.GazetteFeed(), name="gazette_feed"),
]
