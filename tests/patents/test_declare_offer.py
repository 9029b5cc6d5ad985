"""The declare button is offered only for a patent that can be declared: a lapsed, expired or invalidated one
gets an explanation instead on its page, and is marked in the portfolio so the bulk declare button is withheld
while it is selected (issue 20, defect 9; the server refuses such a declaration anyway)."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from marketplace.parties.models import MembershipRole
from patents.models import LegalStatus
from tests.parties.factories import HolderFactory, MembershipFactory
from tests.patents.factories import PatentFactory

pytestmark = pytest.mark.django_db
DECLARE_BUTTON = 'action="/en/declarations/new/"'


@pytest.fixture
def admin_client(client):
    holder = HolderFactory()
    client.force_login(MembershipFactory(organisation=holder, role=MembershipRole.ADMIN).user)
    client.holder = holder
    return client


def _page(client, patent):
    return client.get("/en" + reverse("patent_detail", args=[patent.pk])[len("/zh-hans") :]).content.decode()


def test_a_patent_in_force_offers_the_declare_button(admin_client):
    patent = PatentFactory(holder=admin_client.holder)
    assert patent.in_force
    assert DECLARE_BUTTON in _page(admin_client, patent)


@pytest.mark.parametrize("status", [LegalStatus.LAPSED, LegalStatus.EXPIRED, LegalStatus.INVALIDATED, LegalStatus.PENDING])
def test_a_patent_not_in_force_does_not_offer_it_and_says_why(admin_client, status):
    patent = PatentFactory(holder=admin_client.holder, legal_status=status)
    page = _page(admin_client, patent)
    assert DECLARE_BUTTON not in page
    assert "Only a granted patent in force can be declared for open licence." in page


def test_a_granted_patent_past_its_expiry_date_does_not_offer_it(admin_client):
    patent = PatentFactory(holder=admin_client.holder, filing_date=date(2000, 1, 1))
    assert patent.expiry_date < timezone.localdate() - timedelta(days=1)
    assert DECLARE_BUTTON not in _page(admin_client, patent)


def test_the_portfolio_marks_the_patents_that_cannot_be_declared(admin_client):
    live = PatentFactory(holder=admin_client.holder)
    lapsed = PatentFactory(holder=admin_client.holder, legal_status=LegalStatus.LAPSED)
    page = admin_client.get(f"/en/portfolio/?holder={admin_client.holder.slug}").content.decode()
    assert f'value="{lapsed.pk}" aria-label="{lapsed.number}" data-not-declarable' in page
    assert f'value="{live.pk}" aria-label="{live.number}">' in page
    assert "data-declare-selected" in page
