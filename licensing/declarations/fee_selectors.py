"""Reads on annual fees: a patent's fees year by year with the reduction each year gets (from its recorded
statutory licences, its declaration's withdrawal and its holder's small-entity reduction), the calculator the
declaration page shows, and the open-licence reduction granted so far (an indicator the IP office reports).

The arithmetic is licensing.declarations.fees (``annual_fee_schedule``); this module only gathers its inputs."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from licensing.declarations import fees
from licensing.models import Declaration
from licensing.models.licences import Licence, LicenceBasis, LicenceState
from marketplace.parties.models import Organisation
from patents.models import Patent


def small_entity_reduction_for(*, patent: Patent, qualified: bool | None = None) -> Decimal | None:
    """The share the small-entity reduction takes off this patent's annual fees: 85% for a sole patentee, 70%
    when others co-own it (专利收费减缴办法 art. 4; each co-owner must qualify, art. 3 para. 2, which the
    holder's statement covers); None when the holder does not qualify. ``qualified`` overrides the holder's
    recorded ``fee_reduction_qualified`` (the calculator's "what if")."""
    if qualified is None:
        qualified = patent.holder.fee_reduction_qualified
    if not qualified:
        return None
    co_owned = any(owner.organisation_id != patent.holder_id for owner in patent.co_owners.all())
    return fees.SMALL_ENTITY_REDUCTION_JOINT if co_owned else fees.SMALL_ENTITY_REDUCTION_SOLE


def _statutory_recorded(licences: Iterable[Licence]) -> list[Licence]:
    return [licence for licence in licences
            if licence.basis == LicenceBasis.STATUTORY and licence.recorded_on is not None
            and licence.state != LicenceState.CANCELLED]


def open_licence_periods(*, patent: Patent, licences: Iterable[Licence]) -> list[fees.OpenLicencePeriod]:
    """The periods in which the patent's annual fees are reduced by 15%: one per statutory licence recorded
    with CNIPA, from its recording to the end of its term (its termination, if earlier), cut at the
    announcement of its declaration's withdrawal. A platform licence (declaration only filed, never announced)
    gives none: it is an ordinary licence contract."""
    periods = []
    for licence in _statutory_recorded(licences):
        ends_on = licence.ends_on or patent.expiry_date
        if licence.terminated_at is not None:
            ends_on = min(ends_on, timezone.localdate(licence.terminated_at))
        periods.append(fees.OpenLicencePeriod(licence.recorded_on, ends_on,
                                              licence.declaration.withdrawal_announced_on))
    return periods


def patent_annual_fees(*, patent: Patent, licences: Iterable[Licence] | None = None,
                       small_entity: bool | None = None,
                       extra_periods: Iterable[fees.OpenLicencePeriod] = ()) -> list[fees.AnnualFeeYear]:
    """Every annual fee of the patent (from the year of grant to expiry, term-compensation years included): due
    date, standard fee, small-entity fee, open-licence fee, the fee applied and the rule and reason that set
    it. ``licences`` default to the patent's own (with their declarations); ``small_entity`` overrides the
    holder's recorded qualification; ``extra_periods`` add assumed recordings (the calculator's projection)."""
    if licences is None:
        licences = patent.licences.select_related("declaration")
    return fees.annual_fee_schedule(
        kind=patent.kind, filing_date=patent.filing_date, expiry_date=patent.expiry_date,
        grant_date=patent.grant_date, term_extension_days=patent.term_extension_days,
        periods=open_licence_periods(patent=patent, licences=licences) + list(extra_periods),
        small_entity_reduction=small_entity_reduction_for(patent=patent, qualified=small_entity))


FEE_RULE_LABELS = {
    fees.FeeRule.STANDARD: _("No reduction"),
    fees.FeeRule.OPEN_LICENCE: _("Open-licence reduction (15%)"),
    fees.FeeRule.SMALL_ENTITY: _("Small-entity reduction"),
}
FEE_REASON_LABELS = {
    fees.FeeReason.OPEN_LICENCE: _("Falls due while a licence under the announced declaration is recorded."),
    fees.FeeReason.SMALL_ENTITY_BETTER: _("Both reductions apply; the small-entity one takes more off. They are "
                                          "never combined."),
    fees.FeeReason.SMALL_ENTITY: _("The small-entity reduction covers the year of grant and the nine years after."),
    fees.FeeReason.NO_RECORDED_LICENCE: _("No licence under an announced declaration is recorded with CNIPA."),
    fees.FeeReason.DUE_BEFORE_RECORDING: _("Falls due before the licence was recorded with CNIPA."),
    fees.FeeReason.AFTER_LICENCE_TERM: _("Falls due after the recorded licence's term."),
    fees.FeeReason.AFTER_WITHDRAWAL: _("The declaration's withdrawal was announced: the reduction ends from the next "
                                       "patent year."),
    fees.FeeReason.PART_YEAR: _("The last part year of the term compensation costs nothing."),
}


@dataclass(frozen=True)
class CalculatorLine:
    year: fees.AnnualFeeYear

    @property
    def rule_label(self) -> str:
        return str(FEE_RULE_LABELS[self.year.rule])

    @property
    def reason_label(self) -> str:
        return str(FEE_REASON_LABELS[self.year.reason])


@dataclass(frozen=True)
class AnnualFeeCalculator:
    """What the declaration page shows: the remaining years' fees with both reductions and the one applied.
    ``projected`` when no statutory licence is recorded yet: the open-licence column then assumes one is
    recorded on ``today`` and runs for the declaration's duration (what declaring would save)."""

    rows: list[fees.AnnualFeeYear]
    granted_fen: int
    small_entity: bool
    small_entity_reduction: Decimal | None
    projected: bool
    today: date

    @property
    def lines(self) -> list[CalculatorLine]:
        return [CalculatorLine(row) for row in self.rows]

    @property
    def calendar_gap(self) -> bool:
        """Whether a payment date falls in a year the holiday calendar does not know yet (weekends only)."""
        from licensing.deadlines import calendar_knows

        return any(not calendar_knows(row.due_on.year) for row in self.rows)

    @property
    def standard_total_fen(self) -> int:
        return sum(r.standard_fee_fen for r in self.rows)

    @property
    def applied_total_fen(self) -> int:
        return sum(r.applied_fee_fen for r in self.rows)

    @property
    def reduction_total_fen(self) -> int:
        return self.standard_total_fen - self.applied_total_fen


def annual_fee_calculator(*, declaration: Declaration, small_entity: bool | None = None,
                          today: date | None = None) -> AnnualFeeCalculator:
    """The annual-fee calculator of a declaration's patent as of ``today``: the years from the current patent
    year on, and the open-licence reduction already granted."""
    from licensing.deadlines import add_years

    today = today or timezone.localdate()
    patent = declaration.patent
    licences = list(patent.licences.select_related("declaration"))
    qualified = patent.holder.fee_reduction_qualified if small_entity is None else small_entity
    actual = patent_annual_fees(patent=patent, licences=licences, small_entity=qualified)
    projected = not _statutory_recorded(licences)
    rows = actual
    if projected:
        ends_on = min(add_years(today, declaration.duration_years or 1) - timedelta(days=1), patent.expiry_date)
        rows = patent_annual_fees(patent=patent, licences=licences, small_entity=qualified,
                                  extra_periods=[fees.OpenLicencePeriod(today, ends_on)])
    current = fees.patent_year(patent.filing_date, today)
    return AnnualFeeCalculator(
        rows=[r for r in rows if r.patent_year >= current],
        granted_fen=fees.open_licence_reduction_granted_fen(actual, today=today),
        small_entity=bool(qualified),
        small_entity_reduction=small_entity_reduction_for(patent=patent, qualified=qualified),
        projected=projected, today=today)


@dataclass(frozen=True)
class FeeReductionGranted:
    """The open-licence reduction granted on annual fees that fell due by ``today``: the total in fen, how many
    patents and patent years it reached, and the total per patent id."""

    total_fen: int
    patents: int
    years: int
    by_patent_fen: dict[int, int]
    today: date


def open_licence_fee_reduction_granted(*, today: date | None = None, holder: Organisation | None = None,
                                       patents: QuerySet[Patent] | None = None,
                                       since: date | None = None) -> FeeReductionGranted:
    """The 15% open-licence reduction granted so far: over every patent with a statutory licence recorded with
    CNIPA (narrowed to one holder's, or to ``patents``), the reductions on annual fees that fell due by
    ``today`` (and on or after ``since``, when given) in a year the open-licence reduction was the better one.
    A year the small-entity reduction served better counts nothing: the two are never combined.

    Reads the recorded statutory licences once (with their declarations, patents, holders and co-owners); the
    schedule of each patent is computed in Python."""
    today = today or timezone.localdate()
    qs = (Licence.objects.filter(basis=LicenceBasis.STATUTORY, recorded_on__isnull=False, recorded_on__lte=today)
          .exclude(state=LicenceState.CANCELLED)
          .select_related("declaration", "patent__holder").prefetch_related("patent__co_owners"))
    if holder is not None:
        qs = qs.filter(patent__holder=holder)
    if patents is not None:
        qs = qs.filter(patent__in=patents)
    by_patent: dict[int, list[Licence]] = defaultdict(list)
    for licence in qs:
        by_patent[licence.patent_id].append(licence)
    totals, years = {}, 0
    for licences in by_patent.values():
        patent = licences[0].patent
        granted = [r for r in patent_annual_fees(patent=patent, licences=licences)
                   if r.open_licence_reduction_fen and r.due_on <= today and (since is None or r.due_on >= since)]
        if granted:
            totals[patent.pk] = sum(r.open_licence_reduction_fen for r in granted)
            years += len(granted)
    return FeeReductionGranted(total_fen=sum(totals.values()), patents=len(totals), years=years,
                               by_patent_fen=totals, today=today)
