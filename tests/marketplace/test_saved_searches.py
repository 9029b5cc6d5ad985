"""Saved searches: create, list and delete through HTTP (signed-in owners only), and the notification run that
e-mails new matching listings once."""

import io

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from marketplace.exceptions import NotAllowed
from marketplace.listings import services as listings
from marketplace.models import SavedSearch
from marketplace.saved_searches.services import (
    MAX_SAVED_SEARCHES_PER_USER,
    saved_search_create,
    saved_search_delete,
    saved_searches_notify,
)
from tests.licensing.factories import DeclarationFactory, eligible_patent, holder_admin
from tests.parties.factories import HolderFactory, UserFactory

pytestmark = pytest.mark.django_db


def publish(title: str):
    holder = HolderFactory()
    declaration = DeclarationFactory(patent=eligible_patent(holder=holder, title=title), holder=holder)
    return listings.declaration_file(declaration=declaration, by=holder_admin(holder))


def test_anonymous_visitors_are_sent_to_sign_in(client):
    for response in (client.get(reverse("saved_search_list")),
                     client.post(reverse("saved_search_new"), {"name": "x", "query_string": "q=a"})):
        assert response.status_code == 302 and "login" in response["Location"]
    assert not SavedSearch.objects.exists()


def test_create_list_and_delete_through_the_pages(client):
    user = UserFactory()
    client.force_login(user)
    response = client.post(reverse("saved_search_new"), {"name": "电池", "query_string": "?q=电池&grade=A&page=3"})
    assert response.status_code == 302 and response["Location"] == reverse("saved_search_list")
    saved = SavedSearch.objects.get(user=user)
    assert saved.name == "电池" and "page" not in saved.query_string and "grade=A" in saved.query_string

    body = client.get(reverse("saved_search_list")).content.decode()
    assert reverse("listing_search") + "?" in body and "grade=A" in body
    assert reverse("saved_search_delete", args=[saved.pk]) in body

    response = client.post(reverse("saved_search_delete", args=[saved.pk]))
    assert response.status_code == 302 and not SavedSearch.objects.exists()


def test_a_name_is_required(client):
    client.force_login(UserFactory())
    client.post(reverse("saved_search_new"), {"name": "  ", "query_string": "q=a"})
    assert not SavedSearch.objects.exists()


def test_another_users_search_cannot_be_deleted(client):
    saved = saved_search_create(user=UserFactory(), name="mine", query_string="q=a")
    intruder = UserFactory()
    client.force_login(intruder)
    assert client.post(reverse("saved_search_delete", args=[saved.pk])).status_code == 404
    with pytest.raises(NotAllowed):
        saved_search_delete(saved_search=saved, by=intruder)
    assert SavedSearch.objects.filter(pk=saved.pk).exists()
    assert client.get(reverse("saved_search_delete", args=[saved.pk])).status_code == 405


def test_at_most_fifty_per_user():
    user = UserFactory()
    SavedSearch.objects.bulk_create(SavedSearch(user=user, name=f"s{i}", query_string="")
                                    for i in range(MAX_SAVED_SEARCHES_PER_USER))
    with pytest.raises(ValidationError):
        saved_search_create(user=user, name="one more", query_string="q=a")


def test_new_matching_listings_are_emailed_once(demo_pages, settings, django_capture_on_commit_callbacks):
    settings.WAGTAILADMIN_BASE_URL = "https://patents.example.cn"
    user = UserFactory()
    saved_search_create(user=user, name="电池", query_string="q=电池")
    publish("一种锂电池管理方法")

    with django_capture_on_commit_callbacks(execute=True):
        assert saved_searches_notify() == 1
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [user.email] and "电池" in message.subject and "New matching listings" in message.subject
    assert "一种锂电池管理方法" in message.body and "https://patents.example.cn/" in message.body

    with django_capture_on_commit_callbacks(execute=True):
        assert saved_searches_notify() == 0
    assert len(mail.outbox) == 1


class WorkerKilled(Exception):
    """Stands for the worker dying: its open transaction is rolled back, as PostgreSQL does for a lost connection."""


def test_a_run_killed_before_it_committed_sends_nothing_and_its_rerun_sends_the_alert_once(
        demo_pages, django_capture_on_commit_callbacks):
    saved_search = saved_search_create(user=UserFactory(), name="电池", query_string="q=电池")
    publish("一种锂电池管理方法")
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(WorkerKilled), transaction.atomic():
        saved_searches_notify(now=now)
        raise WorkerKilled
    assert mail.outbox == []  # the notice was never recorded, so nothing left
    saved_search.refresh_from_db()
    assert saved_search.last_notified_at is None

    with django_capture_on_commit_callbacks(execute=True), CaptureQueriesContext(connection) as queries:
        assert saved_searches_notify(now=now) == 1  # the task queued again (run_worker's recovery)
    if connection.vendor == "postgresql":  # the row is locked: a second worker waits, then finds it notified
        assert any("FOR UPDATE" in q["sql"] and "marketplace_savedsearch" in q["sql"] for q in queries)
    with django_capture_on_commit_callbacks(execute=True):  # and run once more, as a second sweep would
        assert saved_searches_notify(now=now) == 0
    assert len(mail.outbox) == 1
    saved_search.refresh_from_db()
    assert saved_search.last_notified_at == now


def test_a_listing_that_does_not_match_sends_nothing(demo_pages):
    saved_search_create(user=UserFactory(), name="电池", query_string="q=电池")
    publish("Exhaust gas recirculation valve for an engine")
    out = io.StringIO()
    call_command("notify_saved_searches", stdout=out)
    assert out.getvalue().strip() == "0"
    assert mail.outbox == []


def test_listings_published_before_the_search_was_saved_are_not_sent(demo_pages):
    publish("一种锂电池管理方法")
    saved_search_create(user=UserFactory(), name="电池", query_string="q=电池")
    assert saved_searches_notify() == 0 and mail.outbox == []
