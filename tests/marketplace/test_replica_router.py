"""The replica router (marketplace/replica): only the reads of marked views (search, listing pages, dashboard)
go to the replica, only when one is configured, never inside a transaction on the primary, and never for a
request that wrote or whose user wrote within REPLICA_STICKY_SECONDS (read-your-writes). The router's decisions
are checked here; the scale-out test checks them against a real hot standby."""

import time

import pytest
from django.conf import settings as django_settings
from django.http import HttpResponse
from django.template.response import SimpleTemplateResponse
from django.test import RequestFactory

from marketplace.listings.cache import PAGE_SECONDS, page_cache_seconds
from marketplace.models import Need
from marketplace.replica.middleware import COOKIE, ReadYourWritesMiddleware
from marketplace.replica.router import (
    REPLICA,
    ReplicaRouter,
    pinned_to_primary,
    primary_reads,
    reads_from_replica,
    replica_reads,
    request_scope,
)

router = ReplicaRouter()
overriding_databases = pytest.mark.filterwarnings("ignore:Overriding setting DATABASES")


@pytest.fixture
def replica(settings):
    settings.DATABASES = {**django_settings.DATABASES, REPLICA: {**django_settings.DATABASES["default"]}}
    settings.REPLICA_STICKY_SECONDS = 15
    return settings


def test_without_a_replica_every_read_goes_to_the_primary():
    with request_scope(pinned=False), replica_reads():
        assert router.db_for_read(Need) is None


@overriding_databases
def test_only_the_reads_of_marked_views_go_to_the_replica(replica):
    with request_scope(pinned=False):
        assert router.db_for_read(Need) is None
        with replica_reads():
            assert router.db_for_read(Need) == REPLICA
        assert router.db_for_read(Need) is None


@overriding_databases
def test_a_write_pins_the_rest_of_the_request_to_the_primary(replica):
    with request_scope(pinned=False), replica_reads():
        assert router.db_for_write(Need) == "default"
        assert pinned_to_primary() and router.db_for_read(Need) is None
    with request_scope(pinned=False), replica_reads():  # the next request starts afresh
        assert router.db_for_read(Need) == REPLICA


@overriding_databases
@pytest.mark.django_db
def test_reads_inside_a_transaction_on_the_primary_stay_on_it(replica):
    # The test runs inside a transaction: what it wrote is not on the replica.
    with request_scope(pinned=False), replica_reads():
        assert router.db_for_read(Need) is None


@overriding_databases
def test_migrations_run_on_the_primary_only_and_rows_of_both_relate(replica):
    assert router.allow_migrate("default", "marketplace") and not router.allow_migrate(REPLICA, "marketplace")
    assert router.allow_relation(Need(), Need())


def _through_middleware(request) -> tuple[HttpResponse, bool]:
    seen = {}

    def view(request):
        with replica_reads():
            seen["replica"] = router.db_for_read(Need) == REPLICA
        return HttpResponse("ok")

    response = ReadYourWritesMiddleware(view)(request)
    return response, seen["replica"]


@overriding_databases
def test_a_post_reads_from_the_primary_and_pins_the_browser_for_the_sticky_window(replica):
    response, from_replica = _through_middleware(RequestFactory().post("/en/needs/new/"))
    assert not from_replica
    until = float(response.cookies[COOKIE].value)
    assert time.time() + 14 < until < time.time() + 16  # whole seconds in the cookie
    assert response.cookies[COOKIE]["httponly"] and response.cookies[COOKIE]["max-age"] == 16

    browser = RequestFactory()
    browser.cookies[COOKIE] = response.cookies[COOKIE].value
    after, from_replica = _through_middleware(browser.get("/en/search/"))
    assert not from_replica and COOKIE not in after.cookies  # their own new need shows in the search at once


@overriding_databases
def test_a_browser_that_has_not_written_lately_reads_from_the_replica(replica):
    assert _through_middleware(RequestFactory().get("/en/search/"))[1]
    expired = RequestFactory()
    expired.cookies[COOKIE] = f"{time.time() - 1:.0f}"
    assert _through_middleware(expired.get("/en/search/"))[1]
    forged = RequestFactory()
    forged.cookies[COOKIE] = "not-a-time"
    assert _through_middleware(forged.get("/en/search/"))[1]


@overriding_databases
def test_a_get_that_writes_pins_the_browser_too(replica):
    # The buyer's return from the payment page is a GET that settles the payment: their next listing page or
    # search must show the licence as taken, whatever the replica's lag.
    def settles(request):
        router.db_for_write(Need)
        return HttpResponse("ok")

    response = ReadYourWritesMiddleware(settles)(RequestFactory().get("/en/licences/1/return/"))
    assert float(response.cookies[COOKIE].value) > time.time() + 14
    reads_only = ReadYourWritesMiddleware(lambda request: HttpResponse("ok"))(RequestFactory().get("/en/search/"))
    assert COOKIE not in reads_only.cookies


def test_without_a_replica_no_cookie_is_set():
    response = ReadYourWritesMiddleware(lambda request: HttpResponse("ok"))(RequestFactory().post("/en/needs/new/"))
    assert COOKIE not in response.cookies


@overriding_databases
def test_a_marked_view_renders_its_template_inside_so_the_templates_reads_go_to_the_replica_too(replica):
    class Response(SimpleTemplateResponse):
        def render(self):
            self.read_from = router.db_for_read(Need)
            self.is_rendered_flag = True
            return self

        @property
        def is_rendered(self):
            return getattr(self, "is_rendered_flag", False)

    view = reads_from_replica(lambda request: Response("unused.html"))
    with request_scope(pinned=False):
        response = view(RequestFactory().get("/en/search/"))
    assert response.read_from == REPLICA


@overriding_databases
def test_a_page_rendered_from_the_replica_is_cached_only_for_the_allowed_lag(replica):
    with request_scope(pinned=False):
        assert page_cache_seconds() == PAGE_SECONDS
        with replica_reads():
            router.db_for_read(Need)
        assert page_cache_seconds() == min(PAGE_SECONDS, 15)


@overriding_databases
def test_inside_a_marked_view_who_may_see_it_is_read_from_the_primary(replica):
    with request_scope(pinned=False), replica_reads():
        with primary_reads():
            assert router.db_for_read(Need) is None
        assert router.db_for_read(Need) == REPLICA
