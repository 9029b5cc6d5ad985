"""The API's endpoints: each parses the query string, calls the selector its HTML page calls, and
serialises. Permissions are checked here (DRF permission classes) and by the selectors' own scoping."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.urls import Resolver404, resolve, reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django_filters.utils import translate_validation
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, generics, serializers
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from licensing.declarations import selectors as licensing_selectors
from licensing.ledger import statements
from licensing.licences.selectors import licences_visible_to
from licensing.models import Declaration, FeeForm, GazetteEntry
from licensing.models.licences import Licence
from marketplace.api import selectors
from marketplace.api.filters import DeclarationFilter, LicenceFilter, refuse_unusable_parameters
from marketplace.api.pagination import PagePagination, page_number
from marketplace.api.permissions import IsIPOffice
from marketplace.api.serializers import (
    BreakdownRowSerializer,
    DeclarationSerializer,
    DrillRowSerializer,
    ErrorSerializer,
    FacetValueSerializer,
    GazetteEntrySerializer,
    LicenceSerializer,
    ListingHitSerializer,
    NeedSerializer,
    PatentSerializer,
    PeriodSerializer,
    StatementLineSerializer,
    StatementOrganisationSerializer,
    StatementSummarySerializer,
    StatisticsSerializer,
)
from marketplace.models import ListingDocument, Need
from marketplace.needs import services as needs
from marketplace.office import selectors as office
from marketplace.office.statistics import DIMENSIONS
from marketplace.parties.models import Organisation, OrganisationKind
from marketplace.search.selectors import FACETS, ListingFilter, listing_queryset, listing_search
from patents.inventory import selectors as patent_selectors
from patents.inventory.fields import FIELDS, SECTORS
from patents.models import Grade, Patent


def _errors(*codes: int) -> dict:
    """The error answers of an operation. Every operation may answer 400 (a parameter given empty, or out of
    its bounds) and 401 (a token that is wrong or revoked, even on a public endpoint)."""
    described = {400: "Invalid query parameter, or one given empty (the body names it and why).",
                 401: "No or invalid token.", 403: "Outside your scope.", 404: "Not found or not yours."}
    return {code: OpenApiResponse(ErrorSerializer, description=described[code]) for code in sorted({400, 401, *codes})}


class StrictQuery:
    """Every endpoint refuses a query parameter given with an empty value (``?state=``) or a NUL character,
    after authentication (so 401/403 still come first): the schema declares no parameter as allowed empty, and
    "empty" would have to mean either "any" or "the empty string"; a client that means "any" leaves the
    parameter out."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        refuse_unusable_parameters(request.query_params)


def _language() -> str:
    return get_language() or "zh-hans"


# --------------------------------------------------------------------------------------------- public


FACET_VALUE_SCHEMA = {
    "type": "object", "required": ["value", "label", "count", "selected"],
    "properties": {"value": {"type": "string"}, "label": {"type": "string"}, "count": {"type": "integer"},
                   "selected": {"type": "boolean"}},
}


class ListingPagination(PagePagination):
    """The search's own page, with the sort applied and the facet counts next to the hits."""

    def get_paginated_response_schema(self, schema):
        envelope = super().get_paginated_response_schema(schema)
        envelope["required"] = [*envelope["required"], "sort", "facets"]
        envelope["properties"]["sort"] = {"type": "string", "enum": ["relevance", "newest", "price", "life"]}
        envelope["properties"]["facets"] = {
            "type": "object", "description": "Facet name → its values with counts over the other filters.",
            "properties": {name: {"type": "array", "items": FACET_VALUE_SCHEMA} for name in FACETS}}
        return envelope


@extend_schema(tags=["public"], summary="Search listings",
               description="Full text (`q`, Chinese segmented as on the search page) and every facet of the "
                           "search page; relevance order when there is a query, newest first otherwise. "
                           "The same query string gives the same listings as `/<lang>/search/`.",
               responses={200: ListingHitSerializer(many=True), **_errors(400, 404)})
class ListingList(StrictQuery, generics.ListAPIView):
    permission_classes = [AllowAny]
    serializer_class = ListingHitSerializer
    pagination_class = ListingPagination
    filterset_class = ListingFilter
    queryset = ListingDocument.objects.none()  # the model, for the schema; the selector makes the query

    def list(self, request, *args, **kwargs):
        params = request.query_params
        filterset = ListingFilter(params, queryset=listing_queryset())
        if not filterset.is_valid():  # the page ignores bad facet values; the API names them
            raise translate_validation(filterset.errors)
        paginator = self.paginator
        per_page = paginator.get_page_size(request)
        number = page_number(params.get("page"))
        result = listing_search(data=params, language=_language(), page=number, per_page=per_page)
        if number > max(result.num_pages, 1):
            raise exceptions.NotFound(_("Invalid page."))
        following, preceding = paginator.page_links(request, result.page_number, result.num_pages)
        return Response({
            **paginator.envelope(count=result.total, number=result.page_number, num_pages=result.num_pages,
                                 page_size=per_page, following=following, preceding=preceding,
                                 results=ListingHitSerializer(result.hits, many=True).data),
            "sort": result.sort,
            "facets": {name: FacetValueSerializer(values, many=True).data for name, values in result.facets.items()},
        })


@extend_schema(tags=["public"], summary="Open-licence declarations",
               description="Published and withdrawn declarations (drafts are never public), newest first, "
                           "filtered like the IP office's figures.", responses={200: DeclarationSerializer, **_errors(400, 404)})
class DeclarationList(StrictQuery, generics.ListAPIView):
    permission_classes = [AllowAny]
    serializer_class = DeclarationSerializer
    filterset_class = DeclarationFilter
    queryset = Declaration.objects.none()

    def get_queryset(self):
        return selectors.public_declarations()


@extend_schema(tags=["public"], summary="One declaration", responses={200: DeclarationSerializer, **_errors(404)})
class DeclarationDetail(StrictQuery, generics.RetrieveAPIView):
    permission_classes = [AllowAny]
    serializer_class = DeclarationSerializer
    queryset = Declaration.objects.none()

    def get_queryset(self):
        return selectors.public_declarations()


@extend_schema(tags=["public"], summary="The gazette",
               description="Announcements of declarations and withdrawals, newest first, with the gazette "
                           "page's filters.", responses={200: GazetteEntrySerializer, **_errors(400, 404)})
class GazetteList(StrictQuery, generics.ListAPIView):
    permission_classes = [AllowAny]
    serializer_class = GazetteEntrySerializer
    filterset_class = licensing_selectors.GazetteFilter
    queryset = GazetteEntry.objects.none()

    def filterset_for(self, params):
        return licensing_selectors.gazette(params=params)


# ------------------------------------------------------------------------------------- own organisation

HOLDER_PARAMETER = OpenApiParameter(
    "holder", OpenApiTypes.STR, description="Slug of the holder organisation (default: your first one). The "
                                            "IP office may name any holder.")


@extend_schema(tags=["organisation"], summary="Your holder's patents (the portfolio)",
               parameters=[HOLDER_PARAMETER], responses={200: PatentSerializer, **_errors(400, 401, 403, 404)})
class PatentList(StrictQuery, generics.ListAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = PatentSerializer
    filterset_class = patent_selectors.PortfolioFilter
    queryset = Patent.objects.none()

    def holder(self) -> Organisation:
        """Like the portfolio page: ?holder=slug, else the user's first holder; members and the IP office
        only."""
        slug = self.request.query_params.get("holder")
        user = self.request.user
        if slug:
            holder = get_object_or_404(Organisation, slug=slug, is_holder=True)
        else:
            holder = patent_selectors.holder_organisations_for(user=user).first()
            if holder is None:
                raise exceptions.PermissionDenied(_("You are not a member of a patent-holder organisation."))
        if not patent_selectors.user_can_view_inventory(user=user, holder=holder):
            raise exceptions.PermissionDenied(_("You may only read the patents of your own organisation."))
        return holder

    def filterset_for(self, params):
        return patent_selectors.portfolio_list(holder=self.holder(), params=params)


@extend_schema(tags=["organisation"], summary="Licences your organisations took or granted",
               description="The IP office sees every licence (read-only).",
               responses={200: LicenceSerializer, **_errors(400, 401, 404)})
class LicenceList(StrictQuery, generics.ListAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = LicenceSerializer
    filterset_class = LicenceFilter
    queryset = Licence.objects.none()

    def filterset_for(self, params):
        user = self.request.user
        return LicenceFilter(params, queryset=licences_visible_to(user=user), user=user)


@extend_schema(tags=["organisation"], summary="One licence", responses={200: LicenceSerializer, **_errors(401, 404)})
class LicenceDetail(StrictQuery, generics.RetrieveAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = LicenceSerializer
    queryset = Licence.objects.none()

    def get_queryset(self):
        return licences_visible_to(user=self.request.user)


@extend_schema(tags=["organisation"], summary="Your licensee organisations' needs, with proposals",
               responses={200: NeedSerializer, **_errors(400, 401, 403, 404)})
class NeedList(StrictQuery, generics.ListAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = NeedSerializer
    filterset_class = needs.NeedFilter
    queryset = Need.objects.none()

    def filterset_for(self, params):
        organisations = needs.user_licensee_organisations(user=self.request.user)
        if not organisations.exists():
            raise exceptions.PermissionDenied(_("Only members of a licensee organisation have needs."))
        return needs.NeedFilter(params, queryset=needs.needs_of_organisations(organisations=organisations))


@extend_schema(tags=["organisation"], summary="Organisations whose statements you may read",
               responses={200: StatementOrganisationSerializer, **_errors(401, 404)})
class StatementOrganisationList(StrictQuery, generics.ListAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = StatementOrganisationSerializer
    filter_backends: list = []
    queryset = Organisation.objects.none()

    def get_queryset(self):
        return statements.statement_organisations_for_user(user=self.request.user)


class StatementPage(serializers.Serializer):
    count = serializers.IntegerField()
    page = serializers.IntegerField()
    num_pages = serializers.IntegerField()
    page_size = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    statement = StatementSummarySerializer()
    results = StatementLineSerializer(many=True)


@extend_schema(tags=["organisation"], summary="An organisation's ledger statement",
               description="Every ledger line of the organisation's licences from one side, oldest first, with "
                           "a running balance (fen). Members of the organisation and the IP office only.",
               parameters=[OpenApiParameter("view", OpenApiTypes.STR, enum=[p.value for p in statements.Perspective],
                                            description="holder (owed to the holder) or licensee (paid by the "
                                                        "licensee); default: the organisation's first role."),
                           OpenApiParameter("page", OpenApiTypes.INT), OpenApiParameter("page_size", OpenApiTypes.INT)],
               responses={200: StatementPage, **_errors(400, 401, 403, 404)})
class StatementDetail(StrictQuery, APIView):
    permission_classes = [IsAuthenticated]

    def get(self, request, slug):
        organisation = get_object_or_404(Organisation, slug=slug)
        if not statements.user_can_view_organisation_statement(user=request.user, organisation=organisation):
            raise exceptions.PermissionDenied(_("Statements are shown to the organisation's members and the IP office."))
        allowed = statements.perspectives_for_organisation(organisation=organisation)
        view = request.query_params.get("view") or allowed[0]
        if view not in allowed:
            raise exceptions.ValidationError({"view": [_("Choose one of: %(choices)s.") % {
                "choices": ", ".join(str(p.value) for p in allowed)}]})
        statement = statements.organisation_statement(organisation=organisation, perspective=view)
        paginator = PagePagination()
        lines = paginator.paginate_queryset(statement.lines, request, view=self)
        return paginator.get_paginated_response(StatementLineSerializer(lines, many=True).data,
                                                statement=StatementSummarySerializer(statement).data)


# ------------------------------------------------------------------------------------------ IP office

STATISTICS_PARAMETERS = [
    OpenApiParameter("first", OpenApiTypes.STR, description="First month, YYYY-MM (default: 11 months before last)."),
    OpenApiParameter("last", OpenApiTypes.STR, description="Last month, YYYY-MM (default: this month)."),
    OpenApiParameter("days", OpenApiTypes.INT, description="A quick licence is one within this many days "
                                                           "(default QUICK_LICENCE_DAYS, 90)."),
    OpenApiParameter("technology_field", OpenApiTypes.INT, enum=[f.number for f in FIELDS]),
    OpenApiParameter("sector", OpenApiTypes.STR, enum=[s.key for s in SECTORS]),
    OpenApiParameter("holder_kind", OpenApiTypes.STR,
                     enum=[c for c, _label in OrganisationKind.choices if c != OrganisationKind.IP_OFFICE]),
    OpenApiParameter("fee_form", OpenApiTypes.STR, enum=list(FeeForm.values)),
    OpenApiParameter("grade", OpenApiTypes.STR, enum=list(Grade.values)),
    OpenApiParameter("region", OpenApiTypes.STR, description="Holder's province, e.g. 北京市."),
]
BY_PARAMETER = OpenApiParameter("by", OpenApiTypes.STR, enum=DIMENSIONS, description="Default technology_field.")
PAGE_PARAMETERS = [OpenApiParameter("page", OpenApiTypes.INT), OpenApiParameter("page_size", OpenApiTypes.INT)]


def _board_or_400(board) -> None:
    """The dashboard's own forms decide what is valid; their errors become a 400 naming each field."""
    if board.valid:
        return
    errors = {**board.period_form.errors.get_json_data(), **(board.filterset.errors.get_json_data()
                                                              if board.filterset.is_bound else {})}
    raise exceptions.ValidationError({name: [e["message"] for e in found] for name, found in errors.items()})


def _period(board) -> dict:
    cleaned = board.period_form.cleaned_data
    return {"first": f"{cleaned['first']:%Y-%m}", "last": f"{cleaned['last']:%Y-%m}",
            "start": board.period.start, "end": board.period.end}


class IPOfficeView(StrictQuery, APIView):
    permission_classes = [IsIPOffice]


@extend_schema(tags=["ip-office"], summary="Every indicator for a period, and the monthly trend",
               parameters=STATISTICS_PARAMETERS, responses={200: StatisticsSerializer, **_errors(400, 401, 403)})
class Statistics(IPOfficeView):
    def get(self, request):
        board = office.dashboard(params=request.query_params)
        _board_or_400(board)
        return Response(StatisticsSerializer({
            "period": _period(board), "narrowed": bool(board.filterset.is_bound and board.filterset.narrowed),
            "figures": board.figures, "trend": board.trend}).data)


class BreakdownPage(serializers.Serializer):
    count = serializers.IntegerField()
    page = serializers.IntegerField()
    num_pages = serializers.IntegerField()
    page_size = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    by = serializers.ChoiceField(choices=DIMENSIONS)
    period = PeriodSerializer()
    results = BreakdownRowSerializer(many=True)


@extend_schema(tags=["ip-office"], summary="The indicators broken down by one dimension",
               parameters=[*STATISTICS_PARAMETERS, BY_PARAMETER, *PAGE_PARAMETERS],
               responses={200: BreakdownPage, **_errors(400, 401, 403, 404)})
class StatisticsBreakdown(IPOfficeView):
    def get(self, request):
        board = office.dashboard(params=request.query_params)
        _board_or_400(board)
        paginator = PagePagination()
        rows = paginator.paginate_queryset(board.breakdown, request, view=self)
        return paginator.get_paginated_response(BreakdownRowSerializer(rows, many=True).data, by=board.by,
                                                period=_period(board))


class DrillPage(serializers.Serializer):
    count = serializers.IntegerField()
    page = serializers.IntegerField()
    num_pages = serializers.IntegerField()
    page_size = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = DrillRowSerializer(many=True)


@extend_schema(tags=["ip-office"], summary="The declarations behind the figures (drill-down)",
               parameters=[*STATISTICS_PARAMETERS, *PAGE_PARAMETERS],
               responses={200: DrillPage, **_errors(400, 401, 403, 404)})
class StatisticsDeclarations(IPOfficeView):
    def get(self, request):
        board, rows = office.drill_down(params=request.query_params)
        _board_or_400(board)
        paginator = PagePagination()
        page = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response(DrillRowSerializer(page, many=True).data)


# --------------------------------------------------------------------------------------------- misc

ROOT_ENDPOINTS = ["listings", "declarations", "gazette", "patents", "licences", "needs", "statements", "statistics",
                  "statistics_breakdown", "statistics_declarations", "schema", "docs", "redoc"]


class ApiRootSerializer(serializers.Serializer):
    endpoints = serializers.DictField(child=serializers.CharField(), help_text="Name → absolute URL.")
    token_page = serializers.CharField(help_text="Where a signed-in user makes an API token.")
    documentation = serializers.CharField()


@extend_schema(tags=["public"], summary="Where everything is", responses={200: ApiRootSerializer, **_errors()})
class ApiRoot(StrictQuery, APIView):
    permission_classes = [AllowAny]

    def get(self, request):
        return Response(ApiRootSerializer({
            "endpoints": {name: request.build_absolute_uri(reverse(f"api:{name}")) for name in ROOT_ENDPOINTS},
            "token_page": request.build_absolute_uri(reverse("api_token")),
            "documentation": request.build_absolute_uri(reverse("api:docs")),
        }).data)



@extend_schema(exclude=True)
@api_view(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
@permission_classes([AllowAny])
def not_found(request, *args, **kwargs):
    """Anything else under /api/: a JSON 404 (naming the slash when that is all that is missing)."""
    if not request.path.endswith("/"):
        try:
            match = resolve(request.path + "/")
        except Resolver404:
            match = None
        if match is not None and match.url_name != "not_found":
            raise exceptions.NotFound(_("API addresses end with a slash: %(path)s") % {"path": request.path + "/"})
    raise exceptions.NotFound(_("There is no API endpoint at %(path)s; see /api/docs/.") % {"path": request.path})

