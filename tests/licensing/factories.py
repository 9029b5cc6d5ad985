"""Licensing factories: live standard terms, an eligible patent, its holder's administrator, a draft
declaration of it, and the licence, payment, voucher and royalty report built on it straight with the ORM
(tests of a flow build through its services instead)."""

from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from licensing.declarations.services import terms_version_current
from licensing.ledger import services as ledger
from licensing.models import Declaration, DeclarationState, FeeForm, LicenceTerms, RoyaltyBase
from licensing.models.licences import Licence, LicenceState, Payment, RoyaltyReport, Voucher
from marketplace.parties.models import MembershipRole
from tests.parties.factories import HolderFactory, OrganisationFactory, member
from tests.patents.factories import PatentFactory


class LicenceTermsFactory(DjangoModelFactory):
    """Bilingual standard terms, published (live) through a Wagtail revision as an editor would."""

    class Meta:
        model = LicenceTerms

    name_zh = factory.Sequence(lambda n: f"开放许可标准条款 {n}")
    name_en = factory.Sequence(lambda n: f"Standard open-licence terms {n}")
    clauses_zh = "第一条 许可为普通许可，在中国大陆地区有效。\n第二条 被许可人按声明的方式和标准支付许可使用费。"
    clauses_en = ("1. The licence is non-exclusive and valid in mainland China.\n"
                  "2. The licensee pays the fee in the declared way and at the declared rate.")
    live = True

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        terms = super()._create(model_class, *args, **kwargs)
        if terms.live:
            terms.save_revision().publish()
            terms.refresh_from_db()
        return terms


SHARED_TERMS_NAME_EN = "Standard open-licence terms (the factory's declarations)"


def shared_terms_version():
    """The current version of the live standard terms that DeclarationFactory's declarations share, made on first
    use in a test's database (found again by their name while they stay live). A market offers one set of
    standard clauses; new terms for every declaration (their Wagtail revision, publication and three search-index
    updates) made a declaration 43 statements instead of 11. Tests about the terms themselves make their own
    with LicenceTermsFactory."""
    terms = LicenceTerms.objects.filter(name_en=SHARED_TERMS_NAME_EN, live=True).order_by("pk").first()
    if terms is None:
        terms = LicenceTermsFactory(name_zh="开放许可标准条款（共用）", name_en=SHARED_TERMS_NAME_EN)
    return terms_version_current(terms=terms)


def eligible_patent(**kwargs):
    """A granted invention in force with its annual fees paid a year ahead and nothing in the way."""
    kwargs.setdefault("annual_fees_paid_through", timezone.localdate() + timedelta(days=365))
    return PatentFactory(**kwargs)


def holder_admin(holder):
    """A user who administers the holder (may create, publish and withdraw its declarations)."""
    return member(holder, MembershipRole.ADMIN)


def holder_member(holder):
    """A plain member of the holder (may prepare drafts, not publish)."""
    return member(holder, MembershipRole.MEMBER)


class DeclarationFactory(DjangoModelFactory):
    """A draft lump-sum declaration of an eligible patent on the live standard terms (shared_terms_version)."""

    class Meta:
        model = Declaration

    patent = factory.LazyFunction(eligible_patent)
    holder = factory.SelfAttribute("patent.holder")
    terms_version = factory.LazyFunction(shared_terms_version)
    state = DeclarationState.DRAFT
    fee_form = FeeForm.LUMP_SUM
    lump_sum_fen = 5_000_000  # RMB 50,000
    payment_method = "一次性付清：通过平台在线支付。 / Paid in full online through the platform."
    duration_years = 3
    field_of_use_note = ""
    contact_name = "王老师"
    contact_email = factory.Sequence(lambda n: f"tto{n}@example.edu.cn")
    conditions_commitment = True
    fee_basis_statement = "参照同领域已备案许可合同的许可费确定。 Set from recorded licence fees in the same field."


def declaration_withdraw(through, *, declaration, by, reason, cnipa_number=""):
    """Withdraw a standing declaration all the way: file the withdrawal, then record CNIPA's announcement of it
    today. `through` is the services module (licensing's, or the marketplace's listings that also unlist)."""
    declaration = through.declaration_file_withdrawal(declaration=declaration, by=by, reason=reason)
    return through.declaration_record_withdrawal_announcement(
        declaration=declaration, by=by, announced_on=timezone.localdate(), cnipa_number=cnipa_number)


def _years_later(day, years):
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


class LicenceFactory(DjangoModelFactory):
    """A licence whose notice was just submitted under a declaration, its fee offer and terms snapshotted
    from it as licence_notice_submit does. `active=True` adds what licence_activate leaves: the term's dates
    and a certificate number; `royalty=True` takes it under a 5% royalty declaration."""

    class Meta:
        model = Licence

    class Params:
        active = factory.Trait(
            state=LicenceState.ACTIVE,
            starts_on=factory.LazyFunction(timezone.localdate),
            ends_on=factory.LazyAttribute(lambda o: _years_later(o.starts_on, o.duration_years) - timedelta(days=1)),
            activated_at=factory.LazyFunction(timezone.now),
            # 9xxxxxxx: clear of the numbers tests write by hand.
            certificate_number=factory.LazyAttributeSequence(lambda o, n: f"OL{o.starts_on:%Y}{90_000_000 + n:08d}"),
        )
        royalty = factory.Trait(declaration=factory.SubFactory(
            DeclarationFactory, fee_form=FeeForm.ROYALTY, lump_sum_fen=None, royalty_base=RoyaltyBase.NET_SALES,
            royalty_rate=Decimal("5.00"), annual_minimum_fen=None))

    declaration = factory.SubFactory(DeclarationFactory)
    patent = factory.SelfAttribute("declaration.patent")
    licensor = factory.SelfAttribute("declaration.holder")
    licensee = factory.SubFactory(OrganisationFactory)
    state = LicenceState.NOTICE_SUBMITTED
    notice_legal_name = factory.SelfAttribute("licensee.name_zh")
    notice_uscc = factory.LazyAttribute(lambda o: o.licensee.uscc or "")
    notice_contact_name = "李经理"
    notice_contact_email = "li@example.cn"
    notice_field_of_use = "电池制造"
    notice_submitted_at = factory.LazyFunction(timezone.now)
    terms_version = factory.SelfAttribute("declaration.terms_version")
    terms_text = factory.SelfAttribute("terms_version.clauses_zh")
    terms_sha256 = factory.SelfAttribute("terms_version.sha256")
    fee_form = factory.SelfAttribute("declaration.fee_form")
    lump_sum_fen = factory.SelfAttribute("declaration.lump_sum_fen")
    entry_fee_fen = factory.SelfAttribute("declaration.entry_fee_fen")
    royalty_base = factory.SelfAttribute("declaration.royalty_base")
    royalty_rate = factory.SelfAttribute("declaration.royalty_rate")
    annual_minimum_fen = factory.SelfAttribute("declaration.annual_minimum_fen")
    duration_years = factory.SelfAttribute("declaration.duration_years")
    first_amount_fen = factory.SelfAttribute("declaration.first_amount_due_fen")


class PaymentFactory(DjangoModelFactory):
    """A licence's first amount, awaiting payment and all by card. `paid=True` makes it succeeded with the
    platform fee rate of the moment stored on it, as payment_mark_succeeded leaves it (the ledger splits
    with that rate; posting it is left to the test: ledger.post_payment_received)."""

    class Meta:
        model = Payment

    class Params:
        paid = factory.Trait(
            state=Payment.State.SUCCEEDED,
            succeeded_at=factory.LazyFunction(timezone.now),
            platform_fee_rate=factory.LazyFunction(ledger.current_platform_fee_rate),
        )

    licence = factory.SubFactory(LicenceFactory, active=True)
    purpose = Payment.Purpose.FIRST_AMOUNT
    state = Payment.State.REQUIRES_PAYMENT
    amount_fen = factory.SelfAttribute("licence.first_amount_fen")
    voucher_fen = 0
    charge_fen = factory.LazyAttribute(lambda o: o.amount_fen - o.voucher_fen)
    due_on = factory.LazyFunction(timezone.localdate)


class VoucherFactory(DjangoModelFactory):
    """An unspent innovation voucher for licence fees and royalties, valid for a year."""

    class Meta:
        model = Voucher

    code = factory.Sequence(lambda n: f"CX2026-F{n:05d}")
    organisation = factory.SubFactory(OrganisationFactory)
    amount_fen = 30_000
    balance_fen = factory.SelfAttribute("amount_fen")
    eligible_uses = factory.LazyFunction(lambda: [Voucher.Use.LICENCE_FEES.value, Voucher.Use.ROYALTIES.value])
    expires_on = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=365))


class RoyaltyReportFactory(DjangoModelFactory):
    """A report of the first year's net sales of an active royalty licence, not yet invoiced."""

    class Meta:
        model = RoyaltyReport

    licence = factory.SubFactory(LicenceFactory, active=True, royalty=True)
    period_start = factory.SelfAttribute("licence.starts_on")
    period_end = factory.LazyAttribute(lambda o: _years_later(o.period_start, 1) - timedelta(days=1))
    base_amount_fen = 1_000_000
    royalty_fen = factory.LazyAttribute(lambda o: int(o.base_amount_fen * (o.licence.royalty_rate or 0) / 100))
    minimum_topup_fen = 0
    amount_due_fen = factory.LazyAttribute(lambda o: o.royalty_fen + o.minimum_topup_fen)
    due_on = factory.LazyAttribute(lambda o: o.period_end + timedelta(days=30))


__all__ = ["DeclarationFactory", "HolderFactory", "LicenceFactory", "LicenceTermsFactory", "PaymentFactory",
           "RoyaltyReportFactory", "VoucherFactory", "eligible_patent", "holder_admin", "holder_member"]
