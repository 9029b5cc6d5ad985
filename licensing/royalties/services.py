"""Royalties of royalty licences (fee forms "royalty" and "entry_plus_royalty"): the licensee's reports,
the royalty they make due, the annual-minimum top-up, the invoice and the arrears.

Rules (all money in integer fen; rates are Decimal percent; no float anywhere):

1. **Licence years.** Year 1 runs from `starts_on` to the day before its first anniversary, year 2 from
   there, and so on; the last year ends on `ends_on` (earlier when the patent expires first). A licence
   started on 29 February has its anniversaries on 28 February in common years.
2. **Periods.** A licensee reports each licence year in one report or in up to 4 (e.g. quarterly) reports.
   Reports follow each other without gap or overlap: the first starts on `starts_on`, each next one the day
   after the previous one ends. A period lies inside one licence year and inside the licence term, has
   ended (its last day is today at the latest), and the 4th report of a year runs to that year's last day.
3. **Royalty.** `royalty_fen = base_amount_fen × royalty_rate / 100`, rounded half up to the whole fen
   (ROUND_HALF_UP): see `royalty_amount_fen`, the one place this is computed.
4. **Notice credit.** For a pure royalty licence (fee form "royalty") with an annual minimum, the amount
   paid with the written notice WAS year 1's minimum, paid in advance. It is a credit for year 1 only:
   each year-1 report's royalty is paid out of what is left of it first (`amount_due = royalty + top-up −
   credit used`, never negative). An entry fee is a price of its own and is never credited.
5. **Annual minimum top-up.** When the report that closes a licence year (its `period_end` is the year's
   last day) is filed, `minimum_topup_fen = max(0, annual_minimum − the year's royalties (all its reports,
   this one included) − the part of the notice credit not already used against those royalties)`. With
   the usual credit (= the minimum) that is `max(0, annual_minimum − royalties − credit)`, i.e. zero:
   the year's minimum was paid at notice. A shortened last year (patent expiry) owes the full minimum.
6. **Invoice.** A report with an amount due becomes a `Payment(purpose=ROYALTY, amount_fen=charge_fen=
   amount due)`, due 30 days after `period_end` (`due_on`, also kept on the report), counted as the Civil
   Code counts periods (arts. 201 and 203, `licensing.deadlines`): a due day on a weekend or statutory
   holiday moves to the next working day. It is paid like any
   other payment (card via Stripe, voucher eligible for royalties), see licensing.licences.services. A
   report with nothing due has no payment and is settled at once.
7. **Arrears.** A royalty payment not paid (created, awaiting card or authentication, failed) after its
   due date is in arrears; days past due = today − due_on (so the day after the due date is day 1).
   Licensee and licensor see their own; the IP office sees all.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from licensing import deadlines
from licensing.exceptions import LicensingError, NotAllowed
from licensing.legal.register import cite
from licensing.models import FeeForm
from licensing.models.licences import Licence, LicenceState, Payment, RoyaltyReport
from marketplace.parties.models import Membership, Organisation, User
from marketplace.parties.selectors import user_is_ip_office

ROYALTY_FEE_FORMS = (FeeForm.ROYALTY, FeeForm.ENTRY_PLUS_ROYALTY)
PAYMENT_TERM_DAYS = 30
MAX_REPORTS_PER_YEAR = 4
UNPAID_STATES = (Payment.State.CREATED, Payment.State.REQUIRES_PAYMENT, Payment.State.REQUIRES_ACTION,
                 Payment.State.FAILED)

__all__ = ["royalty_amount_fen", "royalty_report_file", "royalty_arrears"]


# --- arithmetic -----------------------------------------------------------------------------------------

def royalty_amount_fen(base_amount_fen: int, royalty_rate: Decimal) -> int:
    """The royalty on a base (net sales or profit) in fen: base × rate / 100, rounded half up to the whole
    fen. E.g. 3.33% of 1,000,001 fen = 33,300.03333 → 33,300 fen; 1% of 150 fen = 1.5 → 2 fen."""
    exact = Decimal(int(base_amount_fen)) * Decimal(royalty_rate) / Decimal(100)
    return int(exact.quantize(Decimal("1"), rounding=ROUND_HALF_UP))


add_years = deadlines.add_years  # licence years end on the corresponding day (Civil Code art. 202)


@dataclass(frozen=True)
class LicenceYear:
    number: int  # 1-based
    start: date
    end: date

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end


def licence_years(licence: Licence) -> list[LicenceYear]:
    """The licence's years (rule 1); empty before the licence has started."""
    if not (licence.starts_on and licence.ends_on):
        return []
    years, number = [], 1
    start = licence.starts_on
    while start <= licence.ends_on:
        end = min(add_years(licence.starts_on, number) - timedelta(days=1), licence.ends_on)
        years.append(LicenceYear(number, start, end))
        start, number = end + timedelta(days=1), number + 1
    return years


def licence_year_of(licence: Licence, day: date) -> LicenceYear | None:
    return next((y for y in licence_years(licence) if y.contains(day)), None)


def notice_credit_fen(licence: Licence) -> int:
    """Rule 4: what was paid at notice towards year 1's minimum (pure royalty licences with a minimum),
    net of refunds and never more than the minimum; 0 otherwise."""
    if licence.fee_form != FeeForm.ROYALTY or not licence.annual_minimum_fen:
        return 0
    paid = Payment.objects.filter(
        licence=licence, purpose=Payment.Purpose.FIRST_AMOUNT,
        state__in=[Payment.State.SUCCEEDED, Payment.State.PARTIALLY_REFUNDED],
    ).aggregate(amount=Sum("amount_fen"), refunded=Sum("refunded_fen"))
    net = (paid["amount"] or 0) - (paid["refunded"] or 0)
    return max(0, min(net, licence.annual_minimum_fen))


def credit_used_fen(report: RoyaltyReport) -> int:
    """How much of the notice credit a report used: royalty + top-up − amount due."""
    return report.royalty_fen + report.minimum_topup_fen - report.amount_due_fen


@dataclass(frozen=True)
class RoyaltyFigures:
    royalty_fen: int
    minimum_topup_fen: int
    credit_used_fen: int
    amount_due_fen: int
    closes_year: bool


def royalty_figures(*, licence: Licence, year: LicenceYear, period_end: date, base_amount_fen: int,
                    earlier_in_year: list[RoyaltyReport], credit_fen: int) -> RoyaltyFigures:
    """Rules 3–5 for one new report, given the year's earlier reports and the notice credit (year 1 only)."""
    royalty = royalty_amount_fen(base_amount_fen, licence.royalty_rate)
    credit = credit_fen if year.number == 1 else 0
    credit_left = max(0, credit - sum(credit_used_fen(r) for r in earlier_in_year))
    used = min(credit_left, royalty)
    closes = period_end == year.end
    topup = 0
    if closes and licence.annual_minimum_fen:
        year_royalties = royalty + sum(r.royalty_fen for r in earlier_in_year)
        unused_credit = max(0, credit - year_royalties)
        topup = max(0, licence.annual_minimum_fen - year_royalties - unused_credit)
    return RoyaltyFigures(royalty, topup, used, max(0, royalty + topup - used), closes)


# --- the service ----------------------------------------------------------------------------------------

def _validate_period(*, licence: Licence, period_start: date, period_end: date, base_amount_fen: int,
                     reports: list[RoyaltyReport], today: date) -> LicenceYear:
    """Rule 2. Raises ValidationError naming the field(s); returns the licence year of the period."""
    errors: dict[str, list[str]] = {}

    def err(field, message):
        errors.setdefault(field, []).append(cite("royalty_base" if field == "base_amount_fen" else "royalty_period",
                                                 message))

    if not isinstance(base_amount_fen, int) or isinstance(base_amount_fen, bool) or base_amount_fen < 0:
        err("base_amount_fen", _("Report net sales or profit as a whole number of fen, zero or more."))
    expected = reports[-1].period_end + timedelta(days=1) if reports else licence.starts_on
    if period_start < licence.starts_on:
        err("period_start", _("The licence started on %(date)s; a period cannot begin before.")
            % {"date": licence.starts_on.isoformat()})
    elif period_start < expected:
        err("period_start", _("This period overlaps a period already reported; the next report starts on %(date)s.")
            % {"date": expected.isoformat()})
    elif period_start > expected:
        err("period_start", _("Periods follow each other without gaps; the next report starts on %(date)s.")
            % {"date": expected.isoformat()})
    year = licence_year_of(licence, period_start)
    if period_end < period_start:
        err("period_end", _("The period cannot end before it begins."))
    elif period_end > licence.ends_on:
        err("period_end", _("The licence ends on %(date)s; a period cannot run past it.")
            % {"date": licence.ends_on.isoformat()})
    elif year is not None and period_end > year.end:
        err("period_end", _("A period lies inside one licence year; year %(n)s ends on %(date)s.")
            % {"n": year.number, "date": year.end.isoformat()})
    elif period_end > today:
        err("period_end", _("A period can be reported once it is over; this one ends on %(date)s.")
            % {"date": period_end.isoformat()})
    elif year is not None:
        in_year = [r for r in reports if year.contains(r.period_start)]
        if len(in_year) >= MAX_REPORTS_PER_YEAR - 1 and period_end != year.end:
            err("period_end", _("A licence year is reported in at most %(max)s reports; this one must run to the "
                                "year's last day, %(date)s.") % {"max": MAX_REPORTS_PER_YEAR, "date": year.end.isoformat()})
    if year is None and not errors:
        err("period_start", _("The period must lie inside the licence term."))
    if errors:
        raise ValidationError(errors)
    return year


@transaction.atomic
def royalty_report_file(*, licence: Licence, period_start: date, period_end: date, base_amount_fen: int, by: User,
                        today: date | None = None) -> RoyaltyReport:
    """File the licensee's report of net sales (or profit) for a period and invoice the royalty (module
    rules 2–6). Only members of the licensee may file, only for an active royalty licence. The licence row
    is locked, so two reports filed at once are checked one after the other. Raises NotAllowed,
    LicensingError, or ValidationError naming the field (period_start, period_end, base_amount_fen)."""
    licence = Licence.objects.select_for_update().get(pk=licence.pk)
    if not Membership.objects.filter(user=by, organisation_id=licence.licensee_id).exists():
        raise NotAllowed(_("Only members of the licensee may file its royalty reports."))
    if licence.fee_form not in ROYALTY_FEE_FORMS or licence.royalty_rate is None:
        raise LicensingError(cite("royalty_licence", _("This licence does not carry a royalty.")))
    if licence.state != LicenceState.ACTIVE or not (licence.starts_on and licence.ends_on):
        raise LicensingError(cite("royalty_licence", _("Royalties are reported on an active licence only.")))
    today = today or timezone.localdate()
    reports = list(RoyaltyReport.objects.filter(licence=licence).order_by("period_start"))
    year = _validate_period(licence=licence, period_start=period_start, period_end=period_end,
                            base_amount_fen=base_amount_fen, reports=reports, today=today)
    figures = royalty_figures(
        licence=licence, year=year, period_end=period_end, base_amount_fen=base_amount_fen,
        earlier_in_year=[r for r in reports if year.contains(r.period_start)],
        credit_fen=notice_credit_fen(licence) if year.number == 1 else 0)
    due_on = deadlines.period_end_days(period_end, PAYMENT_TERM_DAYS)
    payment = None
    if figures.amount_due_fen > 0:
        payment = Payment.objects.create(licence=licence, purpose=Payment.Purpose.ROYALTY,
                                         amount_fen=figures.amount_due_fen, charge_fen=figures.amount_due_fen,
                                         currency=licence.currency, due_on=due_on)
    try:
        with transaction.atomic():
            return RoyaltyReport.objects.create(
                licence=licence, period_start=period_start, period_end=period_end, base_amount_fen=base_amount_fen,
                royalty_fen=figures.royalty_fen, minimum_topup_fen=figures.minimum_topup_fen,
                amount_due_fen=figures.amount_due_fen, due_on=due_on, payment=payment, submitted_by=by)
    except IntegrityError as exc:  # cannot happen under the lock; kept so a race never double-invoices
        raise LicensingError(cite("royalty_period", _("This period has already been reported."))) from exc


# --- selectors ------------------------------------------------------------------------------------------

def licence_has_royalties(licence: Licence) -> bool:
    return licence.fee_form in ROYALTY_FEE_FORMS and licence.royalty_rate is not None


def royalty_next_period_start(licence: Licence) -> date | None:
    """Where the next report begins (None when the whole term is reported or the licence has not started)."""
    if not (licence.starts_on and licence.ends_on):
        return None
    last = RoyaltyReport.objects.filter(licence=licence).order_by("-period_start").first()
    start = last.period_end + timedelta(days=1) if last else licence.starts_on
    return start if start <= licence.ends_on else None


def royalty_reports_for_licence(*, licence: Licence) -> QuerySet[RoyaltyReport]:
    return RoyaltyReport.objects.filter(licence=licence).select_related("payment").order_by("period_start")


def royalty_report_status(report: RoyaltyReport, *, today: date | None = None) -> str:
    """'settled' (nothing was due), 'paid', 'overdue', 'due', or the payment's state (cancelled, refunded…)."""
    if report.payment_id is None:
        return "settled"
    state = report.payment.state
    if state in (Payment.State.SUCCEEDED, Payment.State.PARTIALLY_REFUNDED):
        return "paid"
    if state in UNPAID_STATES:
        return "overdue" if report.due_on < (today or timezone.localdate()) else "due"
    return state


def user_organisations(user: User) -> QuerySet[Organisation]:
    return Organisation.objects.filter(memberships__user=user)


def royalty_visible_licences(*, user: User) -> QuerySet[Licence]:
    """Licences whose royalties the user may see: its organisations' as licensee or licensor; all for the
    IP office and superusers."""
    qs = Licence.objects.all()
    if user.is_superuser or user_is_ip_office(user=user):
        return qs
    orgs = user_organisations(user)
    return qs.filter(Q(licensee__in=orgs) | Q(licensor__in=orgs))


@dataclass(frozen=True)
class ArrearsRow:
    report: RoyaltyReport
    payment: Payment
    licence: Licence
    amount_fen: int
    due_on: date
    days_past_due: int


def royalty_arrears(*, user: User, today: date | None = None) -> list[ArrearsRow]:
    """Rule 7: unpaid royalty invoices past their due date that the user may see, most overdue first."""
    today = today or timezone.localdate()
    payments = (Payment.objects.filter(purpose=Payment.Purpose.ROYALTY, state__in=UNPAID_STATES, due_on__lt=today,
                                       licence__in=royalty_visible_licences(user=user))
                .select_related("licence__patent", "licence__licensee", "licence__licensor", "royalty_report")
                .order_by("due_on", "pk"))
    rows = []
    for p in payments:
        report = getattr(p, "royalty_report", None)
        if report is None:
            continue
        rows.append(ArrearsRow(report=report, payment=p, licence=p.licence, amount_fen=p.amount_fen, due_on=p.due_on,
                               days_past_due=(today - p.due_on).days))
    return rows
