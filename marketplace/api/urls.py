"""URLs of the JSON API, mounted at /api/ outside the language prefix (the caller's Accept-Language picks
the language of labels). New resources (the IP office's pools) go next to the others."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from marketplace.api import views

app_name = "api"

urlpatterns = [
    path("", views.ApiRoot.as_view(), name="root"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file: the Content-Security-Policy refuses inline script.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api:schema", template_name="api/redoc.html"), name="redoc"),
    # Public.
    path("listings/", views.ListingList.as_view(), name="listings"),
    path("declarations/", views.DeclarationList.as_view(), name="declarations"),
    path("declarations/<int:pk>/", views.DeclarationDetail.as_view(), name="declaration"),
    path("gazette/", views.GazetteList.as_view(), name="gazette"),
    # A token (or a session): the caller's own organisations.
    path("patents/", views.PatentList.as_view(), name="patents"),
    path("licences/", views.LicenceList.as_view(), name="licences"),
    path("licences/<int:pk>/", views.LicenceDetail.as_view(), name="licence"),
    path("needs/", views.NeedList.as_view(), name="needs"),
    path("statements/", views.StatementOrganisationList.as_view(), name="statements"),
    path("statements/<slug:slug>/", views.StatementDetail.as_view(), name="statement"),
    # The IP office.
    path("statistics/", views.Statistics.as_view(), name="statistics"),
    path("statistics/breakdown/", views.StatisticsBreakdown.as_view(), name="statistics_breakdown"),
    path("statistics/declarations/", views.StatisticsDeclarations.as_view(), name="statistics_declarations"),
    # Keep last: every other address under /api/ is a JSON 404, including one with a newline (%0A) in it,
    # which `.` alone does not match (it fell through to Django's HTML 404).
    re_path(r"^[\s\S]*$", views.not_found, name="not_found"),
]
