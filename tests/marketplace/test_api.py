"""The JSON API through HTTP: every endpoint, pagination, filters giving what the HTML page gives for the same
query string, who sees what (anonymous, another organisation, one's own, the IP office), JSON errors, the API
token page, and every response checked against the OpenAPI schema the API publishes (itself validated)."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from openapi_core import OpenAPI
from openapi_core.contrib.django import DjangoOpenAPIRequest, DjangoOpenAPIResponse
from openapi_spec_validator import validate as validate_spec
from rest_framework.authtoken.models import Token

from licensing.models import DeclarationState, FeeForm
from marketplace.demo.seed import seed_pages
from marketplace.listings import services as listings
from marketplace.needs import services as needs
from tests.licensing import ledger_builders as build
from tests.licensing.factories import DeclarationFactory, declaration_withdraw, eligible_patent, holder_admin
from tests.marketplace.test_search import publish
from tests.marketplace.test_statistics import build_market as build_statistics_market
from tests.parties import factories as parties
from tests.parties.factories import IPOfficeFactory, MembershipFactory, OrganisationFactory
from tests.worlds import ModuleSettings, module_world

pytestmark = pytest.mark.django_db

ENDPOINTS = {
    "/api/", "/api/listings/", "/api/declarations/", "/api/declarations/{id}/", "/api/gazette/", "/api/patents/",
    "/api/licences/", "/api/licences/{id}/", "/api/needs/", "/api/statements/", "/api/statements/{slug}/",
    "/api/statistics/", "/api/statistics/breakdown/", "/api/statistics/declarations/",
}


# ------------------------------------------------------------------------------------------------ helpers


@pytest.fixture(scope="module")
def openapi(django_db_blocker):
    """The schema as the API serves it at /api/schema/, parsed for validating responses (once per module: it
    does not depend on the data)."""
    with django_db_blocker.unblock():
        response = Client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return OpenAPI.from_dict(json.loads(response.content))


class Api:
    """A test client that sends the token, if any, and checks every answer against the schema."""

    def __init__(self, client, openapi, token: str | None = None):
        self.client, self.openapi, self.token = client, openapi, token

    def get(self, path: str, params: dict | None = None, *, validate: bool = True, **headers):
        if self.token:
            headers.setdefault("HTTP_AUTHORIZATION", f"Token {self.token}")
        headers.setdefault("HTTP_ACCEPT_LANGUAGE", "en")  # messages in English; labels follow the caller
        response = self.client.get(path, params or {}, **headers)
        assert response["Content-Type"].startswith("application/json"), (path, response["Content-Type"])
        if validate:
            self.openapi.validate_response(DjangoOpenAPIRequest(response.wsgi_request), DjangoOpenAPIResponse(response))
        return response


@pytest.fixture
def api(client, openapi):
    return Api(client, openapi)


def api_for(client, openapi, user) -> Api:
    return Api(client, openapi, Token.objects.get_or_create(user=user)[0].key)


def member(organisation):
    return parties.member(organisation)


@pytest.fixture(scope="module")
def market(django_db_setup, django_db_blocker):
    """The market, built once for the module (tests/worlds.py): most tests only read it; the ones that write
    (tokens, more rows) do it in their own transaction, rolled back after each test."""
    settings = ModuleSettings()
    try:
        with module_world(django_db_blocker):
            yield build_market(settings)
    finally:
        settings.restore()


def build_market(settings):
    """Two holders with listings and unlisted patents, two licensees with a paid licence each, needs and the
    IP office."""
    seed_pages()  # the site tree the listing pages hang under
    settings.PLATFORM_FEE_RATE_PROVIDER = build.FEE_RATE_PROVIDER
    battery = publish(title="一种锂电池管理方法", abstract="通过监测电芯电压均衡锂电池组。",
                      holder_kwargs={"name_en": "Battery Institute of Technology", "province": "广东省"},
                      declaration_kwargs={"lump_sum_fen": 2_000_000})
    engine = publish(title="Exhaust gas recirculation valve for an engine", abstract="A valve.",
                     main_ipc="F02M 26/52", technology_field=27, holder_kwargs={"province": "上海市"},
                     declaration_kwargs={"lump_sum_fen": 50_000_000})
    drug = publish(title="一种抗肿瘤药物组合物", abstract="本发明涉及药物。", main_ipc="A61K 31/00", technology_field=16,
                   holder_kwargs={"province": "北京市"},
                   declaration_kwargs={"fee_form": FeeForm.ROYALTY, "lump_sum_fen": None, "royalty_base": "net_sales",
                                       "royalty_rate": "3.00"})
    holder_a, holder_b = battery.holder, engine.holder
    eligible_patent(holder=holder_a, title="一种电池外壳", grade_computed="B")
    eligible_patent(holder=holder_a, title="一种电池隔膜", grade_computed="A")
    draft = DeclarationFactory(patent=eligible_patent(holder=holder_b, title="草稿专利"), holder=holder_b)
    # CNIPA announced the engine's declaration and the drug's before its withdrawal: the gazette mirrors them.
    listings.declaration_record_announcement(declaration=engine, by=holder_admin(holder_b), cnipa_number="KFXK2026000101",
                                             announced_on=timezone.localdate())
    listings.declaration_record_announcement(declaration=drug, by=holder_admin(drug.holder),
                                             cnipa_number="KFXK2026000102", announced_on=timezone.localdate())
    declaration_withdraw(listings, declaration=drug, by=holder_admin(drug.holder), reason="专利权转让",
                         cnipa_number="CHXK2026000102")
    licensee_1, licensee_2 = OrganisationFactory(slug="licensee-one"), OrganisationFactory(slug="licensee-two")
    licence_1 = build.licence(licensee=licensee_1, declaration=battery, patent=battery.patent, licensor=holder_a)
    licence_2 = build.licence(licensee=licensee_2, declaration=engine, patent=engine.patent, licensor=holder_b)
    build.paid_payment(licence_1)
    build.paid_payment(licence_2)
    users = {"holder_a_user": member(holder_a), "holder_b_user": member(holder_b),
             "licensee_1_user": member(licensee_1), "licensee_2_user": member(licensee_2),
             "office": member(IPOfficeFactory())}
    need_1 = needs.need_post(organisation=licensee_1, by=users["licensee_1_user"], title="需要电池均衡技术",
                             description="用于储能系统的锂电池均衡。", technology_field=1)
    need_2 = needs.need_post(organisation=licensee_2, by=users["licensee_2_user"], title="需要发动机阀门",
                             description="A valve for trucks.", technology_field=27, public=False)
    return {"battery": battery, "engine": engine, "drug": drug, "draft": draft, "holder_a": holder_a,
            "holder_b": holder_b, "licensee_1": licensee_1, "licensee_2": licensee_2, "licence_1": licence_1,
            "licence_2": licence_2, "need_1": need_1, "need_2": need_2, **users}


def page_html(client, name, query: str, *, user=None):
    if user is not None:
        client.force_login(user)
    with translation.override("zh-hans"):
        response = client.get(reverse(name) + query)
    client.logout()
    assert response.status_code == 200
    return response


# ------------------------------------------------------------------------------------------------ the schema


def test_the_schema_is_valid_openapi_3_and_generates_without_warnings(client):
    schema = json.loads(client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").content)
    validate_spec(schema)
    assert schema["openapi"].startswith("3.")
    assert set(schema["paths"]) == ENDPOINTS
    assert {"tokenAuth", "cookieAuth"} <= set(schema["components"]["securitySchemes"])
    out = io.StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)  # raises on any warning
    assert "/api/listings/" in out.getvalue()


def test_the_docs_pages_use_local_assets_only(client):
    for path in ("/api/docs/", "/api/redoc/"):
        body = client.get(path).content.decode()
        assert "/static/drf_spectacular_sidecar/" in body
        assert "cdn" not in body.lower() and "https://" not in body


# ------------------------------------------------------------------------------------------------ public


def test_the_root_lists_every_endpoint(api):
    body = api.get("/api/").json()
    assert body["endpoints"]["listings"] == "http://testserver/api/listings/"
    assert {"/api" + path.split("/api", 1)[1] for path in body["endpoints"].values()} >= ENDPOINTS - {
        "/api/", "/api/declarations/{id}/", "/api/licences/{id}/", "/api/statements/{slug}/"}
    assert body["token_page"].endswith("/dashboard/api-token/")


@pytest.mark.parametrize("query", ["", "?q=电池", "?sector=electrical_engineering", "?sort=price", "?fee_form=lump_sum&sort=life",
                                   "?q=valve&licensed=yes", "?region=上海市", "?ipc=F02"])
def test_listings_give_what_the_search_page_gives_for_the_same_query_string(client, api, market, query):
    page = page_html(client, "listing_search", query).context["result"]
    body = api.get("/api/listings/" + query, HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    assert [hit["number"] for hit in body["results"]] == [hit.number for hit in page.hits]
    assert body["count"] == page.total and body["sort"] == page.sort
    assert {name: {v["value"]: v["count"] for v in values} for name, values in body["facets"].items()} == {
        name: {v.value: v.count for v in values} for name, values in page.facets.items()}


def test_listings_are_public_and_withdrawn_ones_are_gone(api, market):
    body = api.get("/api/listings/").json()
    numbers = {hit["number"] for hit in body["results"]}
    assert numbers == {market["battery"].patent.number, market["engine"].patent.number}
    battery = next(hit for hit in body["results"] if hit["number"] == market["battery"].patent.number)
    assert battery["fee"] == {"form": "lump_sum", "label": battery["fee"]["label"], "first_amount_due_yuan": 20_000,
                              "currency": "CNY"}


def test_listings_paginate_with_links_and_refuse_a_page_that_does_not_exist(api, market):
    first = api.get("/api/listings/", {"page_size": 1, "sort": "price"}).json()
    assert (first["count"], first["num_pages"], first["page"], first["previous"]) == (2, 2, 1, None)
    assert first["results"][0]["number"] == market["battery"].patent.number
    assert "page=2" in first["next"]
    second = api.get(first["next"].replace("http://testserver", "")).json()
    assert second["results"][0]["number"] == market["engine"].patent.number and second["next"] is None
    assert "page=" not in second["previous"]
    missing = api.get("/api/listings/", {"page": 9})
    assert missing.status_code == 404 and missing.json()["error"]["message"] == "Invalid page."
    too_big = api.get("/api/listings/", {"page_size": 500})
    assert too_big.status_code == 400 and "page_size" in too_big.json()["error"]["fields"]


def test_a_bad_facet_value_is_a_400_naming_the_parameter(api, market):
    response = api.get("/api/listings/", {"technology_field": "99", "grade": "Z"})
    error = response.json()["error"]
    assert response.status_code == 400 and error["code"] == "invalid"
    assert set(error["fields"]) == {"technology_field", "grade"}
    assert "99" in error["fields"]["technology_field"][0] and "technology_field" in error["message"]


def test_declarations_are_published_and_withdrawn_ones_never_drafts(api, market):
    body = api.get("/api/declarations/").json()
    ids = {d["id"] for d in body["results"]}
    assert ids == {market["battery"].pk, market["engine"].pk, market["drug"].pk}
    withdrawn = api.get("/api/declarations/", {"state": "withdrawn"}).json()["results"]
    assert [d["id"] for d in withdrawn] == [market["drug"].pk] and withdrawn[0]["withdrawal_reason"] == "专利权转让"
    assert api.get(f"/api/declarations/{market['battery'].pk}/").json()["holder"]["slug"] == market["holder_a"].slug
    hidden = api.get(f"/api/declarations/{market['draft'].pk}/")
    assert hidden.status_code == 404 and hidden.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("query", ["", "?fee_form=royalty", "?technology_field=27", "?region=广东省", "?grade=Z"])
def test_declarations_filter_like_the_ip_offices_drill_down_page(client, api, market, query):
    html = client
    html.force_login(market["office"])
    with translation.override("zh-hans"):
        page = html.get(reverse("office_statistics_declarations") + (query or "?") + "&first=2026-01")
    html.logout()
    response = api.get("/api/declarations/" + query)
    if query == "?grade=Z":  # the page answers 400 with the form error; the API names the parameter
        assert page.status_code == 400 and response.status_code == 400
        assert list(response.json()["error"]["fields"]) == ["grade"]
        return
    assert {d["id"] for d in response.json()["results"]} == {row.declaration.pk for row in page.context["rows"]}


@pytest.mark.parametrize("query", ["", "?kind=withdrawal", "?fee_form=lump_sum", "?holder_kind=university"])
def test_the_gazette_gives_what_the_gazette_page_gives(client, api, market, query):
    page = page_html(client, "gazette", query).context["page"]
    body = api.get("/api/gazette/" + query).json()
    assert [e["announcement_number"] for e in body["results"]] == [e.announcement_number for e in page.object_list]
    assert body["count"] == page.paginator.count


def test_a_bad_gazette_date_names_the_parameter(api, market):
    response = api.get("/api/gazette/", {"since": "yesterday"})
    assert response.status_code == 400 and list(response.json()["error"]["fields"]) == ["since"]


# ------------------------------------------------------------------------------------------- own organisation


@pytest.mark.parametrize("path", ["/api/patents/", "/api/licences/", "/api/needs/", "/api/statements/",
                                  "/api/statements/licensee-one/", "/api/statistics/"])
def test_private_endpoints_ask_anonymous_callers_for_a_token(api, market, path):
    response = api.get(path)
    assert response.status_code == 401 and response["WWW-Authenticate"] == "Token"
    assert response.json()["error"]["code"] == "not_authenticated"
    wrong = api.get(path, HTTP_AUTHORIZATION="Token not-a-real-token")
    assert wrong.status_code == 401 and wrong.json()["error"]["message"] == "Invalid token."


def test_a_holder_reads_its_own_patents_and_never_another_holders(client, openapi, market):
    api = api_for(client, openapi, market["holder_a_user"])
    body = api.get("/api/patents/").json()
    assert body["count"] == 3 and {p["title"] for p in body["results"]} >= {"一种电池外壳", "一种电池隔膜"}
    other = api.get("/api/patents/", {"holder": market["holder_b"].slug})
    assert other.status_code == 403 and "own organisation" in other.json()["error"]["message"]
    assert api.get("/api/patents/", {"holder": "no-such-holder"}).status_code == 404
    licensee = api_for(client, openapi, market["licensee_1_user"]).get("/api/patents/")
    assert licensee.status_code == 403 and "patent-holder" in licensee.json()["error"]["message"]
    office = api_for(client, openapi, market["office"]).get("/api/patents/", {"holder": market["holder_b"].slug})
    assert {p["title"] for p in office.json()["results"]} == {market["engine"].patent.title, "草稿专利"}


@pytest.mark.parametrize("query", ["?grade=A", "?q=隔膜", "?ordering=-title", "?technology_field=1&kind=invention"])
def test_patents_filter_like_the_portfolio_page(client, openapi, market, query):
    holder = market["holder_a"]
    page = page_html(client, "portfolio", query + f"&holder={holder.slug}", user=market["holder_a_user"]).context["page"]
    body = api_for(client, openapi, market["holder_a_user"]).get("/api/patents/" + query).json()
    assert [p["number"] for p in body["results"]] == [p.number for p in page.object_list]


@pytest.mark.parametrize("value", ["10000", "8000", "-2026", "1e20", "31", "2.5", "abc", ""])
def test_an_out_of_range_remaining_life_is_a_400_naming_the_parameter(client, openapi, market, value):
    response = api_for(client, openapi, market["holder_a_user"]).get("/api/patents/", {"min_remaining_years": value})

    error = response.json()["error"]
    assert response.status_code == 400 and error["code"] == "invalid", error
    assert list(error["fields"]) == ["min_remaining_years"] and "min_remaining_years" in error["message"]


@pytest.mark.parametrize(("value", "count"), [("0", 3), ("30", 0)])
def test_an_in_range_remaining_life_filters(client, openapi, market, value, count):
    response = api_for(client, openapi, market["holder_a_user"]).get("/api/patents/", {"min_remaining_years": value})

    assert response.status_code == 200 and response.json()["count"] == count


def test_the_schema_declares_the_bounds_of_the_remaining_life(client):
    schema = json.loads(client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").content)
    parameters = schema["paths"]["/api/patents/"]["get"]["parameters"]
    remaining = next(p for p in parameters if p["name"] == "min_remaining_years")
    assert remaining["schema"] == {"type": "integer", "minimum": 0, "maximum": 30}


OVERFLOWING_VALUES = ["10000", "-2026", "1e20", "99999999999999999999999", "-1", "2.5", "NaN", "Infinity", "abc"]


@pytest.mark.parametrize("value", OVERFLOWING_VALUES)
@pytest.mark.parametrize(("path", "parameter", "user"), [
    ("/api/patents/", "technology_field", "holder_a_user"),
    ("/api/listings/", "technology_field", None),
    ("/api/listings/", "page", None),
    ("/api/listings/", "page_size", None),
    ("/api/needs/", "technology_field", "licensee_1_user"),
    ("/api/needs/", "budget_from", "licensee_1_user"),
    ("/api/needs/", "budget_to", "licensee_1_user"),
    ("/api/statistics/", "days", "office"),
    ("/api/statistics/", "technology_field", "office"),
])
def test_no_numeric_parameter_answers_500(client, openapi, market, path, parameter, user, value):
    api = api_for(client, openapi, market[user]) if user else Api(client, openapi)

    response = api.get(path, {parameter: value}, validate=False)

    assert response.status_code in (200, 400, 404), response.content  # 404: a page number that is no page
    if response.status_code == 400:
        assert list(response.json()["error"]["fields"]) == [parameter], response.content


@pytest.mark.parametrize(("path", "params", "user", "refused"), [
    ("/api/listings/", {"page_size": ""}, None, "page_size"),
    ("/api/listings/", {"page": "0"}, None, "page"),
    ("/api/listings/", {"page": "x"}, None, "page"),
    ("/api/gazette/", {"page": "-1"}, None, "page"),
    ("/api/licences/", {"role": ""}, "licensee_1_user", "role"),
    ("/api/declarations/", {"state": ""}, None, "state"),
    ("/api/declarations/", {"technology_field": "0"}, None, "technology_field"),
    ("/api/", {"q": ""}, None, "q"),
    ("/api/statements/", {"page_size": "abc"}, "licensee_1_user", "page_size"),
    ("/api/patents/", {"holder": "\x00"}, "office", "holder"),
    ("/api/patents/", {"unclassified": "abc"}, "holder_a_user", "unclassified"),
    ("/api/needs/", {"budget_to": "-1"}, "licensee_1_user", "budget_to"),
    ("/api/needs/", {"budget_from": "1e13"}, "licensee_1_user", "budget_from"),
    ("/api/needs/", {"current": "maybe"}, "licensee_1_user", "current"),
    ("/api/statistics/", {"last": "9999-12"}, "office", "last"),
    ("/api/statistics/", {"last": "0001-01"}, "office", "last"),
    ("/api/statistics/", {"first": "2026-1"}, "office", "first"),
    ("/api/statistics/breakdown/", {"first": "9999-01", "last": "2026-03"}, "office", "first"),
    ("/api/statistics/declarations/", {"days": "0"}, "office", "days"),
])
def test_a_refused_parameter_is_a_400_naming_it_and_declared(client, openapi, market, path, params, user, refused):
    api = api_for(client, openapi, market[user]) if user else Api(client, openapi)

    response = api.get(path, params)  # validated against the schema: the 400 is declared for the operation

    error = response.json()["error"]
    assert response.status_code == 400 and list(error["fields"]) == [refused], error


@pytest.mark.parametrize("query", ["last=9999-12", "first=9999-01&last=9999-12", "last=0001-01", "days=99999"])
def test_the_statistics_page_shows_a_form_error_for_a_month_out_of_range(client, market, query):
    client.force_login(market["office"])

    response = client.get(reverse("office_statistics") + "?" + query)

    assert response.status_code == 400 and not response.context["board"].valid


def test_a_path_with_a_newline_under_the_api_is_its_json_404(api):
    for path in ("/api/foo%0A", "/api/declarations/1%0A/", "/api/%0A"):
        response = api.get(path, validate=False)
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found", path


def test_the_schema_declares_what_the_server_enforces(client):
    schema = json.loads(client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").content)
    operations = [(path, operation) for path, item in schema["paths"].items() for operation in item.values()]
    for path, operation in operations:
        assert {"400", "401"} <= set(operation["responses"]), path
        for parameter in operation.get("parameters", []):
            declared = parameter["schema"]
            if parameter["in"] != "query":
                continue
            if declared.get("type") in ("integer", "number") and "enum" not in declared:
                assert "minimum" in declared, (path, parameter["name"])
                # A page is bounded by the data (past the last: 404); every filter has both bounds.
                assert parameter["name"] == "page" or "maximum" in declared, (path, parameter["name"])
            if declared.get("type") == "string" and "enum" not in declared and "format" not in declared:
                assert "pattern" in declared, (path, parameter["name"])  # at least one character, no NUL
    by_name = {(path, p["name"]): p["schema"] for path, operation in operations
               for p in operation.get("parameters", [])}
    def bounds(path, name):
        declared = by_name[(path, name)]
        return declared["type"], declared.get("minimum"), declared.get("maximum")

    assert bounds("/api/listings/", "page_size") == ("integer", 1, 100)
    assert bounds("/api/statements/", "page") == ("integer", 1, None)
    for path in ("/api/patents/", "/api/needs/", "/api/declarations/", "/api/gazette/", "/api/listings/",
                 "/api/statistics/"):
        assert bounds(path, "technology_field") == ("integer", 1, 35), path  # 0 is refused
    assert bounds("/api/statistics/breakdown/", "days") == ("integer", 1, 3650)
    assert bounds("/api/needs/", "budget_to") == ("number", 0, 10**12)
    assert by_name[("/api/statistics/", "first")]["pattern"].startswith("^(198")


def test_a_licensee_sees_only_its_own_licences_and_the_ip_office_sees_all(client, openapi, market):
    one, two = market["licence_1"], market["licence_2"]
    licensee = api_for(client, openapi, market["licensee_1_user"])
    assert [lic["id"] for lic in licensee.get("/api/licences/").json()["results"]] == [one.pk]
    assert licensee.get(f"/api/licences/{one.pk}/").json()["licensee"]["slug"] == "licensee-one"
    hidden = licensee.get(f"/api/licences/{two.pk}/")
    assert hidden.status_code == 404 and hidden.json()["error"]["code"] == "not_found"
    holder = api_for(client, openapi, market["holder_b_user"])
    assert [lic["id"] for lic in holder.get("/api/licences/", {"role": "licensor"}).json()["results"]] == [two.pk]
    assert holder.get("/api/licences/", {"role": "licensee"}).json()["count"] == 0
    office = api_for(client, openapi, market["office"])
    assert {lic["id"] for lic in office.get("/api/licences/").json()["results"]} == {one.pk, two.pk}
    assert [lic["id"] for lic in office.get("/api/licences/", {"organisation": "licensee-two"}).json()["results"]] == [
        two.pk]
    assert office.get("/api/licences/", {"state": "expired"}).json()["count"] == 0
    assert list(office.get("/api/licences/", {"state": "happy"}).json()["error"]["fields"]) == ["state"]


def test_a_licensee_reads_its_own_needs_with_proposals_and_nobody_elses(client, openapi, market):
    licensee = api_for(client, openapi, market["licensee_1_user"])
    body = licensee.get("/api/needs/").json()
    assert [n["id"] for n in body["results"]] == [market["need_1"].pk]
    assert body["results"][0]["proposal_count"] == 0 and body["results"][0]["proposals"] == []
    assert licensee.get("/api/needs/", {"q": "发动机"}).json()["count"] == 0
    other = api_for(client, openapi, market["licensee_2_user"]).get("/api/needs/", {"q": "valve"}).json()
    assert [n["id"] for n in other["results"]] == [market["need_2"].pk]  # its private need too
    holder = api_for(client, openapi, market["holder_a_user"]).get("/api/needs/")
    assert holder.status_code == 403 and "licensee" in holder.json()["error"]["message"]


def test_statements_are_one_organisations_own_with_a_running_balance(client, openapi, market):
    licensee = api_for(client, openapi, market["licensee_1_user"])
    orgs = licensee.get("/api/statements/").json()
    assert [o["slug"] for o in orgs["results"]] == ["licensee-one"]
    assert orgs["results"][0]["url"] == "/api/statements/licensee-one/"
    own = licensee.get("/api/statements/licensee-one/").json()
    paid = market["licence_1"].first_amount_fen
    assert own["statement"]["perspective"] == "licensee" and own["statement"]["balance_fen"] == paid
    assert own["count"] == len(own["results"]) >= 1 and own["results"][-1]["balance_fen"] == paid
    refused = licensee.get("/api/statements/licensee-two/")
    assert refused.status_code == 403 and "members" in refused.json()["error"]["message"]
    wrong_side = licensee.get("/api/statements/licensee-one/", {"view": "holder"})
    assert wrong_side.status_code == 400 and list(wrong_side.json()["error"]["fields"]) == ["view"]
    holder = api_for(client, openapi, market["holder_a_user"]).get(f"/api/statements/{market['holder_a'].slug}/").json()
    assert holder["statement"]["perspective"] == "holder" and 0 < holder["statement"]["balance_fen"] < paid
    office = api_for(client, openapi, market["office"])
    assert office.get("/api/statements/licensee-two/").status_code == 200
    index = page_html(client, "statement_index", "", user=market["office"]).context["organisations"]
    listed = office.get("/api/statements/", {"page_size": 100}).json()
    assert [o["slug"] for o in listed["results"]] == [o.slug for o in index] and listed["count"] > 4


# ------------------------------------------------------------------------------------------------ IP office


@pytest.fixture
def statistics_market():
    """The statistics tests' own market (March 2026), built per test inside the module's market when that one is
    there: theirs is the only data in the months they ask for."""
    build_statistics_market()


MARCH = {"first": "2026-03", "last": "2026-03"}


def test_the_statistics_are_for_the_ip_office_and_equal_the_dashboards(client, openapi, statistics_market):
    licensee = api_for(client, openapi, MembershipFactory().user).get("/api/statistics/", MARCH)
    assert licensee.status_code == 403 and "IP-office" in licensee.json()["error"]["message"]
    officer = MembershipFactory(organisation=IPOfficeFactory()).user
    page = page_html(client, "office_statistics", "?first=2026-03&last=2026-03", user=officer).context["board"]
    body = api_for(client, openapi, officer).get("/api/statistics/", MARCH).json()
    figures = body["figures"]
    assert (figures["declarations_published"], figures["licences_concluded"], figures["fee_volume_fen"]) == (3, 3, 190_000)
    assert {k: figures[k] for k in page.figures if k not in ("as_of",)} == {
        k: v for k, v in page.figures.items() if k != "as_of"}
    assert body["period"]["first"] == body["period"]["last"] == "2026-03" and [r["month"] for r in body["trend"]] == [
        "2026-03"]
    assert body["narrowed"] is False
    narrowed = api_for(client, openapi, officer).get("/api/statistics/", {**MARCH, "holder_kind": "university"}).json()
    assert narrowed["narrowed"] is True and narrowed["figures"]["declarations_published"] == 1


def test_breakdowns_and_drill_down_equal_the_dashboards(client, openapi, statistics_market):
    officer = MembershipFactory(organisation=IPOfficeFactory()).user
    api = api_for(client, openapi, officer)
    query = "?first=2026-03&last=2026-03&by=holder_kind"
    board = page_html(client, "office_statistics", query, user=officer).context["board"]
    body = api.get("/api/statistics/breakdown/" + query).json()
    assert body["by"] == "holder_kind" and body["count"] == len(board.breakdown)
    assert [(r["value"], r["declarations_published"]) for r in body["results"]] == [
        (str(r["value"]), r["declarations_published"]) for r in board.breakdown]
    rows = page_html(client, "office_statistics_declarations", "?first=2026-03&last=2026-03", user=officer).context["rows"]
    drill = api.get("/api/statistics/declarations/", {**MARCH, "page_size": 2}).json()
    assert drill["count"] == len(rows) == 3 and drill["num_pages"] == 2
    assert [r["declaration"]["id"] for r in drill["results"]] == [r.declaration.pk for r in rows[:2]]
    assert [r["quick_licence"] for r in drill["results"]] == [r.quick for r in rows[:2]]


def test_a_bad_period_or_dimension_is_a_400_naming_the_field(client, openapi, statistics_market):
    api = api_for(client, openapi, MembershipFactory(organisation=IPOfficeFactory()).user)
    inverted = api.get("/api/statistics/", {"first": "2026-05", "last": "2026-03"}).json()["error"]
    assert list(inverted["fields"]) == ["first"] and "after" in inverted["fields"]["first"][0]
    assert list(api.get("/api/statistics/breakdown/", {"by": "colour"}).json()["error"]["fields"]) == ["by"]
    assert list(api.get("/api/statistics/declarations/", {"sector": "magic"}).json()["error"]["fields"]) == ["sector"]


# ------------------------------------------------------------------------------------------------ errors


def test_no_html_error_pages_under_the_api(api, market):
    unknown = api.get("/api/nowhere/", validate=False)
    assert unknown.status_code == 404 and "/api/docs/" in unknown.json()["error"]["message"]
    no_slash = api.get("/api/listings", validate=False)
    assert no_slash.status_code == 404 and "/api/listings/" in no_slash.json()["error"]["message"]
    posted = api.client.post("/api/listings/", {}, content_type="application/json")
    assert posted.status_code == 405 and posted.json()["error"]["code"] == "method_not_allowed"
    assert posted["Content-Type"] == "application/json"


# ------------------------------------------------------------------------------------------------ the token page


def test_a_signed_in_user_creates_replaces_and_revokes_their_token(client, openapi, market):
    with translation.override("en"):
        url = reverse("api_token")
    assert client.get(url).status_code == 302  # to the login page
    client.force_login(market["licensee_1_user"])
    assert "No token yet" in client.get(url).content.decode()
    first = client.post(url, {"action": "create"}).context["new_key"]
    api = Api(client.__class__(), openapi, first)
    assert api.get("/api/licences/").json()["count"] == 1
    page = client.get(url).content.decode()
    assert first[:6] in page and first not in page  # shown in full only once
    second = client.post(url, {"action": "create"}).context["new_key"]
    assert second != first and api.get("/api/licences/").status_code == 401
    assert Api(client.__class__(), openapi, second).get("/api/licences/").status_code == 200
    client.post(url, {"action": "revoke"})
    assert not Token.objects.filter(user=market["licensee_1_user"]).exists()
    assert Api(client.__class__(), openapi, second).get("/api/licences/").status_code == 401


def test_drafts_do_not_leak_through_any_public_endpoint(api, market):
    draft = market["draft"]
    assert draft.state == DeclarationState.DRAFT
    everything = json.dumps([api.get(p).json() for p in ("/api/listings/", "/api/declarations/", "/api/gazette/")],
                            ensure_ascii=False)
    assert draft.patent.number not in everything and "草稿专利" not in everything


def test_labels_follow_the_callers_language(api, market):
    english = api.get("/api/listings/", HTTP_ACCEPT_LANGUAGE="en").json()
    chinese = api.get("/api/listings/", HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    assert {h["holder"] for h in english["results"]} >= {"Battery Institute of Technology"}
    assert english["results"][0]["url"].startswith("/en/") and chinese["results"][0]["url"].startswith("/zh-hans/")



@pytest.mark.parametrize("path", ["/api/declarations/", "/api/gazette/", "/api/licences/", "/api/patents/",
                                  "/api/needs/", "/api/statements/"])
def test_the_number_of_queries_does_not_grow_with_the_number_of_rows(client, openapi, market, path):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    user = {"/api/patents/": market["holder_a_user"], "/api/needs/": market["licensee_1_user"]}.get(path, market["office"])
    api = api_for(client, openapi, user)

    def queries() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as captured:
            body = api.get(path, validate=False).json()
        return len(captured), body["count"]

    before, rows_before = queries()
    for n in range(3):
        patent = eligible_patent(holder=market["holder_a"], title=f"一种新电池 {n}")
        patent.tags.add(f"lab-{n}")
        admin = holder_admin(patent.holder)
        declaration = listings.declaration_file(declaration=DeclarationFactory(patent=patent, holder=patent.holder),
                                                by=admin)
        # CNIPA's announcement: the gazette mirrors it (filing alone writes nothing there).
        declaration = listings.declaration_record_announcement(
            declaration=declaration, by=admin, cnipa_number=f"KFXK2026{90 + n:06d}", announced_on=timezone.localdate())
        build.licence(licensee=market["licensee_1"], declaration=declaration, patent=patent,
                      licensor=market["holder_a"])
        needs.need_post(organisation=market["licensee_1"], by=market["licensee_1_user"], title=f"需要电池 {n}",
                        description="储能。", technology_field=1)
    after, rows_after = queries()
    assert rows_after > rows_before and after == before, (path, before, after)
