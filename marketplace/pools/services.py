"""IP-securitization pools (知识产权证券化): select licences by the IP office's criteria, cap concentration,
value each licence's future royalties, freeze the pool, and build the pool tape (ESMA Annex IX-style
loan-level data adapted to patent licences), its cash-flow schedule and its summary.

The rules (docs/pools.md explains them with examples; all money integer fen or Decimal, never float):

1. **Candidates.** Active licences. Each is checked in this order and excluded with the first reason that
   applies: not started by the cut-off date; term over (the term ends at the earlier of the licence end and
   the patent expiry); patent not in force; grade; technology field; remaining patent life below the
   minimum (expiry before cut-off + N years); no payment history (no payment succeeded by the cut-off);
   nothing left to receive (no scheduled receivable after the cut-off).
2. **Schedule.** One period per licence year (licensing.royalties.services rule 1) whose payment date (year end + 30
   days, the royalty invoice term) is after the cut-off, until the term end. Lump-sum licences are paid up
   front and schedule nothing. For royalty licences the year's royalties are what was reported plus a
   projection of the unreported days: the licensee's average daily base (all its reports' net sales or
   profit / the days they cover; 0 without reports) × unreported days × rate, rounded half up to the fen.
   The year owes ``max(royalties, annual minimum)``; minus, in year 1 of a pure royalty licence, the notice
   credit (royalties rule 4); minus what the year's reports already invoiced. Never below zero.
3. **Value.** Each scheduled amount is discounted from its payment date to the cut-off at the pool's annual
   rate: factor = 1 / (1 + rate)^(days / 365), rounded to 10 decimals; present value = amount × factor,
   rounded half up to the fen. Arrears are reported, not valued.
4. **Exposure** = the scheduled receivables (undiscounted). Concentration caps compare one licensee's (or
   holder's) exposure with the pool's. While a group is over its cap, the group furthest over gives up its
   smallest exposure (ties: the newest licence), and the shares are recomputed; licensee caps win ties
   with holder caps. The outcome depends only on the candidates, never on the database order.
5. **Summary.** Counts and totals; weighted-average remaining life (term months weighted by exposure, in
   years); HHI = Σ (share in %)² by licensee, holder and technology field (0–10,000); the top 10 exposures.
6. **Freezing** stores every tape row and schedule as computed (JSON), and a SHA-256 of their canonical
   JSON with the criteria; a frozen pool is exported from the stored rows only, so it always yields the
   same bytes. The same rows are kept as typed columns too (PoolColumns), which the exports read while the
   rows are unchanged and the columns hash to the seal.
"""

from __future__ import annotations

import hashlib
import json
from calendar import monthrange
from collections import defaultdict
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, localcontext
from functools import lru_cache
from itertools import chain
from tempfile import TemporaryFile

import pandas as pd
import pyarrow as pa
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.core.files import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from licensing import deadlines
from licensing.models import LICENSABLE_DECLARATION_STATES, FeeForm
from licensing.models.licences import Licence, LicenceState, Payment, RoyaltyReport
from licensing.royalties.services import PAYMENT_TERM_DAYS, ROYALTY_FEE_FORMS, UNPAID_STATES, add_years
from marketplace.exceptions import TamperedPool
from marketplace.models.pools import Pool, PoolColumns, PoolExport, PoolExposure
from marketplace.parties.models import User
from marketplace.parties.selectors import user_is_ip_office
from marketplace.pools import tables
from patents import exports
from patents.inventory import progress
from patents.inventory.fields import FIELDS_BY_NUMBER
from patents.models import Grade, LegalStatus

PAID_STATES = (Payment.State.SUCCEEDED, Payment.State.PARTIALLY_REFUNDED)
DAYS_A_YEAR = Decimal(365)
FACTOR_PLACES = Decimal("1E-10")
TOP_EXPOSURES = 10
# The platform does not record a licensee's size; ESMA's "no data" code says so instead of guessing.
NO_DATA = "ND1"
# The tape's exporter (marketplace.pools.exports, registered in patents.exports): it reads this module's rows,
# so the background export finds it by identifier rather than importing it.
POOL_TAPE_EXPORTER = "pool_tape"

EXCLUSION_REASONS = {
    "not_started": gettext_lazy("Not started by the cut-off date"),
    "term_over": gettext_lazy("Term over by the cut-off date"),
    "patent_not_in_force": gettext_lazy("Patent not in force"),
    "grade": gettext_lazy("Grade not selected"),
    "technology_field": gettext_lazy("Technology field not selected"),
    "remaining_life": gettext_lazy("Remaining patent life too short"),
    "no_payment_history": gettext_lazy("No payment history"),
    "nothing_to_receive": gettext_lazy("Nothing left to receive"),
    "licensee_cap": gettext_lazy("Over the licensee concentration cap"),
    "holder_cap": gettext_lazy("Over the holder concentration cap"),
}


def round_fen(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def months_between(start: date, end: date) -> int:
    """Whole months from start to end (0 when end is not after start). A monthly anniversary that a short
    month lacks falls on its last day (30 July → 28 February is 7 months), as add_years does for 29 February."""
    if end <= start:
        return 0
    months = (end.year - start.year) * 12 + end.month - start.month
    year, month = divmod(start.month - 1 + months, 12)
    anniversary = date(start.year + year, month + 1, min(start.day, monthrange(start.year + year, month + 1)[1]))
    return months - 1 if anniversary > end else months


# --- the facts a tape row is computed from (loaded in bulk, or generated by bench/pool_tape.py) -------------

@dataclass(frozen=True)
class ReportFact:
    period_start: date
    period_end: date
    base_amount_fen: int
    royalty_fen: int
    amount_due_fen: int


@dataclass
class LicenceFacts:
    licence_id: int
    certificate_number: str
    licensee_id: int
    licensee_uscc: str
    licensee_kind: str
    licensee_region: str
    licensee_industry: str
    licensor_id: int
    licensor_uscc: str
    declaration_published: bool
    patent_number: str
    patent_kind: str
    main_ipc: str
    technology_field: int | None
    grade: str
    legal_status: str
    grant_date: date | None
    expiry_date: date
    pledged: bool
    fee_form: str
    royalty_base: str
    royalty_rate: Decimal | None
    lump_sum_fen: int | None
    entry_fee_fen: int | None
    annual_minimum_fen: int | None
    starts_on: date | None
    ends_on: date | None
    recording_number: str
    recorded: bool
    collected_fen: int = 0
    paid_payments: int = 0
    arrears_fen: int = 0
    oldest_unpaid_due_on: date | None = None
    notice_credit_fen: int = 0
    reports: tuple[ReportFact, ...] = ()

    @property
    def term_end(self) -> date | None:
        if self.ends_on is None:
            return None
        return min(self.ends_on, self.expiry_date)

    @property
    def carries_royalty(self) -> bool:
        return self.fee_form in ROYALTY_FEE_FORMS and self.royalty_rate is not None


def licence_facts(*, cut_off: date) -> list[LicenceFacts]:
    """Every active licence with what the tape needs, as known at the cut-off date: payments succeeded by
    then (net of refunds), royalty invoices unpaid past their due date, and the royalty reports. Four
    queries, whatever the number of licences."""
    # values() rather than model instances: a pool may hold 100k licences, and the licence row carries
    # the whole terms text.
    columns = ("pk", "certificate_number", "licensee_id", "licensee__uscc", "notice_uscc", "licensee__kind",
               "licensee__province", "notice_field_of_use", "licensor_id", "licensor__uscc", "declaration__state",
               "patent__number", "patent__kind", "patent__main_ipc", "patent__technology_field",
               "patent__grade_override", "patent__grade_computed", "patent__legal_status", "patent__grant_date",
               "patent__expiry_date", "patent__pledged", "fee_form", "royalty_base", "royalty_rate", "lump_sum_fen",
               "entry_fee_fen", "annual_minimum_fen", "starts_on", "ends_on", "recording_number", "recorded_on")
    facts: dict[int, LicenceFacts] = {}
    for row in Licence.objects.filter(state=LicenceState.ACTIVE).order_by("pk").values(*columns).iterator(
            chunk_size=5000):
        facts[row["pk"]] = LicenceFacts(
            licence_id=row["pk"], certificate_number=row["certificate_number"] or "",
            licensee_id=row["licensee_id"], licensee_uscc=row["licensee__uscc"] or row["notice_uscc"] or "",
            licensee_kind=row["licensee__kind"], licensee_region=row["licensee__province"],
            licensee_industry=row["notice_field_of_use"].strip(), licensor_id=row["licensor_id"],
            licensor_uscc=row["licensor__uscc"] or "",
            declaration_published=row["declaration__state"] in LICENSABLE_DECLARATION_STATES,
            patent_number=row["patent__number"], patent_kind=row["patent__kind"], main_ipc=row["patent__main_ipc"],
            technology_field=row["patent__technology_field"],
            grade=row["patent__grade_override"] or row["patent__grade_computed"],  # as Patent.grade
            legal_status=row["patent__legal_status"], grant_date=row["patent__grant_date"],
            expiry_date=row["patent__expiry_date"], pledged=row["patent__pledged"], fee_form=row["fee_form"],
            royalty_base=row["royalty_base"], royalty_rate=row["royalty_rate"], lump_sum_fen=row["lump_sum_fen"],
            entry_fee_fen=row["entry_fee_fen"], annual_minimum_fen=row["annual_minimum_fen"],
            starts_on=row["starts_on"], ends_on=row["ends_on"], recording_number=row["recording_number"],
            recorded=row["recorded_on"] is not None and row["recorded_on"] <= cut_off)
    first_paid: dict[int, int] = defaultdict(int)
    payments = Payment.objects.filter(licence__state=LicenceState.ACTIVE).values_list(
        "licence_id", "purpose", "state", "amount_fen", "refunded_fen", "succeeded_at", "due_on")
    for licence_id, purpose, state, amount, refunded, succeeded_at, due_on in payments:
        f = facts.get(licence_id)
        if f is None:
            continue
        if state in PAID_STATES and succeeded_at and timezone.localdate(succeeded_at) <= cut_off:
            f.collected_fen += amount - refunded
            f.paid_payments += 1
            if purpose == Payment.Purpose.FIRST_AMOUNT:
                first_paid[licence_id] += amount - refunded
        elif purpose == Payment.Purpose.ROYALTY and state in UNPAID_STATES and due_on and due_on < cut_off:
            f.arrears_fen += amount
            f.oldest_unpaid_due_on = min(filter(None, [f.oldest_unpaid_due_on, due_on]))
    reports = defaultdict(list)
    for row in (RoyaltyReport.objects.filter(licence__state=LicenceState.ACTIVE, period_end__lte=cut_off)
                .order_by("licence_id", "period_start")
                .values_list("licence_id", "period_start", "period_end", "base_amount_fen", "royalty_fen",
                             "amount_due_fen")):
        reports[row[0]].append(ReportFact(*row[1:]))
    for licence_id, f in facts.items():
        f.reports = tuple(reports.get(licence_id, ()))
        # Royalties rule 4: the notice payment of a pure royalty licence with a minimum is year 1's minimum.
        if f.fee_form == FeeForm.ROYALTY and f.annual_minimum_fen:
            f.notice_credit_fen = max(0, min(first_paid[licence_id], f.annual_minimum_fen))
    return list(facts.values())


# --- criteria and the per-licence computation -------------------------------------------------------------

@dataclass(frozen=True)
class Criteria:
    cut_off: date
    grades: frozenset = frozenset()
    technology_fields: frozenset = frozenset()
    min_remaining_life_years: int = 0
    require_payment_history: bool = True
    max_licensee_share: Decimal | None = None
    max_holder_share: Decimal | None = None
    discount_rate: Decimal = Decimal(8)

    @classmethod
    def of(cls, pool: Pool) -> Criteria:
        return cls(cut_off=pool.cut_off_date, grades=frozenset(pool.grades),
                   technology_fields=frozenset(int(f) for f in pool.technology_fields),
                   min_remaining_life_years=pool.min_remaining_life_years,
                   require_payment_history=pool.require_payment_history,
                   max_licensee_share=_dec(pool.max_licensee_share), max_holder_share=_dec(pool.max_holder_share),
                   discount_rate=_dec(pool.discount_rate))

    def as_json(self) -> dict:
        return {"cut_off_date": self.cut_off.isoformat(), "grades": sorted(self.grades),
                "technology_fields": sorted(self.technology_fields),
                "min_remaining_life_years": self.min_remaining_life_years,
                "require_payment_history": self.require_payment_history,
                "max_licensee_share": _str(self.max_licensee_share), "max_holder_share": _str(self.max_holder_share),
                "discount_rate": _str(self.discount_rate)}


def _dec(value) -> Decimal | None:
    # Two places, as the database returns them, so a pool just created and one read back hash alike.
    return None if value is None else Decimal(value).quantize(Decimal("0.01"))


def _str(value: Decimal | None) -> str:
    return "" if value is None else str(value)


def exclusion_reason(f: LicenceFacts, c: Criteria) -> str | None:
    """Rule 1 before the schedule: the first reason the licence cannot join the pool, or None."""
    if f.starts_on is None or f.starts_on > c.cut_off:
        return "not_started"
    if f.term_end is None or f.term_end <= c.cut_off:
        return "term_over"
    if f.legal_status != LegalStatus.GRANTED:
        return "patent_not_in_force"
    if c.grades and f.grade not in c.grades:
        return "grade"
    if c.technology_fields and f.technology_field not in c.technology_fields:
        return "technology_field"
    if f.expiry_date < add_years(c.cut_off, c.min_remaining_life_years):
        return "remaining_life"
    if c.require_payment_history and f.paid_payments == 0:
        return "no_payment_history"
    return None


def daily_base(f: LicenceFacts) -> Decimal:
    """The licensee's average net sales (or profit) per day over everything it has reported; 0 without reports."""
    days = sum((r.period_end - r.period_start).days + 1 for r in f.reports)
    if not days:
        return Decimal(0)
    return Decimal(sum(r.base_amount_fen for r in f.reports)) / Decimal(days)


@lru_cache(maxsize=65_536)  # a pool has a few thousand distinct payment days; the power is the costly part
def discount_factor(days: int, rate_percent: Decimal) -> Decimal:
    """1 / (1 + rate)^(days/365), to 10 decimals (rule 3)."""
    with localcontext() as ctx:
        ctx.prec = 34
        growth = (Decimal(1) + rate_percent / Decimal(100)) ** (Decimal(max(days, 0)) / DAYS_A_YEAR)
        return (Decimal(1) / growth).quantize(FACTOR_PLACES, rounding=ROUND_HALF_UP)


# The royalty invoice's payment date (deadlines.period_end_days): the holiday calendar it asks scans its whole table
# on every call, and a pool has a few thousand distinct period ends for hundreds of thousands of periods.
payment_date = lru_cache(maxsize=65_536)(deadlines.period_end_days)


def schedule(f: LicenceFacts, c: Criteria) -> list[dict]:
    """Rule 2 and 3: the licence's scheduled receivables after the cut-off, one dict per licence year."""
    if not f.carries_royalty or f.starts_on is None or f.term_end is None:
        return []
    rate = Decimal(f.royalty_rate)
    per_day = daily_base(f)
    reported_to = f.reports[-1].period_end if f.reports else f.starts_on - timedelta(days=1)
    rows, number, start = [], 1, f.starts_on
    while start <= f.term_end:
        end = min(add_years(f.starts_on, number) - timedelta(days=1), f.term_end)
        pay_on = payment_date(end, PAYMENT_TERM_DAYS)  # as royalty_report_file dates the invoice
        if pay_on > c.cut_off:
            in_year = [r for r in f.reports if start <= r.period_start <= end]
            projected_from = max(start, reported_to + timedelta(days=1))
            projected_days = (end - projected_from).days + 1 if projected_from <= end else 0
            projected = round_fen(per_day * projected_days * rate / Decimal(100))
            royalties = sum(r.royalty_fen for r in in_year) + projected
            owed = max(royalties, f.annual_minimum_fen or 0)
            credit = f.notice_credit_fen if number == 1 else 0
            amount = max(0, owed - credit - sum(r.amount_due_fen for r in in_year))
            days = (pay_on - c.cut_off).days
            factor = discount_factor(days, c.discount_rate)
            rows.append({"period_number": number, "period_start": start.isoformat(), "period_end": end.isoformat(),
                         "payment_date": pay_on.isoformat(), "projected_days": projected_days,
                         "scheduled_fen": amount, "days_from_cut_off": days, "discount_factor": str(factor),
                         "present_value_fen": round_fen(Decimal(amount) * factor)})
        start, number = end + timedelta(days=1), number + 1
    return rows


@dataclass
class Candidate:
    facts: LicenceFacts
    schedule: list[dict]
    exposure_fen: int
    dcf_value_fen: int


@dataclass
class Selection:
    selected: list[Candidate]
    excluded: list[tuple[LicenceFacts, str]]

    def excluded_counts(self) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        for _f, reason in self.excluded:
            counts[reason] += 1
        return {key: counts[key] for key in EXCLUSION_REASONS if counts.get(key)}


def apply_caps(candidates: list[Candidate], c: Criteria) -> tuple[list[Candidate], list[tuple[Candidate, str]]]:
    """Rule 4: drop exposures until no licensee and no holder holds more than its cap of the pool."""
    caps = [(dim, cap) for dim, cap in (("licensee", c.max_licensee_share), ("holder", c.max_holder_share))
            if cap is not None]
    if not caps:
        return candidates, []

    def key_of(dim, cand):
        return cand.facts.licensee_id if dim == "licensee" else cand.facts.licensor_id

    groups: dict[tuple[str, int], list[Candidate]] = defaultdict(list)
    sums: dict[tuple[str, int], int] = defaultdict(int)
    for cand in candidates:
        for dim, _cap in caps:
            groups[(dim, key_of(dim, cand))].append(cand)
            sums[(dim, key_of(dim, cand))] += cand.exposure_fen
    for members in groups.values():  # the next to go is at the end: smallest exposure, newest licence
        members.sort(key=lambda m: (-m.exposure_fen, m.facts.licence_id))
    total = sum(cand.exposure_fen for cand in candidates)
    removed: set[int] = set()
    dropped: list[tuple[Candidate, str]] = []
    cap_of = dict(caps)
    order = {"licensee": 0, "holder": 1}
    while total > 0:
        worst, worst_excess = None, Decimal(0)
        for group, amount in sums.items():
            dim = group[0]
            excess = Decimal(amount) / Decimal(total) * 100 - cap_of[dim]
            if excess > 0 and (worst is None or (-excess, order[dim], group[1]) < (-worst_excess, order[worst[0]],
                                                                                     worst[1])):
                worst, worst_excess = group, excess
        if worst is None:
            break
        members = groups[worst]
        while members[-1].facts.licence_id in removed:
            members.pop()
        victim = members.pop()
        removed.add(victim.facts.licence_id)
        dropped.append((victim, f"{worst[0]}_cap"))
        total -= victim.exposure_fen
        for dim, _cap in caps:
            g = (dim, key_of(dim, victim))
            sums[g] -= victim.exposure_fen
            if sums[g] == 0:
                del sums[g]
    return [cand for cand in candidates if cand.facts.licence_id not in removed], dropped


def select(facts: Iterable[LicenceFacts], c: Criteria) -> Selection:
    """Rules 1–4 over the candidates, in licence order."""
    candidates, excluded = [], []
    for f in sorted(facts, key=lambda f: f.licence_id):
        reason = exclusion_reason(f, c)
        if reason is None:
            rows = schedule(f, c)
            exposure = sum(r["scheduled_fen"] for r in rows)
            if exposure <= 0:
                reason = "nothing_to_receive"
            else:
                candidates.append(Candidate(f, rows, exposure, sum(r["present_value_fen"] for r in rows)))
        if reason:
            excluded.append((f, reason))
    kept, dropped = apply_caps(candidates, c)
    excluded.extend((cand.facts, reason) for cand, reason in dropped)
    return Selection(kept, excluded)


# --- tape rows (JSON-safe dicts: dates ISO, decimals strings, money int fen) -----------------------------

# (column, kind): kinds say how the frames and the Parquet schema type them.
TAPE_COLUMNS: list[tuple[str, str]] = [
    ("exposure_id", "str"), ("original_exposure_id", "str"), ("licence_id", "int"), ("pool_id", "str"),
    ("licensee_id", "int"), ("licensee_uscc", "str"), ("licensor_id", "int"), ("licensor_uscc", "str"),
    ("data_cut_off_date", "date"), ("pool_addition_date", "date"),
    ("patent_number", "str"), ("patent_kind", "str"), ("main_ipc", "str"), ("technology_field", "int?"),
    ("grade", "str"), ("grant_date", "date"), ("expiry_date", "date"), ("remaining_months", "int"),
    ("open_licence_declared", "bool"), ("recorded", "bool"), ("pledged", "bool"),
    ("licence_type", "str"), ("licence_start_date", "date"), ("licence_end_date", "date"), ("term_end_date", "date"),
    ("remaining_term_months", "int"), ("fee_form", "str"), ("royalty_base", "str"), ("royalty_rate_percent", "dec"),
    ("lump_sum_fen", "int?"), ("entry_fee_fen", "int?"), ("annual_minimum_fen", "int?"), ("recording_number", "str"),
    ("scheduled_receivables_fen", "int"), ("scheduled_periods", "int"), ("projected_daily_base_fen", "dec"),
    ("collected_to_date_fen", "int"), ("arrears_fen", "int"), ("days_past_due", "int"),
    ("licensee_industry", "str"), ("licensee_region", "str"), ("licensee_size", "str"), ("licensee_kind", "str"),
    ("discount_rate_percent", "dec"), ("dcf_value_fen", "int"),
]
SCHEDULE_COLUMNS: list[tuple[str, str]] = [
    ("exposure_id", "str"), ("licence_id", "int"), ("period_number", "int"), ("period_start", "date"),
    ("period_end", "date"), ("payment_date", "date"), ("projected_days", "int"), ("scheduled_fen", "int"),
    ("days_from_cut_off", "int"), ("discount_factor", "dec"), ("present_value_fen", "int"),
]
SUMMARY_COLUMNS: list[tuple[str, str]] = [
    ("section", "str"), ("item", "str"), ("value", "str"), ("amount_fen", "int?"), ("share_percent", "dec"),
]


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def tape_row(cand: Candidate, *, c: Criteria, pool_code: str, position: int, added_on: date) -> dict:
    f = cand.facts
    exposure_id = f"{pool_code}-{position:06d}"
    return {
        "exposure_id": exposure_id, "original_exposure_id": f.certificate_number or f"L{f.licence_id}",
        "licence_id": f.licence_id, "pool_id": pool_code, "licensee_id": f.licensee_id,
        "licensee_uscc": f.licensee_uscc, "licensor_id": f.licensor_id, "licensor_uscc": f.licensor_uscc,
        "data_cut_off_date": c.cut_off.isoformat(), "pool_addition_date": added_on.isoformat(),
        "patent_number": f.patent_number, "patent_kind": f.patent_kind, "main_ipc": f.main_ipc,
        "technology_field": f.technology_field, "grade": f.grade, "grant_date": _iso(f.grant_date),
        "expiry_date": _iso(f.expiry_date), "remaining_months": months_between(c.cut_off, f.expiry_date),
        "open_licence_declared": f.declaration_published, "recorded": f.recorded, "pledged": f.pledged,
        "licence_type": "open_licence_non_exclusive", "licence_start_date": _iso(f.starts_on),
        "licence_end_date": _iso(f.ends_on), "term_end_date": _iso(f.term_end),
        "remaining_term_months": months_between(c.cut_off, f.term_end), "fee_form": f.fee_form,
        "royalty_base": f.royalty_base, "royalty_rate_percent": _str(f.royalty_rate),
        "lump_sum_fen": f.lump_sum_fen, "entry_fee_fen": f.entry_fee_fen, "annual_minimum_fen": f.annual_minimum_fen,
        "recording_number": f.recording_number, "scheduled_receivables_fen": cand.exposure_fen,
        "scheduled_periods": len(cand.schedule),
        "projected_daily_base_fen": str(daily_base(f).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)),
        "collected_to_date_fen": f.collected_fen, "arrears_fen": f.arrears_fen,
        "days_past_due": (c.cut_off - f.oldest_unpaid_due_on).days if f.oldest_unpaid_due_on else 0,
        "licensee_industry": f.licensee_industry, "licensee_region": f.licensee_region, "licensee_size": NO_DATA,
        "licensee_kind": f.licensee_kind, "discount_rate_percent": str(c.discount_rate),
        "dcf_value_fen": cand.dcf_value_fen,
    }


def schedule_rows(cand: Candidate, exposure_id: str) -> list[dict]:
    return [{"exposure_id": exposure_id, "licence_id": cand.facts.licence_id, **row} for row in cand.schedule]


@dataclass
class Tape:
    """A pool's three tables as JSON-safe rows (the same whether computed live or read from a frozen pool)."""

    pool_code: str
    criteria: dict
    # A list of dicts when computed live; a frozen pool's are tables.Rows over its Arrow tables, which make the
    # dicts only when asked.
    tape: Sequence[dict]
    schedule: Sequence[dict]
    content_sha256: str = ""
    excluded: list[tuple[LicenceFacts, str]] = field(default_factory=list)
    excluded_counts: dict[str, int] = field(default_factory=dict)
    # A frozen pool's tape and cash flows as Arrow tables, read straight from the stored JSON (pool_frozen_tape):
    # the exporter writes them and the summary is computed on their columns, with no row made a dict.
    tables: dict | None = None

    def summary(self) -> Summary:
        if self.tables:
            return summarise_table(self.tables["tape"])
        return summarise(self.tape)

    def frames(self) -> dict[str, pd.DataFrame]:
        return {"tape": frame(self.tape, TAPE_COLUMNS), "cash_flows": frame(self.schedule, SCHEDULE_COLUMNS),
                "summary": frame(summary_rows(self), SUMMARY_COLUMNS)}


def build_tape(facts: Iterable[LicenceFacts], c: Criteria, *, pool_code: str, added_on: date) -> Tape:
    """Select and compute: the tape and cash-flow rows of the pool, positions in licence order."""
    chosen = select(facts, c)
    tape, flows = [], []
    for position, cand in enumerate(chosen.selected, start=1):
        row = tape_row(cand, c=c, pool_code=pool_code, position=position, added_on=added_on)
        tape.append(row)
        flows.extend(schedule_rows(cand, row["exposure_id"]))
    return Tape(pool_code, c.as_json(), tape, flows, excluded=chosen.excluded,
                excluded_counts=chosen.excluded_counts())


# One encoder for every row: json.dumps with options builds a new encoder per call (a pool has ~500k rows).
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_hash(criteria: dict, tape: list[dict], flows: list[dict]) -> str:
    """SHA-256 of the canonical JSON of the criteria and every stored row (sorted keys, no spaces), each row
    preceded by a newline and T (tape) or S (schedule)."""
    digest = hashlib.sha256()
    digest.update(_CANONICAL.encode(criteria).encode())
    for marker, rows in (("\nT", tape), ("\nS", flows)):
        for start in range(0, len(rows), 20_000):  # hashed in blocks: the same bytes as row by row
            digest.update("".join(marker + _CANONICAL.encode(row) for row in rows[start:start + 20_000]).encode())
    return digest.hexdigest()


# --- the summary ------------------------------------------------------------------------------------------

@dataclass
class Summary:
    exposures: int
    licensees: int
    holders: int
    patents: int
    scheduled_fen: int
    dcf_value_fen: int
    collected_fen: int
    arrears_fen: int
    wal_years: Decimal
    wa_patent_life_years: Decimal
    hhi: dict[str, Decimal]
    top: list[dict]


def hhi(amounts: Iterable[int]) -> Decimal:
    """Herfindahl-Hirschman index: the sum of squared shares in percent (10,000 = one party holds all)."""
    amounts = [a for a in amounts if a]
    total = sum(amounts)
    if not total:
        return Decimal(0)
    return (sum(Decimal(a) * Decimal(a) for a in amounts) * Decimal(10_000) / (Decimal(total) ** 2)).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP)


SUMMARY_INPUTS = ("exposure_id", "licence_id", "licensee_id", "licensor_id", "technology_field", "patent_number",
                  "scheduled_receivables_fen", "dcf_value_fen", "collected_to_date_fen", "arrears_fen",
                  "remaining_term_months", "remaining_months")


def _exact_sum(column) -> int:
    """The sum of an int64 column as a Python int: no int64 overflow, whatever the pool's size."""
    return int(column.to_numpy(zero_copy_only=False).astype(object).sum()) if len(column) else 0


def _weighted_years(table, column: str, total: int) -> Decimal:
    if not total:
        return Decimal(0)
    exposure = table.column("scheduled_receivables_fen").to_numpy(zero_copy_only=False).astype(object)
    months = int((exposure * table.column(column).to_numpy(zero_copy_only=False).astype(object)).sum())
    return (Decimal(months) / Decimal(total) / 12).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def summarise(rows: Sequence[dict]) -> Summary:
    """Rule 5 over the tape rows."""
    kinds = dict(TAPE_COLUMNS)
    schema = pa.schema([pa.field(name, pa.string() if kinds[name] == "str" else pa.int64()) for name in SUMMARY_INPUTS])
    return summarise_table(pa.Table.from_pylist([{name: r[name] for name in SUMMARY_INPUTS} for r in rows],
                                                schema=schema))


def summarise_table(table) -> Summary:
    """Rule 5 over the tape's columns (an Arrow table with SUMMARY_INPUTS): group sums by Arrow, then exact
    integers and Decimals as summarise has always computed them."""
    import pyarrow.compute as pc

    table = table.select(SUMMARY_INPUTS)
    total = _exact_sum(table.column("scheduled_receivables_fen"))
    groups = {}
    for dim, key in (("licensee", "licensee_id"), ("holder", "licensor_id"), ("technology_field", "technology_field")):
        # A null technology field is a group of its own, as the None key always was.
        groups[dim] = table.group_by(key).aggregate([("scheduled_receivables_fen", "sum")]).column(
            "scheduled_receivables_fen_sum").to_pylist()
    order = pc.sort_indices(table, sort_keys=[("scheduled_receivables_fen", "descending"), ("licence_id", "ascending")])
    top = table.take(order[:TOP_EXPOSURES]).to_pylist()
    return Summary(
        exposures=table.num_rows, licensees=len(groups["licensee"]), holders=len(groups["holder"]),
        patents=pc.count_distinct(table.column("patent_number"), mode="all").as_py(), scheduled_fen=total,
        dcf_value_fen=_exact_sum(table.column("dcf_value_fen")),
        collected_fen=_exact_sum(table.column("collected_to_date_fen")),
        arrears_fen=_exact_sum(table.column("arrears_fen")),
        wal_years=_weighted_years(table, "remaining_term_months", total),
        wa_patent_life_years=_weighted_years(table, "remaining_months", total),
        hhi={dim: hhi(amounts) for dim, amounts in groups.items()},
        top=[{"rank": i, "exposure_id": r["exposure_id"], "licensee_id": r["licensee_id"],
              "patent_number": r["patent_number"], "exposure_fen": r["scheduled_receivables_fen"],
              "share_percent": _share(r["scheduled_receivables_fen"], total)} for i, r in enumerate(top, start=1)],
    )


def _share(amount: int, total: int) -> Decimal:
    if not total:
        return Decimal(0)
    return (Decimal(amount) * 100 / Decimal(total)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def summary_rows(tape: Tape) -> list[dict]:
    s = tape.summary()

    def row(section, item, value="", amount=None, share=""):
        return {"section": section, "item": item, "value": str(value), "amount_fen": amount, "share_percent": str(share)}

    rows = [row("pool", "pool_id", tape.pool_code), row("pool", "content_sha256", tape.content_sha256)]
    rows += [row("criteria", key, value if not isinstance(value, list) else ",".join(map(str, value)))
             for key, value in tape.criteria.items()]
    rows += [row("totals", "exposures", s.exposures), row("totals", "licensees", s.licensees),
             row("totals", "holders", s.holders), row("totals", "patents", s.patents),
             row("totals", "scheduled_receivables_fen", amount=s.scheduled_fen),
             row("totals", "dcf_value_fen", amount=s.dcf_value_fen),
             row("totals", "collected_to_date_fen", amount=s.collected_fen),
             row("totals", "arrears_fen", amount=s.arrears_fen),
             row("totals", "weighted_average_remaining_life_years", s.wal_years),
             row("totals", "weighted_average_patent_life_years", s.wa_patent_life_years)]
    rows += [row("hhi", dim, value) for dim, value in s.hhi.items()]
    rows += [row("top_exposures", str(t["rank"]), t["exposure_id"], t["exposure_fen"], t["share_percent"])
             for t in s.top]
    return rows


# --- frames -----------------------------------------------------------------------------------------------

def frame(rows: list[dict], columns: list[tuple[str, str]]) -> pd.DataFrame:
    """Rows as a typed frame: money and counts int64 (nullable Int64 where blank), dates as dates, decimals
    as exact strings; no float column ever."""
    data = {}
    for name, kind in columns:
        values = [r[name] for r in rows]
        if kind == "int":
            data[name] = pd.array(values, dtype="int64")
        elif kind == "int?":
            data[name] = pd.array(values, dtype="Int64")
        elif kind == "bool":
            data[name] = pd.array(values, dtype="bool")
        elif kind == "date":
            data[name] = pd.Series([date.fromisoformat(v) if v else None for v in values], dtype=object)
        else:
            data[name] = pd.Series(["" if v is None else str(v) for v in values], dtype=object)
    return pd.DataFrame(data, columns=[name for name, _kind in columns])


# --- services ---------------------------------------------------------------------------------------------

CRITERIA_FIELDS = ("name", "cut_off_date", "grades", "technology_fields", "min_remaining_life_years",
                   "require_payment_history", "max_licensee_share", "max_holder_share", "discount_rate")


def criteria_labelled(criteria: dict) -> list[tuple[str, str]]:
    """A frozen pool's stored criteria as (the field's name, its value) in the reader's language: the stored
    keys are column names and the values codes, which a page must not show raw."""
    from patents.inventory.selectors import field_choices

    fields = dict(field_choices())
    labelled = []
    for key, value in criteria.items():
        try:
            label = str(Pool._meta.get_field(key).verbose_name)
        except FieldDoesNotExist:
            label = key
        if isinstance(value, bool):
            text = str(_("yes") if value else _("no"))
        elif isinstance(value, list):
            text = ", ".join(fields.get(v, str(v)) if key == "technology_fields" else str(v) for v in value)
            text = text or str(_("any"))
        elif value is None or value == "":
            text = "—"
        else:
            text = str(value)
        labelled.append((label, text))
    return labelled


def user_may_build_pools(*, user: User) -> bool:
    return user.is_authenticated and (user.is_superuser or user_is_ip_office(user=user))


def _check_criteria(pool: Pool) -> None:
    errors = {}
    grades = list(pool.grades or [])
    if any(g not in Grade.values for g in grades):
        errors["grades"] = _("Choose grades among A, B, C and D.")
    try:
        fields = [int(f) for f in pool.technology_fields or []]
    except (TypeError, ValueError):
        fields = None
    if fields is None or any(f not in FIELDS_BY_NUMBER for f in fields):
        errors["technology_fields"] = _("Choose technology fields among the 35 WIPO fields.")
    if pool.cut_off_date and pool.cut_off_date > timezone.localdate():
        errors["cut_off_date"] = _("The cut-off date cannot be in the future.")
    if errors:
        raise ValidationError(errors)
    pool.grades = sorted(set(grades))
    pool.technology_fields = sorted(set(fields))


@transaction.atomic
def pool_create(*, by: User, name: str, cut_off_date: date, grades: list[str] | None = None,
                technology_fields: list[int] | None = None, min_remaining_life_years: int = 0,
                require_payment_history: bool = True, max_licensee_share: Decimal | None = None,
                max_holder_share: Decimal | None = None, discount_rate: Decimal = Decimal(8)) -> Pool:
    """A draft pool with its criteria. Only the IP office (and superusers) build pools: PermissionDenied
    otherwise; ValidationError naming the field for a bad criterion."""
    if not user_may_build_pools(user=by):
        raise PermissionDenied(_("Only the IP office builds securitization pools."))
    pool = Pool(name=name, cut_off_date=cut_off_date, grades=list(grades or []),
                technology_fields=list(technology_fields or []), min_remaining_life_years=min_remaining_life_years,
                require_payment_history=require_payment_history, max_licensee_share=max_licensee_share,
                max_holder_share=max_holder_share, discount_rate=discount_rate, created_by=by)
    _check_criteria(pool)
    pool.full_clean()
    pool.save()
    return pool


@transaction.atomic
def pool_update_criteria(*, pool: Pool, by: User, **criteria) -> Pool:
    """Change a draft's criteria (any of CRITERIA_FIELDS). A frozen pool never changes: ValidationError."""
    if not user_may_build_pools(user=by):
        raise PermissionDenied(_("Only the IP office builds securitization pools."))
    unknown = set(criteria) - set(CRITERIA_FIELDS)
    if unknown:
        raise TypeError(f"not pool criteria: {sorted(unknown)}")
    pool = Pool.objects.select_for_update().get(pk=pool.pk)
    if pool.state != Pool.State.DRAFT:
        raise ValidationError(_("This pool is frozen; its criteria cannot change."))
    for key, value in criteria.items():
        setattr(pool, key, value)
    _check_criteria(pool)
    pool.full_clean()
    pool.save()
    return pool


def pool_preview(*, pool: Pool, added_on: date | None = None) -> Tape:
    """The pool as its criteria select it now from live data (a draft), or as frozen (read from the stored
    rows). The live tape shows which licences were left out and why."""
    if pool.is_frozen:
        return pool_frozen_tape(pool=pool)
    c = Criteria.of(pool)
    return build_tape(licence_facts(cut_off=c.cut_off), c, pool_code=pool.code,
                      added_on=added_on or timezone.localdate())


@transaction.atomic
def pool_freeze(*, pool: Pool, by: User) -> Pool:
    """Draft → frozen: compute the membership once at the cut-off date, store every tape row and schedule,
    and seal them with a content hash. Locks the pool row; freezing a frozen pool returns it unchanged.
    Raises PermissionDenied, or ValidationError when the pool would be empty."""
    if not user_may_build_pools(user=by):
        raise PermissionDenied(_("Only the IP office builds securitization pools."))
    pool = Pool.objects.select_for_update().get(pk=pool.pk)
    if pool.state == Pool.State.FROZEN:
        return pool
    if pool.state != Pool.State.DRAFT:
        raise ValidationError(_("Only a draft pool can be frozen."))
    if pool.cut_off_date > timezone.localdate():
        raise ValidationError({"cut_off_date": _("The cut-off date cannot be in the future.")})
    tape = pool_preview(pool=pool, added_on=timezone.localdate())
    if not tape.tape:
        raise ValidationError(_("No licence meets the criteria; there is nothing to freeze."))
    flows_by_id = defaultdict(list)
    for row in tape.schedule:
        flows_by_id[row["exposure_id"]].append(row)
    PoolExposure.objects.bulk_create([
        PoolExposure(pool=pool, position=position, licence_id=row["licence_id"], licensee_id=row["licensee_id"],
                     holder_id=row["licensor_id"], technology_field=row["technology_field"],
                     exposure_fen=row["scheduled_receivables_fen"], dcf_value_fen=row["dcf_value_fen"], tape=row,
                     schedule=flows_by_id[row["exposure_id"]])
        for position, row in enumerate(tape.tape, start=1)], batch_size=2000)
    pool.content_sha256 = content_hash(tape.criteria, tape.tape, tape.schedule)
    frozen_columns_store(pool=pool, tape=tape.tape, flows=tape.schedule)
    pool.state, pool.frozen_at, pool.frozen_by = Pool.State.FROZEN, timezone.now(), by
    pool.save(update_fields=["content_sha256", "state", "frozen_at", "frozen_by", "updated_at"])
    return pool


def stored_rows_digest(*, pool: Pool) -> str:
    """SHA-256 of the SHA-256 of each exposure's stored tape text and schedule text, in position order, as the
    database gives them out (SQLite: the stored JSON text; PostgreSQL: jsonb's text, digested by PostgreSQL
    itself). One pass without parsing that tells whether any exposure changed since the digest was taken."""
    from django.db import connection

    table = connection.ops.quote_name(PoolExposure._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT encode(sha256(string_agg(sha256(convert_to(tape::text, 'UTF8')) "  # noqa: S608
                f"|| sha256(convert_to(schedule::text, 'UTF8')), ''::bytea ORDER BY position)), 'hex') FROM {table} "
                "WHERE pool_id = %s", [pool.pk])
            return cursor.fetchone()[0] or hashlib.sha256().hexdigest()
        digest = hashlib.sha256()
        cursor.execute(f"SELECT CAST(tape AS BLOB), CAST(schedule AS BLOB) FROM {table} WHERE pool_id = %s "  # noqa: S608
                       "ORDER BY position", [pool.pk])
        for rows in iter(lambda: cursor.fetchmany(5000), []):
            for tape, flows in rows:
                digest.update(hashlib.sha256(tape).digest() + hashlib.sha256(flows).digest())
        return digest.hexdigest()


def frozen_columns_store(*, pool: Pool, tape: Sequence[dict], flows: Sequence[dict]) -> PoolColumns | None:
    """Store a pool's just-frozen rows (its exposures are written and its content hash set) as typed columns
    (PoolColumns), with the digest of the exposures' stored text, so that its exports read two values instead of
    every row. Stores nothing and returns None when the columns would not hash to the seal: the exports then
    read the rows, as they do for a pool frozen before the columns existed."""
    criteria = Criteria.of(pool).as_json()
    try:
        tape_table = pa.Table.from_pylist(list(tape), schema=tables.json_schema(TAPE_COLUMNS))
        flow_table = pa.Table.from_pylist(list(flows), schema=tables.json_schema(SCHEDULE_COLUMNS))
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        # A value Arrow cannot type (an integer beyond int64 raises OverflowError, not ArrowInvalid): the
        # exports read the rows, which JSON holds whatever their size.
        return None
    parts = [("T", tape_table, TAPE_COLUMNS), ("S", flow_table, SCHEDULE_COLUMNS)]
    if tables.canonical_digest(criteria, parts) != pool.content_sha256:
        return None
    columns, _created = PoolColumns.objects.update_or_create(pool=pool, defaults={
        "tape": tables.to_ipc(tape_table), "cash_flows": tables.to_ipc(flow_table),
        "rows_sha256": stored_rows_digest(pool=pool)})
    return columns


def sealed_columns(*, pool: Pool, criteria: dict | None = None):
    """The frozen pool's (tape, cash flows) tables, typed as JSON types them, from its stored columns; None when it
    has none or they cannot be trusted: the exposures changed since freezing (their digest differs) or the columns
    do not hash to the seal. The columns are decoded and hashed in a second thread (Arrow and hashlib release the
    GIL) while the database digests the rows."""
    stored = PoolColumns.objects.filter(pool=pool).first()
    if stored is None:
        return None
    criteria = Criteria.of(pool).as_json() if criteria is None else criteria

    def sealed():
        try:
            tape = tables.from_ipc(stored.tape, TAPE_COLUMNS)
            flows = tables.from_ipc(stored.cash_flows, SCHEDULE_COLUMNS)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OSError):
            return None
        parts = [("T", tape, TAPE_COLUMNS), ("S", flows, SCHEDULE_COLUMNS)]
        return (tape, flows) if tables.canonical_digest(criteria, parts) == pool.content_sha256 else None

    with ThreadPoolExecutor(max_workers=1) as executor:
        columns = executor.submit(sealed)
        rows_digest = stored_rows_digest(pool=pool)
        result = columns.result()
    return result if rows_digest == stored.rows_sha256 else None


def frozen_json(*, pool: Pool) -> tuple[bytes, bytes]:
    """The frozen pool's stored rows as newline-delimited JSON, one statement per table and no Python object per
    row but the text the driver hands over: the exposures' tape rows in position order, one object a line; their
    cash-flow schedules in the same order, each line ``{"flows": [row, ...]}`` (each array as stored, so the
    database does not take it apart)."""
    from django.db import connection

    table = connection.ops.quote_name(PoolExposure._meta.db_table)
    # SQLite hands its JSON text over as bytes when asked for a BLOB (no decoding and encoding again); PostgreSQL
    # hands jsonb over as Python objects unless asked for its text.
    as_type = "BLOB" if connection.vendor == "sqlite" else "text"
    joined = {}
    with connection.cursor() as cursor:
        for column, separator in (("tape", "\n"), ("schedule", '}\n{"flows":')):
            cursor.execute(f"SELECT CAST({column} AS {as_type}) FROM {table} WHERE pool_id = %s "  # noqa: S608
                           "ORDER BY position", [pool.pk])
            values = cursor.fetchall()
            text = separator.encode() if values and isinstance(values[0][0], bytes) else separator
            joined[column] = text.join(chain.from_iterable(values)) if values else None
    if joined["tape"] is None:
        return b"", b""
    # bytes from SQLite, text from PostgreSQL (one encode of the whole, not one per row)
    tape, flows = (value if isinstance(value, bytes) else value.encode() for value in (joined["tape"],
                                                                                      joined["schedule"]))
    return tape, b'{"flows":' + flows + b"}"


def _frozen_tables_exactly(pool: Pool, criteria: dict, tape_json: bytes, flow_json: bytes):
    """The slow, exact check the tables stand in for: every stored row through the json module and
    content_hash. TamperedPool when the rows do not hash to the seal; else the tables made from those rows."""
    tape = [json.loads(line) for line in tape_json.splitlines()]
    flows = [row for line in flow_json.splitlines() for row in json.loads(line)["flows"]]
    digest = content_hash(criteria, tape, flows)
    if digest != pool.content_sha256:
        raise TamperedPool(f"pool {pool.pk}: stored rows hash to {digest}, sealed as {pool.content_sha256}")
    return (pa.Table.from_pylist(tape, schema=tables.json_schema(TAPE_COLUMNS)),
            pa.Table.from_pylist(flows, schema=tables.json_schema(SCHEDULE_COLUMNS)))


def _frozen_tables_from_rows(pool: Pool, criteria: dict):
    """The (tape, cash flows) tables from the exposures' JSON rows, checked against the seal (TamperedPool)."""
    tape_json, flow_json = frozen_json(pool=pool)
    try:
        tape = tables.read_rows(tape_json, TAPE_COLUMNS)
        flows = tables.read_rows(flow_json, SCHEDULE_COLUMNS, nested="flows")
        digest = tables.canonical_digest(criteria, [("T", tape, TAPE_COLUMNS), ("S", flows, SCHEDULE_COLUMNS)])
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        digest = None
    if digest != pool.content_sha256:
        tape, flows = _frozen_tables_exactly(pool, criteria, tape_json, flow_json)
    return tape, flows


def pool_frozen_tape(*, pool: Pool) -> Tape:
    """The frozen pool's rows as stored, checked against the content hash (TamperedPool if they differ), as Arrow
    tables (``Tape.tables``, what the exports write) with the rows as dicts made on demand. No Python object per
    row: the typed columns stored at freezing are read when the exposures' stored text still has its digest of
    then and the columns hash to the seal; otherwise each table's JSON is read in one statement, Arrow parses it
    and the hash is recomputed on its columns; only when that does not match the seal are the rows checked one
    by one with the json module, to tell a tampered pool from a value Arrow read differently."""
    criteria = Criteria.of(pool).as_json()
    sealed = sealed_columns(pool=pool, criteria=criteria)
    if sealed:
        tape, flows = sealed
    else:
        tape, flows = _frozen_tables_from_rows(pool, criteria)
    return Tape(pool.code, criteria, tables.Rows(tape), tables.Rows(flows), content_sha256=pool.content_sha256,
                tables={"tape": tables.export_table(tape, TAPE_COLUMNS),
                        "cash_flows": tables.export_table(flows, SCHEDULE_COLUMNS)})


def pools_list() -> list[Pool]:
    from django.db.models import Count, Sum

    return list(Pool.objects.annotate(exposure_count=Count("exposures"), exposure_total=Sum("exposures__exposure_fen"))
                .select_related("created_by").order_by("-created_at", "-pk"))


# --- web exports in the background ------------------------------------------------------------------------

@transaction.atomic
def pool_export_request(*, pool: Pool, fmt: str, by: User) -> tuple[PoolExport, bool]:
    """The export of a frozen pool in one format: the finished one if it exists (the bytes would be the
    same), else a new pending one, with True when the caller must start the background task."""
    if not user_may_build_pools(user=by):
        raise PermissionDenied(_("Only the IP office exports pool tapes."))
    if fmt not in exports.exporter(POOL_TAPE_EXPORTER).formats:
        raise ValidationError({"format": _("Choose CSV, XLSX or Parquet.")})
    pool = Pool.objects.select_for_update().get(pk=pool.pk)
    if not pool.is_frozen:
        raise ValidationError(_("Freeze the pool before exporting its tape."))
    export, created = PoolExport.objects.get_or_create(pool=pool, fmt=fmt, defaults={"requested_by": by})
    if not created and export.state == PoolExport.State.FAILED:
        export.state, export.error, export.requested_by = PoolExport.State.PENDING, "", by
        export.save(update_fields=["state", "error", "requested_by"])
        return export, True
    return export, created


def pool_export_run(*, export: PoolExport) -> PoolExport:
    """Write the file of a pending export (called by the background task); records failure on the row."""
    if export.state == PoolExport.State.DONE:
        return export
    PoolExport.objects.filter(pk=export.pk).update(state=PoolExport.State.RUNNING)
    try:
        exporter = exports.exporter(POOL_TAPE_EXPORTER)(pool_frozen_tape(pool=export.pool))
        with TemporaryFile() as handle:
            exporter.write(export.fmt, handle, progress=lambda done, total: progress.report(
                "pool_export", export.pk, stage="writing", done=done, total=total))
            handle.seek(0)
            digest = hashlib.sha256()
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
            handle.seek(0)
            export.file.save(exporter.filename(export.fmt), File(handle), save=False)
        export.sha256, export.state, export.finished_at = digest.hexdigest(), PoolExport.State.DONE, timezone.now()
        export.save(update_fields=["file", "sha256", "state", "finished_at"])
    except Exception as exc:
        PoolExport.objects.filter(pk=export.pk).update(state=PoolExport.State.FAILED, error=repr(exc))
        raise
    finally:
        progress.clear("pool_export", export.pk)
    return export
