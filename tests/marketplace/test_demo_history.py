"""Issue 20: `seed_demo` spreads declarations, licences, payments and recordings over the last 24 months, through
the real services, so the charts of a fresh `make run` show something real. Seeded once for the module, with the
history on (the test settings leave it out for the tests that only need the demo's accounts)."""

from datetime import timedelta

import pytest
from dateutil.relativedelta import relativedelta
from django.core.management import call_command
from django.db.models import F
from django.test import override_settings
from django.utils import timezone

from licensing.models import Declaration
from licensing.models.licences import Licence, Payment, RoyaltyReport, Voucher
from marketplace.models import StatisticsSnapshot
from marketplace.office import selectors as office
from marketplace.office.statistics import snapshot_is_published
from tests.worlds import module_world

# Seeding two years through the services takes ~30 s; what it checks does not depend on the engine.
pytestmark = [pytest.mark.django_db, pytest.mark.one_backend]


def _counts() -> dict:
    return {model.__name__: model.objects.count()
            for model in (Declaration, Licence, Payment, RoyaltyReport, Voucher, StatisticsSnapshot)}


@pytest.fixture(scope="module")
def _history_world(django_db_setup, django_db_blocker):
    with module_world(django_db_blocker), override_settings(DEMO_HISTORY=True):
        call_command("seed_demo", verbosity=0)
        yield


@pytest.fixture
def history(_history_world, db):
    """The demo as `make run` seeds it, history included."""


def test_the_history_spans_two_years_of_filings_licences_payments_and_recordings(history):
    today = timezone.localdate()
    start = today.replace(day=1) - relativedelta(months=23)
    filed = {timezone.localdate(d.filed_at).replace(day=1) for d in Declaration.objects.filter(filed_at__isnull=False)}
    assert min(filed) == start and len(filed) >= 20
    licensed = {timezone.localdate(lic.activated_at).replace(day=1) for lic in Licence.objects.filter(state="active")}
    assert len(licensed) >= 16
    assert Payment.objects.filter(state="succeeded", succeeded_at__lt=timezone.now() - timedelta(days=366)).exists()
    assert Licence.objects.filter(recorded_on__lt=today - timedelta(days=366)).exists()
    assert RoyaltyReport.objects.filter(payment__state="succeeded").exists()


def test_every_step_of_the_history_follows_the_one_before(history):
    """The backdated moments keep the state machines' order: filed before announced, noticed before paid and
    activated, activated before recorded; the certificate carries the activation's year."""
    assert not Declaration.objects.filter(announced_on__lt=F("filed_at__date")).exists()
    licences = Licence.objects.filter(activated_at__isnull=False)
    assert not licences.filter(activated_at__lt=F("notice_submitted_at")).exists()
    assert not licences.filter(recorded_on__lt=F("starts_on")).exists()
    assert not licences.filter(notice_submitted_at__lt=F("declaration__filed_at")).exists()
    assert not Payment.objects.filter(succeeded_at__lt=F("created_at")).exists()
    assert not Payment.objects.filter(succeeded_at__lt=F("licence__notice_submitted_at")).exists()
    for licence in licences:
        assert licence.certificate_number[2:6] == str(timezone.localtime(licence.activated_at).year)
        statutory = licence.declaration.announced_on is not None and licence.declaration.announced_on <= timezone.localdate(
            licence.notice_submitted_at)
        assert (licence.basis == "statutory") == statutory, licence.pk
    numbers = sorted(int(n[6:]) for n in licences.values_list("certificate_number", flat=True))
    assert numbers == list(range(1, len(numbers) + 1))  # gapless


def test_the_dashboard_reads_closed_months_from_published_snapshots_and_shows_a_year_of_activity(history):
    board = office.dashboard(params={})
    closed = board.trend[:-1]
    assert closed and all(row.published for row in closed)
    assert all(snapshot_is_published(s) for s in StatisticsSnapshot.objects.all())
    assert sum(1 for row in board.trend if row.figures["licences_concluded"]) >= 7
    assert sum(1 for row in board.trend if row.figures["fee_volume_fen"]) >= 7
    assert len(board.breakdown) >= 5  # several technology fields
    # The IP office's year still has the one voucher seed_vouchers issues: the history's were issued before.
    assert board.figures["vouchers_issued"] == 1


def test_seeding_again_adds_nothing(history):
    before = _counts()
    with override_settings(DEMO_HISTORY=True):
        call_command("seed_demo", verbosity=0)
    assert _counts() == before
