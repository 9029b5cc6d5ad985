"""The world the permission matrix runs against, built once per test module with the apps' factories (and,
where a record only exists as the result of a flow, the service that makes it): holder A with draft and
published declarations, a batch with an error report, licences taken by licensee L1 (active, awaiting
payment, on royalties with a filed report), a voucher, needs and notifications; holder B and licensee L2
as the "other" parties, each with records whose distinctive text must never reach anyone else.

Building the world is not checking permissions: every check in test_permission_matrix goes through HTTP."""

from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.utils import timezone

from licensing.declarations import services as licensing_services
from licensing.models import FeeForm, RoyaltyBase
from licensing.models.licences import LicenceState, Payment
from licensing.royalties import services as royalties
from licensing.royalties.services import add_years
from marketplace.demo.seed import seed_pages
from marketplace.listings import services as listings
from marketplace.models import PatentListingPage
from marketplace.needs import services as needs
from marketplace.parties.models import MembershipRole, Notification
from marketplace.pools import services as pools
from patents.models import InventoryBatch
from tests.licensing.factories import (
    DeclarationFactory,
    LicenceFactory,
    LicenceTermsFactory,
    PaymentFactory,
    VoucherFactory,
    eligible_patent,
)
from tests.parties.factories import HolderFactory, IPOfficeFactory, OrganisationFactory, UserFactory, member

ROLES = ("anonymous", "licensee_member", "licensee_admin", "holder_member", "holder_admin", "editor", "ip_office",
         "superuser")

# Distinctive text of each party's private records, and the roles entitled to see it. A 200 answer to any
# other role must not contain it (holder A's and licensee L1's own roles act for A and L1, never for B or L2).
A_PARTY = {"holder_member", "holder_admin", "ip_office", "superuser"}
L1_PARTY = {"licensee_member", "licensee_admin", "ip_office", "superuser"}
OFFICE = {"ip_office", "superuser"}
SECRETS = {
    "SECRET-A-DRAFT-TITLE": A_PARTY,            # holder A's draft declaration's patent
    "secret-a-batch-file": A_PARTY,             # holder A's inventory batch
    "a-member-secret@example.cn": A_PARTY,      # holder A's member list
    "SECRET-L1-FIELD-OF-USE": L1_PARTY | A_PARTY,  # L1's notice to A (the licensor sees it)
    "CX2026-SECRETL1": L1_PARTY,                # L1's voucher
    "SECRET-L1-PRIVATE-NEED": L1_PARTY,         # L1's need kept off the board
    "SECRET-B-DRAFT-TITLE": OFFICE,             # holder B's draft declaration's patent
    "secret-b-batch-file": OFFICE,              # holder B's inventory batch
    "SECRET-L2-FIELD-OF-USE": OFFICE,           # L2's notice to B
    "CX2026-SECRETL2": OFFICE,                  # L2's voucher
    "SECRET-L2-PRIVATE-NEED": OFFICE,           # L2's need kept off the board
    "秘密二号公司": OFFICE,                     # L2's name: only on its anonymous need and its own records
    "L2SECRET": OFFICE,                         # L2's certificate numbers
    "76,543.21": OFFICE,                        # the net sales L2 reported to B
}


def _member(organisation, role=MembershipRole.MEMBER, **user):
    return member(organisation, role, **user)


def _royalty_declaration(holder, terms):
    declaration = DeclarationFactory(patent=eligible_patent(holder=holder), terms_version=terms,
                                     fee_form=FeeForm.ROYALTY, lump_sum_fen=None, royalty_base=RoyaltyBase.NET_SALES,
                                     royalty_rate=Decimal("5.00"), annual_minimum_fen=None)
    return declaration


def _licence(declaration, licensee, *, state=LicenceState.ACTIVE, field_of_use="电池制造", started_days_ago=0,
             certificate_number=None):
    """A licence as licence_notice_submit and its payment leave it (built with the ORM, as the ledger tests
    do), with its first amount: paid when active, waiting when payment is pending."""
    starts = timezone.localdate() - timedelta(days=started_days_ago)
    fields = {"declaration": declaration, "licensee": licensee, "state": state, "notice_field_of_use": field_of_use,
              "duration_years": 3}
    if state == LicenceState.ACTIVE:
        fields.update(starts_on=starts, ends_on=add_years(starts, 3) - timedelta(days=1), activated_at=timezone.now())
    licence = LicenceFactory(**fields)
    if state == LicenceState.ACTIVE:
        licence.certificate_number = certificate_number or f"OL{starts:%Y}{licence.pk:08d}"
        licence.save(update_fields=["certificate_number"])
    if licence.first_amount_fen:
        if state == LicenceState.ACTIVE:  # paid; no fee rate stored, as this world always left it
            PaymentFactory(licence=licence, paid=True, platform_fee_rate=None, due_on=starts)
        else:
            PaymentFactory(licence=licence, state=Payment.State.CREATED, due_on=starts)
    return licence


def _batch(holder, run_by, filename):
    batch = InventoryBatch.objects.create(
        holder=holder, run_by=run_by, source=InventoryBatch.Source.WEB, original_filename=filename,
        status=InventoryBatch.Status.FAILED, total_rows=2, processed_rows=2, rejected_count=1,
        message="1 row rejected", finished_at=timezone.now())
    batch.error_report.save(f"{filename}-errors.csv", ContentFile(b"row,column,value,reason\r\n2,number,x,bad\r\n"))
    return batch


def _voucher(organisation, code, amount_fen=10_000_000):
    return VoucherFactory(code=code, organisation=organisation, amount_fen=amount_fen)


def _need(organisation, by, title, **fields):
    return needs.need_post(organisation=organisation, by=by, title=title,
                           description="We need a battery management method for grid storage.",
                           technology_field=1, **fields)


def build_world() -> SimpleNamespace:
    seed_pages()  # the site tree the listing pages hang under
    terms = licensing_services.terms_version_current(terms=LicenceTermsFactory())

    holder_a = HolderFactory(name_en="Holder A University", slug="holder-a")
    holder_b = HolderFactory(name_en="Holder B University", slug="holder-b")
    l1 = OrganisationFactory(name_en="Licensee One Co.", slug="licensee-one")
    l2 = OrganisationFactory(name_zh="秘密二号公司", name_en="Secret Licensee Two", slug="licensee-two")
    office = IPOfficeFactory(slug="ip-office")

    users = {
        "anonymous": None,
        "licensee_member": _member(l1),
        "licensee_admin": _member(l1, MembershipRole.ADMIN),
        "holder_member": _member(holder_a, email="a-member-secret@example.cn"),
        "holder_admin": _member(holder_a, MembershipRole.ADMIN),
        "editor": UserFactory(),
        "ip_office": _member(office),
        "superuser": UserFactory(is_superuser=True, is_staff=True),
    }
    users["editor"].groups.add(Group.objects.get(name="Moderators"))
    b_admin = _member(holder_b, MembershipRole.ADMIN)
    l2_admin = _member(l2, MembershipRole.ADMIN)
    a_admin = users["holder_admin"]

    # Holder A: a draft, two published lump-sum declarations (one listed, one with a licence awaiting payment)
    # and a published royalty declaration.
    a_draft = DeclarationFactory(patent=eligible_patent(holder=holder_a, title="SECRET-A-DRAFT-TITLE"),
                                 terms_version=terms)
    a_pub = listings.declaration_file(
        declaration=DeclarationFactory(patent=eligible_patent(holder=holder_a, title="Holder A listed invention"),
                                       terms_version=terms), by=a_admin)
    a_pub2 = licensing_services.declaration_file(declaration=DeclarationFactory(
        patent=eligible_patent(holder=holder_a), terms_version=terms), by=a_admin)
    a_roy = licensing_services.declaration_file(declaration=_royalty_declaration(holder_a, terms), by=a_admin)
    # Holder B: the same kinds of record.
    b_draft = DeclarationFactory(patent=eligible_patent(holder=holder_b, title="SECRET-B-DRAFT-TITLE"),
                                 terms_version=terms)
    b_pub = listings.declaration_file(
        declaration=DeclarationFactory(patent=eligible_patent(holder=holder_b, title="Holder B listed invention"),
                                       terms_version=terms), by=b_admin)
    b_roy = licensing_services.declaration_file(declaration=_royalty_declaration(holder_b, terms), by=b_admin)

    a_batch = _batch(holder_a, a_admin, "secret-a-batch-file.csv")
    b_batch = _batch(holder_b, b_admin, "secret-b-batch-file.csv")

    l1_licence = _licence(a_pub, l1, field_of_use="SECRET-L1-FIELD-OF-USE")
    l1_pending = _licence(a_pub2, l1, state=LicenceState.PAYMENT_PENDING)
    l1_royalty = _licence(a_roy, l1, started_days_ago=400)
    l2_licence = _licence(b_pub, l2, field_of_use="SECRET-L2-FIELD-OF-USE", certificate_number="OL2026L2SECRET1")
    quarter = (l1_royalty.starts_on, l1_royalty.starts_on + timedelta(days=89))
    l1_report = royalties.royalty_report_file(licence=l1_royalty, period_start=quarter[0], period_end=quarter[1],
                                              base_amount_fen=1_000_000, by=users["licensee_member"])
    l2_royalty = _licence(b_roy, l2, started_days_ago=400, field_of_use="SECRET-L2-FIELD-OF-USE",
                          certificate_number="OL2026L2SECRET2")
    l2_report = royalties.royalty_report_file(
        licence=l2_royalty, period_start=l2_royalty.starts_on, period_end=l2_royalty.starts_on + timedelta(days=89),
        base_amount_fen=7_654_321, by=l2_admin)

    l1_voucher = _voucher(l1, "CX2026-SECRETL1")
    l2_voucher = _voucher(l2, "CX2026-SECRETL2")

    l1_need = _need(l1, users["licensee_admin"], "Licensee One public need")
    l1_private_need = _need(l1, users["licensee_admin"], "SECRET-L1-PRIVATE-NEED", public=False)
    l2_private_need = _need(l2, l2_admin, "SECRET-L2-PRIVATE-NEED", public=False)
    l2_anonymous_need = _need(l2, l2_admin, "An anonymous buyer's need", anonymous=True)

    notifications = {role: Notification.objects.create(user=user, kind="test", params={}, url="/")
                     for role, user in users.items() if user is not None}
    l2_notification = Notification.objects.create(user=l2_admin, kind="test", params={}, url="/")

    def listing(declaration):
        return PatentListingPage.objects.get(declaration=declaration, alias_of__isnull=True)

    office_pool = pools.pool_create(by=users["ip_office"], name="Pilot pool 2026", cut_off_date=timezone.localdate())

    return SimpleNamespace(
        users=users, holder_a=holder_a, holder_b=holder_b, l1=l1, l2=l2, office=office,
        a_member_membership=holder_a.memberships.get(user=users["holder_member"]),
        a_draft=a_draft, a_pub=a_pub, b_draft=b_draft, b_pub=b_pub, b_roy=b_roy,
        a_listing=listing(a_pub), b_listing=listing(b_pub),
        a_batch=a_batch, b_batch=b_batch,
        l1_licence=l1_licence, l1_pending=l1_pending, l1_royalty=l1_royalty, l1_report=l1_report,
        l2_licence=l2_licence, l2_royalty=l2_royalty, l2_report=l2_report,
        l1_voucher=l1_voucher, l2_voucher=l2_voucher,
        l1_need=l1_need, l1_private_need=l1_private_need, l2_private_need=l2_private_need,
        l2_anonymous_need=l2_anonymous_need,
        notifications=notifications, l2_notification=l2_notification, office_pool=office_pool,
    )
