"""The audit log (marketplace/audit): each audited record's state changes leave an entry with the fields before
and after, in the same transaction; entries cannot be changed or deleted (by the application, and on PostgreSQL
by a trigger); the transitions that used to update rows in bulk are logged; the actor is the signed-in user and
system sources are named."""

import sys
from datetime import timedelta
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from licensing.declarations import services as declarations
from licensing.licences import services as licences
from licensing.models import Declaration, FeeForm, RoyaltyBase
from licensing.models.licences import Licence, Payment, RoyaltyReport, Voucher, VoucherUse
from licensing.payments import refunds
from licensing.recording.services import licence_mark_recorded
from licensing.royalties.services import royalty_report_file
from licensing.vouchers.services import voucher_issue
from marketplace.exceptions import AuditLogIsAppendOnly
from marketplace.models.pools import Pool
from marketplace.parties import services as parties
from marketplace.parties.acting import acting_as, current_source
from marketplace.parties.models import Membership, MembershipRole, Organisation
from marketplace.pools import services as pools
from tests.licensing.factories import (
    DeclarationFactory,
    LicenceFactory,
    VoucherFactory,
    declaration_withdraw,
    eligible_patent,
    holder_admin,
)
from tests.parties.factories import HolderFactory, IPOfficeFactory, OrganisationFactory, member

pytestmark = pytest.mark.django_db
CREATE, UPDATE, DELETE = LogEntry.Action.CREATE, LogEntry.Action.UPDATE, LogEntry.Action.DELETE


def entries(obj, model=None):
    """The object's entries, oldest first."""
    content_type = ContentType.objects.get_for_model(model or type(obj))
    return list(LogEntry.objects.filter(content_type=content_type, object_pk=str(obj.pk)).order_by("pk"))


def last_change(obj, field):
    """[before, after] of ``field`` in the object's newest entry that changed it."""
    for entry in reversed(entries(obj)):
        if field in (entry.changes_dict or {}):
            return entry.changes_dict[field]
    raise AssertionError(f"no entry of {obj!r} changes {field}")


def draft_of(holder, **fields):
    return DeclarationFactory(patent=eligible_patent(holder=holder), **fields)


@pytest.fixture
def holder():
    return HolderFactory()


@pytest.fixture
def licensee():
    return OrganisationFactory()


# --- declarations -------------------------------------------------------------------------------------------

def test_a_declarations_draft_publication_and_withdrawal_are_logged_with_before_and_after(holder):
    admin = holder_admin(holder)
    draft = draft_of(holder)
    assert [e.action for e in entries(draft)] == [CREATE]
    assert entries(draft)[0].changes_dict["state"] == ["None", "draft"]

    declarations.declaration_file(declaration=draft, by=admin)
    assert last_change(draft, "state") == ["draft", "filed"]
    declaration_withdraw(declarations, declaration=draft, by=admin, reason="Licensed exclusively.")
    assert last_change(draft, "state") == ["withdrawal_filed", "withdrawn"]
    assert last_change(draft, "withdrawal_reason") == ["", "Licensed exclusively."]
    assert {e.additional_data["holder"] for e in entries(draft)} == {holder.pk}


def test_discarding_a_draft_logs_its_deletion_with_what_it_was(holder):
    draft = draft_of(holder)
    pk = draft.pk
    declarations.declaration_discard(declaration=draft, by=holder_admin(holder))
    deletion = LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(Declaration),
                                       object_pk=str(pk)).latest("pk")
    assert deletion.action == DELETE and deletion.changes_dict["state"] == ["draft", "None"]
    assert deletion.additional_data["holder"] == holder.pk


def test_a_change_that_is_rolled_back_leaves_no_entry(holder):
    draft = draft_of(holder)
    before = len(entries(draft))
    with pytest.raises(RuntimeError), transaction.atomic():
        declarations.declaration_file(declaration=draft, by=holder_admin(holder))
        assert len(entries(draft)) > before  # written in the same transaction as the change...
        raise RuntimeError("the request fails after publishing")
    assert len(entries(draft)) == before  # ...and gone with it
    assert Declaration.objects.get(pk=draft.pk).state == "draft"


# --- licences, payments, vouchers, refunds ---------------------------------------------------------------------

@pytest.fixture
def notice(holder, licensee):
    """A notice given through the service on a published declaration; the licensee's member gave it."""
    declaration = declarations.declaration_file(declaration=draft_of(holder),
                                                   by=holder_admin(holder))
    buyer = member(licensee)
    licence = licences.licence_notice_submit(
        declaration=declaration, licensee=licensee, by=buyer, legal_name=licensee.name_zh, uscc=licensee.uscc,
        contact_name="李经理", contact_email="li@example.cn", contact_phone="", field_of_use="电池制造",
        accepted_terms_sha256=declaration.terms_version.sha256)
    return licence, buyer


def test_a_notice_paid_with_a_voucher_logs_the_licence_payment_voucher_and_its_use(notice, licensee):
    licence, buyer = notice
    assert last_change(licence, "state") == ["notice_submitted", "payment_pending"]
    payment = licence.payments.get()
    assert entries(payment)[0].action == CREATE and entries(payment)[0].additional_data["holder"] == licence.licensor_id
    voucher = VoucherFactory(organisation=licensee, amount_fen=licence.first_amount_fen)

    licences.payment_apply_voucher(payment=payment, voucher=voucher, by=buyer)
    assert last_change(voucher, "balance_fen") == [str(licence.first_amount_fen), "0"]
    use = VoucherUse.objects.get(payment=payment)
    assert entries(use)[0].action == CREATE
    assert last_change(payment, "voucher_fen") == ["0", str(licence.first_amount_fen)]

    licences.payment_start(payment=payment)  # all voucher: succeeds without a card
    assert last_change(payment, "state") == ["created", "succeeded"]
    assert last_change(licence, "state") == ["payment_pending", "active"]
    assert last_change(licence, "certificate_number")[0] == "None"
    assert "terms_text" not in entries(licence)[0].changes_dict  # kept out; its SHA-256 is logged
    assert "terms_sha256" in entries(licence)[0].changes_dict


def test_a_refund_logs_the_payment_the_released_voucher_and_the_terminated_licence(notice, licensee, holder):
    licence, buyer = notice
    payment = licence.payments.get()
    voucher = VoucherFactory(organisation=licensee, amount_fen=licence.first_amount_fen)
    licences.payment_apply_voucher(payment=payment, voucher=voucher, by=buyer)
    licences.payment_start(payment=payment)

    refunds.payment_refund(payment=payment, amount_fen=0, by=holder_admin(holder), reason="Cancelled by agreement.")
    assert last_change(payment, "state") == ["succeeded", "refunded"]
    assert last_change(voucher, "balance_fen") == ["0", str(licence.first_amount_fen)]
    assert last_change(VoucherUse.objects.get(payment=payment), "released") == ["False", "True"]
    assert last_change(licence, "state") == ["active", "terminated"]


def test_cancelling_a_notice_logs_the_voucher_given_back(notice, licensee):
    """licence_cancel gave the voucher balance back with a bulk F() update, which no signal sees; now logged."""
    licence, buyer = notice
    payment = licence.payments.get()
    voucher = VoucherFactory(organisation=licensee, amount_fen=licence.first_amount_fen * 2)
    licences.payment_apply_voucher(payment=payment, voucher=voucher, by=buyer)
    licences.licence_cancel(licence=licence, by=buyer)
    assert last_change(voucher, "balance_fen") == [str(licence.first_amount_fen), str(licence.first_amount_fen * 2)]
    assert last_change(payment, "state") == ["created", "cancelled"]
    assert last_change(licence, "state") == ["payment_pending", "cancelled"]


def test_a_declined_card_logs_the_payment_and_the_licence_falling_to_payment_failed(notice):
    """payment_mark_failed moved the licence with a bulk update, which no signal sees; now logged."""
    licence, _buyer = notice
    payment = licence.payments.get()
    Payment.objects.filter(pk=payment.pk).update(state=Payment.State.REQUIRES_PAYMENT,
                                                 stripe_payment_intent_id="pi_audit_declined")  # as payment_start leaves it
    licences.payment_mark_failed(payment_id=payment.pk, message="Your card was declined.",
                                 intent_id="pi_audit_declined")
    assert last_change(payment, "state") == ["requires_payment", "failed"]
    assert last_change(licence, "state") == ["payment_pending", "payment_failed"]


def test_a_bank_asking_for_3d_secure_is_logged(notice):
    """_follow set requires_action with a bulk update, which no signal sees; now logged."""
    licence, _buyer = notice
    payment = licence.payments.get()
    Payment.objects.filter(pk=payment.pk).update(state=Payment.State.REQUIRES_PAYMENT,
                                                 stripe_payment_intent_id="pi_audit_3ds")
    licences.payment_mark_requires_action(payment_id=payment.pk, intent_id="pi_audit_other")
    assert Payment.objects.get(pk=payment.pk).state == "requires_payment"  # another intent: nothing
    licences.payment_mark_requires_action(payment_id=payment.pk, intent_id="pi_audit_3ds")
    assert last_change(payment, "state") == ["requires_payment", "requires_action"]


def test_a_stripe_webhook_is_logged_without_an_actor_and_names_the_event(notice):
    licence, _buyer = notice
    payment = licence.payments.get()
    Payment.objects.filter(pk=payment.pk).update(state=Payment.State.REQUIRES_PAYMENT,
                                                 stripe_payment_intent_id="pi_audit_webhook")
    event = {"id": "evt_audit_1", "type": "payment_intent.payment_failed", "data": {"object": {
        "id": "pi_audit_webhook", "status": "requires_payment_method", "amount": payment.charge_fen,
        "currency": "cny", "last_payment_error": {"message": "Your card was declined."}}}}
    assert licences.webhook_process(event)
    entry = entries(payment)[-1]
    assert entry.changes_dict["state"] == ["requires_payment", "failed"]
    assert entry.actor_id is None and entry.additional_data["source"] == "stripe webhook evt_audit_1"
    assert entries(licence)[-1].additional_data["source"] == "stripe webhook evt_audit_1"


# --- recording, royalty reports, vouchers, pools, organisations -------------------------------------------------

def test_recording_a_licence_is_logged(holder):
    licence = LicenceFactory(active=True, declaration=draft_of(holder))
    licence_mark_recorded(licence=licence, recording_number="2026990000123", recorded_on=timezone.localdate(),
                          by=holder_admin(holder))
    assert last_change(licence, "recording_number") == ["", "2026990000123"]


def test_a_royalty_report_and_its_invoice_are_logged(holder):
    licence = LicenceFactory(active=True, declaration=draft_of(
                                 holder, fee_form=FeeForm.ROYALTY, lump_sum_fen=None, royalty_base=RoyaltyBase.NET_SALES,
                                 royalty_rate=Decimal("5.00")),
                             starts_on=timezone.localdate() - timedelta(days=200))
    report = royalty_report_file(licence=licence, period_start=licence.starts_on,
                                 period_end=licence.starts_on + timedelta(days=89), base_amount_fen=1_000_000,
                                 by=member(licence.licensee))
    created = entries(report)[0]
    assert created.action == CREATE and created.changes_dict["base_amount_fen"] == ["None", "1000000"]
    assert created.additional_data["holder"] == holder.pk
    assert entries(report.payment)[0].action == CREATE


def test_issuing_a_voucher_is_logged_with_the_ip_office_as_actor_field(licensee):
    officer = member(IPOfficeFactory())
    voucher = voucher_issue(organisation=licensee, amount_fen=50_000, expires_on=timezone.localdate(),
                            eligible_uses=["licence_fees"], by=officer)
    created = entries(voucher)[0]
    assert created.changes_dict["amount_fen"] == ["None", "50000"]
    assert "holder" not in (created.additional_data or {})  # the IP office's alone


def test_a_pools_creation_and_criteria_change_are_logged():
    officer = member(IPOfficeFactory())
    pool = pools.pool_create(by=officer, name="Pilot", cut_off_date=timezone.localdate())
    pools.pool_update_criteria(pool=pool, by=officer, min_remaining_life_years=5)
    assert entries(pool)[0].action == CREATE
    assert last_change(pool, "min_remaining_life_years") == ["0", "5"]


def test_an_organisation_and_its_memberships_are_logged(holder):
    admin = holder_admin(holder)
    parties.organisation_update(organisation=holder, by=admin, description="Battery research.")
    assert last_change(holder, "description") == ["", "Battery research."]
    membership, _created = parties.membership_add(organisation=holder, email="new@example.cn",
                                                  role=MembershipRole.MEMBER, by=admin)
    assert entries(membership)[0].additional_data["holder"] == holder.pk
    pk = membership.pk
    parties.membership_remove(membership=membership, by=admin)
    removed = LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(Membership),
                                      object_pk=str(pk)).latest("pk")
    assert removed.action == DELETE and removed.additional_data["holder"] == holder.pk


# --- append-only ---------------------------------------------------------------------------------------------

def test_the_application_refuses_to_change_or_delete_an_entry(holder):
    entry = entries(draft_of(holder))[0]
    entry.object_repr = "rewritten"
    with pytest.raises(AuditLogIsAppendOnly), transaction.atomic():
        entry.save()
    with pytest.raises(AuditLogIsAppendOnly), transaction.atomic():
        entry.delete()
    with pytest.raises(AuditLogIsAppendOnly), transaction.atomic():
        LogEntry.objects.filter(pk=entry.pk).delete()
    assert LogEntry.objects.get(pk=entry.pk).object_repr != "rewritten"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
@pytest.mark.parametrize("sql", ["UPDATE auditlog_logentry SET object_repr = 'rewritten' WHERE id = %s",
                                 "DELETE FROM auditlog_logentry WHERE id = %s",
                                 "UPDATE auditlog_logentry SET actor_id = NULL, object_repr = 'x' WHERE id = %s"])
def test_on_postgresql_a_trigger_refuses_raw_sql_updates_and_deletes(holder, sql):
    entry = entries(draft_of(holder))[0]
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [entry.pk])
    assert LogEntry.objects.filter(pk=entry.pk, object_repr=entry.object_repr).exists()


def test_deleting_a_user_keeps_their_entries_and_who_they_were(client, holder):
    """Django sets the actor to NULL (the one update the trigger lets through); the e-mail stays."""
    admin = holder_admin(holder)
    client.force_login(admin)
    response = client.post(f"/en/organisations/{holder.slug}/edit/", {
        "name_zh": holder.name_zh, "name_en": holder.name_en, "province": holder.province, "city": "",
        "website": "", "contact_email": "", "contact_phone": "", "description": "edited", "is_holder": "on"})
    assert response.status_code == 302
    entry = entries(holder)[-1]
    assert entry.actor_id == admin.pk and entry.actor_email == admin.email
    assert entry.additional_data["source"] == f"POST /en/organisations/{holder.slug}/edit/"
    client.logout()
    admin.delete()
    entry = LogEntry.objects.get(pk=entry.pk)
    assert entry.actor_id is None and entry.actor_email == admin.email
    assert entry.changes_dict["description"] == ["", "edited"]


# --- sources ---------------------------------------------------------------------------------------------------

def test_a_management_command_is_the_source_when_nothing_else_is_named(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["manage.py", "seed_demo"])
    assert current_source() == "manage.py seed_demo"
    with acting_as("stripe webhook evt_9"):
        assert current_source() == "stripe webhook evt_9"
    monkeypatch.setattr(sys, "argv", ["gunicorn"])
    assert current_source() == ""


def test_a_command_run_names_itself_on_its_entries(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["manage.py", "seed_demo"])
    organisation = OrganisationFactory()
    assert entries(organisation)[0].additional_data["source"] == "manage.py seed_demo"
    assert entries(organisation)[0].actor_id is None


def test_every_audited_model_is_registered():
    from auditlog.registry import auditlog

    from marketplace.audit.recording import AUDITED
    assert {model for model, _exclude in AUDITED.values()} == {
        Declaration, Licence, Payment, Voucher, VoucherUse, RoyaltyReport, Pool, Organisation, Membership}
    assert all(auditlog.contains(model) for model, _exclude in AUDITED.values())


def test_no_bulk_update_of_an_audited_model_is_left_in_the_code():
    """Signals do not see QuerySet.update(): the services save rows of audited models instead."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    names = "Declaration|Licence|Payment|Voucher|VoucherUse|RoyaltyReport|Pool|Organisation|Membership"
    # A statement may go on over lines that end in a comma, a bracket or a backslash (as those it replaced did).
    pattern = re.compile(rf"\b({names})\.objects\b(?:[^\n]*[,\\(]\n)*[^\n]*?\.(update|bulk_update|bulk_create)\(")
    found = [f"{path.relative_to(root)}" for app in ("licensing", "marketplace", "patents")
             for path in (root / app).rglob("*.py") if "migrations" not in path.parts
             and pattern.search(path.read_text(encoding="utf-8"))]
    assert found == []
    assert pattern.search("Licence.objects.filter(pk=p.licence_id, state=s) \\\n            .update(state=f)")



def test_freezing_a_pool_is_logged_with_its_content_hash():
    from tests.marketplace.factories_pools import active_licence, report

    officer = member(IPOfficeFactory())
    today = timezone.localdate()
    start = today - timedelta(days=200)
    licence = active_licence(holder=HolderFactory(), licensee=OrganisationFactory(), starts_on=start,
                             ends_on=today + timedelta(days=700), royalty_rate=Decimal("5.00"))
    report(licence, start=start, end=start + timedelta(days=89), base_fen=10_000_000, royalty_fen=500_000,
           due_fen=500_000, due_on=start + timedelta(days=119), paid_on=start + timedelta(days=110))
    pool = pools.pool_freeze(pool=pools.pool_create(by=officer, name="Pilot", cut_off_date=today), by=officer)
    assert last_change(pool, "state") == ["draft", "frozen"]
    assert last_change(pool, "content_sha256") == ["", pool.content_sha256]
