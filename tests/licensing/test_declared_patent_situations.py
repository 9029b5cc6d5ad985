"""Regulations art. 86 situations arising on a declared patent: recorded on the patent's page, by an inventory
import or found by the daily check, each prompts the holder to withdraw (on its declaration and portfolio pages,
until withdrawn or cured) and tells each licensee once, in the app and by e-mail."""

import io
from datetime import date, timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone, translation

from licensing.declarations.situations import HOLDER_NOTICE, LICENSEE_NOTICE, withdrawal_prompts
from marketplace.parties.models import Membership, Notification
from marketplace.parties.notifications import notification_text
from patents.inventory.services import inventory_batch_create, inventory_batch_run, patent_standing_record
from patents.models import InventoryBatch, PatentChange
from tests.licensing.factories import LicenceFactory, holder_admin
from tests.licensing.fixtures_payments import published_declaration
from tests.parties.factories import IPOfficeFactory, OrganisationFactory, member
from tests.patents.factories import inventory_csv

pytestmark = pytest.mark.django_db

REGS_86_2 = ("Implementing Regulations (2023) art. 86 item (2); Implementing Regulations (2023) art. 103; "
             "Implementing Regulations (2023) art. 104")


@pytest.fixture
def declared():
    """A published declaration with one active licensee (one member) and the holder's administrator."""
    declaration = published_declaration()
    licence = LicenceFactory(declaration=declaration, active=True, licensee=OrganisationFactory())
    return {"declaration": declaration, "patent": declaration.patent, "admin": holder_admin(declaration.holder),
            "licensee_user": member(licence.licensee)}


def notices(kind):
    return list(Notification.objects.filter(kind=kind).order_by("pk"))


def holder_prompt(declaration):
    """The prompt sent to the holder: one notification per member of the holder, alike."""
    prompts = notices(HOLDER_NOTICE)
    members = set(Membership.objects.filter(organisation=declaration.holder).values_list("user_id", flat=True))
    assert sorted(p.user_id for p in prompts) == sorted(members) and len(members) == 2  # publisher and admin
    assert len({(p.params["situation"], p.params["key"]) for p in prompts}) == 1
    return prompts[0]


def test_a_suspension_recorded_on_the_patents_page_prompts_the_holder_and_tells_the_licensee(
        declared, django_capture_on_commit_callbacks):
    patent, admin = declared["patent"], declared["admin"]
    with django_capture_on_commit_callbacks(execute=True):
        patent_standing_record(patent=patent, by=admin, procedure_suspension="preservation_order",
                               procedure_suspended_on=date(2026, 11, 30))

    prompt = holder_prompt(declared["declaration"])
    [notice] = notices(LICENSEE_NOTICE)
    assert notice.user == declared["licensee_user"]
    assert prompt.params["situation"] == "procedure_suspended"
    assert prompt.url == reverse("declaration_detail", args=[declared["declaration"].pk])
    with translation.override("en"):
        title, body = notification_text(LICENSEE_NOTICE, notice.params)
    assert title == f"The open licence of {patent.number}: a situation arose on the patent"
    assert f"(procedure_suspended: {REGS_86_2})" in body
    assert body.endswith("your licence stays in force on its terms (rule art86_situation: "
                         "Implementing Regulations (2023) art. 86).")
    with translation.override("zh-hans"):
        _title, body_zh = notification_text(LICENSEE_NOTICE, notice.params)
    assert "《专利法实施细则》（2023年修订）第八十六条第（二）项" in body_zh and "您的许可按原条款继续有效" in body_zh
    # One e-mail each (both languages in one message).
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [n.user.email for n in notices(HOLDER_NOTICE)] + [declared["licensee_user"].email])
    assert "/" in mail.outbox[0].subject  # Chinese / English
    assert PatentChange.objects.filter(patent=patent, action=PatentChange.Action.STANDING).count() == 1

    # Saving again tells nobody twice.
    patent_standing_record(patent=patent, by=admin, procedure_suspension="preservation_order",
                           procedure_suspended_on=date(2026, 11, 30), pledged=False)
    assert len(notices(HOLDER_NOTICE)) == 2 and len(notices(LICENSEE_NOTICE)) == 1


def test_the_prompt_stands_on_the_holders_pages_until_cured(declared, client, demo_pages):
    patent, admin, declaration = declared["patent"], declared["admin"], declared["declaration"]
    patent_standing_record(patent=patent, by=admin, exclusive_licence_in_force=True)
    [prompt] = withdrawal_prompts(holder=declaration.holder)
    assert [(s.code, s.source) for s in prompt.situations] == [
        ("exclusive_licence", "Implementing Regulations (2023) art. 86 item (1); Patent Law (2020) art. 51 para. 3")]

    client.force_login(admin)
    detail = client.get(reverse("declaration_detail", args=[declaration.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert detail.status_code == 200
    body = detail.content.decode()
    assert 'class="message error withdrawal-prompt"' in body and 'data-rule="exclusive_licence"' in body
    portfolio = client.get(reverse("portfolio") + f"?holder={declaration.holder.slug}").content.decode()
    assert 'data-rule="exclusive_licence"' in portfolio

    # The licensee sees the public declaration but no prompt (it is told by notice instead).
    client.force_login(declared["licensee_user"])
    assert "withdrawal-prompt" not in client.get(reverse("declaration_detail", args=[declaration.pk])).content.decode()

    patent_standing_record(patent=patent, by=admin, exclusive_licence_in_force=False)
    assert withdrawal_prompts(holder=declaration.holder) == []
    client.force_login(admin)
    assert "withdrawal-prompt" not in client.get(reverse("declaration_detail", args=[declaration.pk])).content.decode()


def test_a_pledge_without_the_pledgees_consent_arising_by_import_prompts_the_holder(declared):
    patent = declared["patent"]
    content = inventory_csv([{"number": patent.number, "title": patent.title, "kind": "invention",
                              "filing_date": patent.filing_date, "grant_date": patent.grant_date,
                              "legal_status": "granted", "pledged": "是"}], headers="zh")
    batch = inventory_batch_create(holder=patent.holder, run_by=None, source=InventoryBatch.Source.WEB,
                                   filename="inventory.csv", content=content, partial=False, language="en")
    summary = inventory_batch_run(batch=batch, today=timezone.localdate())
    assert (summary.status, summary.updated) == (InventoryBatch.Status.SUCCEEDED, 1)
    assert holder_prompt(declared["declaration"]).params["situation"] == "pledgee_consent"
    assert len(notices(LICENSEE_NOTICE)) == 1


def test_the_daily_check_finds_fees_unpaid_past_their_date_and_tells_once(declared):
    patent = declared["patent"]
    paid_through = timezone.localdate() + timedelta(days=10)
    type(patent).objects.filter(pk=patent.pk).update(annual_fees_paid_through=paid_through)
    out = io.StringIO()
    call_command("check_declared_patents", "--today", str(paid_through), stdout=out)
    assert out.getvalue().strip() == "0 declarations checked, 0 with a situation, 0 situations told"

    later = paid_through + timedelta(days=1)
    call_command("check_declared_patents", "--today", str(later), stdout=out)
    assert out.getvalue().strip().endswith("1 declarations checked, 1 with a situation, 1 situations told")
    prompt = holder_prompt(declared["declaration"])
    assert (prompt.params["situation"], prompt.params["key"]) == ("fees_unpaid", str(paid_through))
    assert len(notices(LICENSEE_NOTICE)) == 1

    out = io.StringIO()
    call_command("check_declared_patents", "--today", str(later + timedelta(days=1)), stdout=out)
    assert out.getvalue().strip() == "1 declarations checked, 1 with a situation, 0 situations told"


def test_only_the_holders_members_record_the_standing(declared, client, demo_pages):
    patent = declared["patent"]
    url = reverse("patent_standing", args=[patent.pk])
    data = {"procedure_suspension": "ownership_dispute", "procedure_suspended_on": "2026-12-01"}
    client.force_login(declared["licensee_user"])
    assert client.post(url, data).status_code == 404  # another holder's patent is not acknowledged
    client.force_login(member(IPOfficeFactory()))
    assert client.post(url, data).status_code == 404  # the IP office only reads
    patent.refresh_from_db()
    assert patent.procedure_suspension == ""

    client.force_login(declared["admin"])
    assert client.post(url, {"procedure_suspension": "ownership_dispute"}).status_code == 302
    patent.refresh_from_db()
    assert patent.procedure_suspension == ""  # refused: a suspension needs its date
    assert client.post(url, data).status_code == 302
    patent.refresh_from_db()
    assert (patent.procedure_suspension, patent.procedure_suspended_on) == ("ownership_dispute", date(2026, 12, 1))
    page = client.get(reverse("patent_detail", args=[patent.pk])).content.decode()
    assert 'name="procedure_suspension"' in page and 'class="suspension"' in page
