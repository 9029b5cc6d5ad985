"""Issue 20, defect 2: a patent imported without its annual-fees date can still be declared. The refusal
(Implementing Regulations art. 86) asks for the date right where it refuses, records it through the audited
inventory service, and the offer typed before the refusal is kept."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone, translation

from licensing.models import Declaration, DeclarationState
from patents.inventory.services import inventory_batch_create, inventory_batch_run, patent_annual_fees_record
from patents.models import InventoryBatch, Patent, PatentChange
from tests.licensing.factories import DeclarationFactory, LicenceTermsFactory, holder_admin, holder_member
from tests.parties.factories import HolderFactory
from tests.patents.factories import PatentFactory, cn_application_number, inventory_csv

pytestmark = pytest.mark.django_db


def imported_without_fees(holder, *, by, serials=(1,)) -> list[Patent]:
    """The holder's inventory file has no annual-fees column, as most exports from CNIPA's system do not."""
    rows = [{"number": cn_application_number(s), "title": f"一种储能电池管理方法 {s}", "kind": "invention",
             "filing_date": date(2021, 3, 15), "grant_date": date(2023, 6, 20)} for s in serials]
    batch = inventory_batch_create(holder=holder, run_by=by, source=InventoryBatch.Source.WEB, filename="inventory.csv",
                                   content=inventory_csv(rows))
    inventory_batch_run(batch=batch)
    patents = list(Patent.objects.filter(holder=holder).order_by("number"))
    assert len(patents) == len(serials) and all(p.annual_fees_paid_through is None for p in patents)
    return patents


def offer(terms, patents, holder, **extra):
    data = {"holder": holder.slug, "patent": [p.pk for p in patents], "terms": terms.pk, "fee_form": "lump_sum",
            "lump_sum": "48000.00", "duration_years": "3", "payment_method": "在线一次性支付 / paid online",
            "contact_name": "王老师", "contact_email": "tto@example.edu.cn", "action": "publish"}
    data.update(extra)
    return data


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def holder():
    return HolderFactory()


@pytest.fixture
def admin(client, holder):
    user = holder_admin(holder)
    client.force_login(user)
    return user


def fees_field(patent):
    return f"fees-{patent.pk}-annual_fees_paid_through"


def test_a_freshly_imported_patent_is_refused_with_a_field_for_its_annual_fees(client, holder, admin, demo_pages):
    [patent] = imported_without_fees(holder, by=admin)
    response = client.post(reverse("declare"), offer(LicenceTermsFactory(), [patent], holder))
    body = response.content.decode()
    assert response.status_code == 200 and "Record the date up to which the annual fees are paid." in body
    assert "Implementing Regulations art. 86" in body
    assert f'name="{fees_field(patent)}"' in body
    # The offer travels with the page, so publishing again needs nothing retyped.
    assert 'name="lump_sum" value="48000.00"' in body and 'name="contact_name" value="王老师"' in body


def test_giving_the_date_records_it_with_an_audit_entry_and_publishes(client, holder, admin, demo_pages):
    [patent] = imported_without_fees(holder, by=admin)
    paid = timezone.localdate() + timedelta(days=200)
    response = client.post(reverse("declare"), offer(LicenceTermsFactory(), [patent], holder,
                                                     **{fees_field(patent): paid.isoformat()}))
    assert response.status_code == 200 and "Refused" not in response.content.decode()
    declaration = Declaration.objects.get(patent=patent)
    assert declaration.state == DeclarationState.FILED and declaration.lump_sum_fen == 4_800_000
    patent.refresh_from_db()
    assert patent.annual_fees_paid_through == paid
    change = patent.changes.get(action=PatentChange.Action.ANNUAL_FEES)
    assert change.by == admin and change.changes == {"annual_fees_paid_through": [None, paid.isoformat()]}


def test_each_patent_declared_at_once_gets_its_own_date(client, holder, admin, demo_pages):
    first, second = imported_without_fees(holder, by=admin, serials=(1, 2))
    terms = LicenceTermsFactory()
    body = client.post(reverse("declare"), offer(terms, [first, second], holder)).content.decode()
    assert f'name="{fees_field(first)}"' in body and f'name="{fees_field(second)}"' in body
    paid = (timezone.localdate() + timedelta(days=30)).isoformat()
    client.post(reverse("declare"), offer(terms, [first, second], holder, **{fees_field(first): paid}))
    assert Declaration.objects.get(patent=first).state == DeclarationState.FILED
    assert not Declaration.objects.filter(patent=second).exists()


def test_a_date_too_far_ahead_is_refused_naming_the_field_and_keeping_what_was_typed(client, holder, admin):
    [patent] = imported_without_fees(holder, by=admin)
    too_late = (timezone.localdate() + timedelta(days=800)).isoformat()
    body = client.post(reverse("declare"), offer(LicenceTermsFactory(), [patent], holder,
                                                 **{fees_field(patent): too_late})).content.decode()
    assert "Annual fees paid through: the date cannot be after" in body
    assert f'value="{too_late}"' in body and 'name="lump_sum" value="48000.00"' in body
    patent.refresh_from_db()
    assert patent.annual_fees_paid_through is None and not Declaration.objects.filter(patent=patent).exists()


def test_a_date_before_the_grant_is_refused(holder):
    patent = PatentFactory(holder=holder, annual_fees_paid_through=None)
    with pytest.raises(ValidationError) as exc:
        patent_annual_fees_record(patent=patent, paid_through=date(2022, 1, 1), by=holder_member(holder))
    assert "annual_fees_paid_through" in exc.value.message_dict
    assert not patent.changes.exists()


def test_changing_the_offer_after_a_refusal_shows_the_form_as_it_was_typed(client, holder, admin):
    [patent] = imported_without_fees(holder, by=admin)
    terms = LicenceTermsFactory()
    client.post(reverse("declare"), offer(terms, [patent], holder))
    response = client.post(reverse("declare"), offer(terms, [patent], holder, action="edit"))
    body = response.content.decode()
    assert response.status_code == 200 and 'class="stacked declaration-form"' in body
    assert 'value="48000.00"' in body and "在线一次性支付 / paid online" in body
    assert not Declaration.objects.filter(patent=patent).exists()


def test_another_organisations_member_cannot_record_the_date(client, holder, admin):
    [patent] = imported_without_fees(holder, by=admin)
    stranger = holder_admin(HolderFactory())
    with pytest.raises(PermissionDenied):
        patent_annual_fees_record(patent=patent, paid_through=timezone.localdate(), by=stranger)
    client.force_login(stranger)
    response = client.post(reverse("declare"), offer(LicenceTermsFactory(), [patent], holder,
                                                     **{fees_field(patent): timezone.localdate().isoformat()}))
    assert response.status_code == 403
    patent.refresh_from_db()
    assert patent.annual_fees_paid_through is None and not patent.changes.filter(action="annual_fees").exists()


def test_a_drafts_page_asks_for_the_date_and_publishing_records_it(client, holder, admin, demo_pages):
    draft = DeclarationFactory(patent=PatentFactory(holder=holder, annual_fees_paid_through=None))
    page = client.get(reverse("declaration_detail", args=[draft.pk])).content.decode()
    assert 'name="annual_fees_paid_through"' in page
    paid = timezone.localdate() + timedelta(days=90)
    client.post(reverse("declaration_file", args=[draft.pk]), {"annual_fees_paid_through": paid.isoformat()})
    draft.refresh_from_db()
    assert draft.state == DeclarationState.FILED and draft.patent.annual_fees_paid_through == paid
    assert draft.patent.changes.filter(action=PatentChange.Action.ANNUAL_FEES, by=admin).exists()


def test_a_drafts_bad_date_is_refused_naming_the_field(client, holder, admin):
    draft = DeclarationFactory(patent=PatentFactory(holder=holder, annual_fees_paid_through=None))
    response = client.post(reverse("declaration_file", args=[draft.pk]),
                           {"annual_fees_paid_through": "2020-01-01"}, follow=True)
    assert "Annual fees paid through: the date cannot be before the grant date" in response.content.decode()
    draft.refresh_from_db()
    assert draft.state == DeclarationState.DRAFT and draft.patent.annual_fees_paid_through is None
