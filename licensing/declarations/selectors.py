"""Reads on declarations: which holder and declarations a user manages, the gazette, a holder's declarations,
pricing help and calculators."""

import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import django_filters
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from licensing.declarations import fees
from licensing.models import LICENSABLE_DECLARATION_STATES, Declaration, FeeForm, GazetteEntry, LicenceTerms
from marketplace.parties.models import Organisation, OrganisationKind, User
from patents.inventory.selectors import field_choices, holder_organisations_for, user_can_manage_inventory
from patents.models import Patent, PatentKind


def live_terms() -> QuerySet[LicenceTerms]:
    return LicenceTerms.objects.filter(live=True).order_by("name_zh")


def declarations_for_holder(*, holder: Organisation) -> QuerySet[Declaration]:
    return Declaration.objects.filter(holder=holder).select_related("patent", "terms_version").order_by(
        "state", "-filed_at", "-created_at")


def holder_managed_by(*, user: User, slug: str | None) -> Organisation:
    """The holder organisation named by `slug`, or the user's first holder organisation when none is named,
    provided the user may manage its inventory (members and superusers; the IP office only reads).

    Raises Http404 for a slug that names no holder, PermissionDenied when the user manages no holder or not
    this one."""
    if slug and "\x00" in slug:  # no slug holds one, and PostgreSQL refuses a query with it (was a 500)
        raise Http404
    holder = (get_object_or_404(Organisation, slug=slug, is_holder=True) if slug
              else holder_organisations_for(user=user).first())
    if holder is None or not user_can_manage_inventory(user=user, holder=holder):
        raise PermissionDenied
    return holder


def patents_to_declare(*, holder: Organisation, patent_ids: Iterable[str | int]) -> list[Patent]:
    """The holder's patents among `patent_ids`, in number order. Values that are not numbers and patents of
    other holders are dropped (never an error), so a tampered form cannot declare another holder's patent."""
    ids = [int(v) for v in patent_ids if str(v).isdigit()]
    return list(Patent.objects.filter(holder=holder, pk__in=ids).order_by("number"))


def declaration_managed_by(*, user: User, declaration_id: int) -> Declaration:
    """A declaration whose holder's inventory this user may manage (members and superusers).

    Raises Http404 when there is no such declaration or the user may not manage it, so another holder's
    draft is not acknowledged to exist."""
    declaration = get_object_or_404(Declaration, pk=declaration_id)
    if not user_can_manage_inventory(user=user, holder=declaration.holder):
        raise Http404
    return declaration


class GazetteFilter(django_filters.FilterSet):
    """The public gazette's facets; the page and the feed share this definition."""

    kind = django_filters.ChoiceFilter(field_name="kind", choices=GazetteEntry.Kind.choices, label=_("Entry"))
    technology_field = django_filters.TypedChoiceFilter(field_name="declaration__patent__technology_field",
                                                        choices=field_choices, coerce=int, label=_("Technology field"))
    patent_kind = django_filters.ChoiceFilter(field_name="declaration__patent__kind", choices=PatentKind.choices,
                                              label=_("Patent kind"))
    fee_form = django_filters.ChoiceFilter(field_name="declaration__fee_form", choices=FeeForm.choices,
                                           label=_("Fee form"))
    holder = django_filters.CharFilter(field_name="declaration__holder__slug", label=_("Holder"))
    holder_kind = django_filters.ChoiceFilter(field_name="declaration__holder__kind",
                                              choices=[c for c in OrganisationKind.choices if c[0] != "ip_office"],
                                              label=_("Holder kind"))
    since = django_filters.DateFilter(field_name="announced_at", lookup_expr="date__gte", label=_("From"))
    until = django_filters.DateFilter(field_name="announced_at", lookup_expr="date__lte", label=_("Until"))

    class Meta:
        model = GazetteEntry
        fields = []


def gazette(*, params) -> GazetteFilter:
    qs = GazetteEntry.objects.select_related("declaration__patent", "declaration__holder").order_by("-announced_at", "-pk")
    return GazetteFilter(params, queryset=qs)


@dataclass(frozen=True)
class PriceBenchmark:
    technology_field: int | None
    declarations: int
    lump_sum_median_fen: int | None
    lump_sum_min_fen: int | None
    lump_sum_max_fen: int | None
    royalty_median: Decimal | None
    royalty_min: Decimal | None
    royalty_max: Decimal | None
    licences: int


def price_benchmark(*, technology_field: int | None, exclude_patent_ids: list[int] = ()) -> PriceBenchmark:
    """What comparable published declarations (same technology field) ask, and the licences they got.
    Reads only two columns of the field's published declarations; medians are computed in Python because
    SQLite has no percentile aggregate."""
    qs = Declaration.objects.filter(state__in=LICENSABLE_DECLARATION_STATES).exclude(patent_id__in=list(exclude_patent_ids))
    if technology_field is not None:
        qs = qs.filter(patent__technology_field=technology_field)
    lumps = sorted(v for v in qs.values_list("lump_sum_fen", flat=True) if v is not None)
    rates = sorted(v for v in qs.values_list("royalty_rate", flat=True) if v is not None)
    licences = _licence_count(qs)
    return PriceBenchmark(
        technology_field, qs.count(),
        int(statistics.median(lumps)) if lumps else None, lumps[0] if lumps else None, lumps[-1] if lumps else None,
        Decimal(statistics.median(rates)).quantize(Decimal("0.01")) if rates else None,
        rates[0] if rates else None, rates[-1] if rates else None, licences)


def _licence_count(qs) -> int:
    from licensing.models.licences import Licence

    return Licence.objects.filter(declaration__in=qs, state__in=["active", "expired"]).count()


def licensee_cost(*, declaration: Declaration, annual_net_sales_fen: int, annual_profit_fen: int | None = None):
    rows = fees.licence_cost_fen(
        fee_form=declaration.fee_form, years=declaration.duration_years, annual_net_sales_fen=annual_net_sales_fen,
        annual_profit_fen=annual_profit_fen, lump_sum_fen=declaration.lump_sum_fen or 0,
        entry_fee_fen=declaration.entry_fee_fen or 0, royalty_base=declaration.royalty_base or "net_sales",
        royalty_rate=declaration.royalty_rate or Decimal("0"), annual_minimum_fen=declaration.annual_minimum_fen or 0)
    return rows, sum(amount for _, amount in rows)


def licensing_next_steps(*, membership) -> list:
    """Dashboard steps that open licensing offers to this member."""
    from django.urls import reverse
    from django.utils.translation import gettext as _

    from licensing.models.licences import Licence, LicenceState
    from marketplace.parties.selectors import NextStep

    org = membership.organisation
    steps = []
    if org.is_licensee:
        steps.append(NextStep(_("Find a patent to license"),
                              _("Browse the gazette of open-licence declarations and take a licence online."),
                              reverse("gazette")))
        taken = Licence.objects.filter(licensee=org).exclude(state=LicenceState.CANCELLED).count()
        if taken:
            steps.append(NextStep(_("Your licences"), _("%(n)d licence(s): certificates, payments, royalties.") % {"n": taken},
                                  reverse("licence_list")))
    if org.is_holder:
        steps.append(NextStep(_("Your open-licence declarations"), _("Drafts, published offers and withdrawals."),
                              reverse("declaration_list") + f"?holder={org.slug}"))
        granted = Licence.objects.filter(licensor=org, state=LicenceState.ACTIVE).count()
        if granted:
            steps.append(NextStep(_("Licences granted"), _("%(n)d active licence(s) under your declarations.") % {"n": granted},
                                  reverse("licence_list")))
    if org.is_ip_office:
        steps.append(NextStep(_("All licences"), _("Every licence concluded on the platform."), reverse("licence_list")))
    if org.is_holder or org.is_licensee or org.is_ip_office:
        steps.append(NextStep(_("Contract recording deadlines"),
                              _("Licences to record with CNIPA within 3 months of taking effect."),
                              reverse("recording_list")))
        steps.append(NextStep(_("Royalties in arrears"), _("Royalty invoices past their due date."),
                              reverse("royalty_arrears")))
        steps.append(NextStep(_("Statements"), _("Every fen received, owed and refunded, per licence and organisation."),
                              reverse("statement_index")))
    if org.is_licensee or org.is_ip_office:
        steps.append(NextStep(_("Innovation vouchers"), _("Vouchers that pay part of licence fees and royalties."),
                              reverse("voucher_list")))
    return steps


def annual_fees_paid(*, patent: Patent, today: date | None = None) -> bool:
    """Whether the patent's annual fees are recorded as paid through today (the art. 86 rule publishing applies)."""
    today = today or timezone.localdate()
    return patent.annual_fees_paid_through is not None and patent.annual_fees_paid_through >= today
