"""Issue 19's "Done when": the office dashboard shows the new indicators on the demo data. Each of them is read
from the dashboard page the IP office opens on `seed_demo`'s data (seeded once for the module) and must show
something: a share above 0, rows in each table. The audit page shows the demo's voucher payment in the page's
language (its field labels)."""

import pytest
from django.core.management import call_command

from licensing.models.licences import Licence, LicenceBasis, Payment
from tests.worlds import module_world

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def _demo_world(django_db_setup, django_db_blocker):
    with module_world(django_db_blocker):
        call_command("seed_demo", verbosity=0)
        yield


@pytest.fixture
def seeded_demo(_demo_world, db):
    """The demo as `seed_demo` makes it, seeded once for the module (tests.worlds)."""


@pytest.fixture
def board(seeded_demo, client):
    from marketplace.parties.models import User

    client.force_login(User.objects.get(email="ipoffice@demo.test"))
    response = client.get("/en/office/statistics/")
    assert response.status_code == 200
    return response.context["board"]


def _entry_fee_payment():
    """The entry fee seed_office_figures pays with the 2026 voucher (the first voucher payment the demo makes)."""
    return Payment.objects.filter(voucher_fen__gt=0).order_by("pk").first()


def test_the_demo_takes_statutory_licences_one_paid_by_a_voucher_and_one_recorded(seeded_demo):
    statutory = Licence.objects.filter(basis=LicenceBasis.STATUTORY, state="active")
    assert statutory.count() >= 2
    assert all(licence.declaration.announced_on <= licence.starts_on for licence in statutory)
    assert statutory.filter(recorded_on__isnull=False).exists()
    paid = _entry_fee_payment()
    assert paid.state == Payment.State.SUCCEEDED and paid.licence.basis == LicenceBasis.STATUTORY
    assert paid.licence.state == "active" and paid.voucher_fen == paid.licence.entry_fee_fen


def test_each_new_indicator_shows_a_value_on_the_demo(board):
    figures = board.figures
    for name in ("deal_rate_announced", "deal_rate_announced_recorded", "deal_rate_recorded", "overall_conversion",
                 "multi_licensee_share", "voucher_share_of_fee_volume"):
        assert figures[name] is not None and figures[name] > 0, name
    assert figures["free_licence_share"] == 0  # shown as 0 %: no demo declaration is free of every fee
    for name in ("declarations_announced", "licences_statutory", "voucher_paid_fen", "vouchers_issued",
                 "fee_reduction_granted_fen", "fee_reduction_patents"):
        assert figures[name] > 0, name
    # The voucher paid the demo's only payment in full (seed_demo runs without Stripe, so no card part).
    # (with DEMO_HISTORY its history's payments too, all paid by vouchers)
    assert figures["voucher_paid_fen"] == figures["fee_volume_fen"] >= 3_000_000
    assert {row["name_en"] for row in board.league} == {"Demo University of Technology",
                                                          "Demo Institute of Advanced Materials"}
    assert any(row["licences_concluded"] > 0 for row in board.league)
    assert board.flows and all(row["licences_concluded"] > 0 for row in board.flows)
    assert sum(row["withdrawals"] for row in board.withdrawals) >= 1
    assert board.funnel and board.funnel_totals["announced"] > 0 and board.funnel_totals["recorded"] > 0
    assert board.funnel_totals["licensed"] >= board.funnel_totals["recorded"]


def test_the_audit_page_shows_the_voucher_payment_in_the_page_language(seeded_demo, client):
    from marketplace.parties.models import User

    payment = _entry_fee_payment()
    client.force_login(User.objects.get(email="ipoffice@demo.test"))
    zh = client.get(f"/zh-hans/audit/?model=payment&object={payment.pk}").content.decode()
    en = client.get(f"/en/audit/?model=payment&object={payment.pk}").content.decode()
    assert "由创新券支付" in zh and "voucher fen" not in zh and "succeeded" not in zh
    assert "paid by voucher (fen)" in en and "已支付" in zh and "Paid" in en
