"""Licensing factories: live standard terms, an eligible patent, its holder's administrator and a draft
declaration of it."""

from datetime import timedelta

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from licensing.declarations.services import terms_version_current
from licensing.models import Declaration, DeclarationState, FeeForm, LicenceTerms
from marketplace.parties.models import MembershipRole
from tests.parties.factories import HolderFactory, MembershipFactory, UserFactory
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


def eligible_patent(**kwargs):
    """A granted invention in force with its annual fees paid a year ahead and nothing in the way."""
    kwargs.setdefault("annual_fees_paid_through", timezone.localdate() + timedelta(days=365))
    return PatentFactory(**kwargs)


def holder_admin(holder):
    """A user who administers the holder (may create, publish and withdraw its declarations)."""
    return MembershipFactory(user=UserFactory(), organisation=holder, role=MembershipRole.ADMIN).user


def holder_member(holder):
    """A plain member of the holder (may prepare drafts, not publish)."""
    return MembershipFactory(user=UserFactory(), organisation=holder, role=MembershipRole.MEMBER).user


class DeclarationFactory(DjangoModelFactory):
    """A draft lump-sum declaration of an eligible patent on live standard terms."""

    class Meta:
        model = Declaration

    patent = factory.LazyFunction(eligible_patent)
    holder = factory.SelfAttribute("patent.holder")
    terms_version = factory.LazyFunction(lambda: terms_version_current(terms=LicenceTermsFactory()))
    state = DeclarationState.DRAFT
    fee_form = FeeForm.LUMP_SUM
    lump_sum_fen = 5_000_000  # RMB 50,000
    payment_method = "一次性付清：通过平台在线支付。 / Paid in full online through the platform."
    duration_years = 3
    field_of_use_note = ""
    contact_name = "王老师"
    contact_email = factory.Sequence(lambda n: f"tto{n}@example.edu.cn")


__all__ = ["DeclarationFactory", "HolderFactory", "LicenceTermsFactory", "eligible_patent", "holder_admin",
           "holder_member"]
