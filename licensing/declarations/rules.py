"""Eligibility of an open-licence declaration. Each rule names the provision it comes from, and
publishing reports every rule that fails, not only the first.

Sources: China Patent Law (2020 amendment) arts. 14, 50, 51; Implementing Regulations of the Patent
Law (2023) arts. 85-86; CNIPA notice on open-licence fee standards (2024)."""

from dataclasses import dataclass
from datetime import date, timedelta

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from licensing.declarations import fees
from licensing.models import LICENSABLE_DECLARATION_STATES, Declaration, DeclarationConsent, FeeForm
from patents.models import LegalStatus, Patent, PatentKind

# Each citation is translated whole ("《专利法》第五十条"): a rule's source is shown beside its message.
PATENT_LAW_50 = gettext_lazy("Patent Law art. 50")
PATENT_LAW_51 = gettext_lazy("Patent Law art. 51")
PATENT_LAW_14 = gettext_lazy("Patent Law art. 14")
# Implementing Regulations (2023): art. 85 says what a declaration states (and that it follows the grant);
# art. 86 lists when a patent may not be put under open licence.
REGS_CONTENT = gettext_lazy("Implementing Regulations art. 85")
REGS_BARS = gettext_lazy("Implementing Regulations art. 86")
CNIPA_FEES_2024 = gettext_lazy("CNIPA notice on open-licence fees (2024)")
# Failures the holder cures by recording the date the annual fees are paid through.
ANNUAL_FEES_CODES = frozenset({"fees_unknown", "fees_unpaid"})


@dataclass(frozen=True)
class RuleFailure:
    code: str
    message: str
    source: str

    def __str__(self):
        return f"{self.message} ({self.source})"


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def patent_eligibility(*, patent: Patent, today: date, consents: list[DeclarationConsent] = ()) -> list[RuleFailure]:
    """Rules about the patent itself (any declaration of it)."""
    failures = []
    if patent.legal_status != LegalStatus.GRANTED:
        failures.append(RuleFailure("not_granted", _("The patent is not granted and in force (legal status: %(status)s).")
                                    % {"status": patent.get_legal_status_display()}, PATENT_LAW_50))
    if patent.expiry_date < today:
        failures.append(RuleFailure("expired", _("The patent expired on %(date)s.") % {"date": patent.expiry_date},
                                    PATENT_LAW_50))
    if patent.annual_fees_paid_through is None:
        failures.append(RuleFailure("fees_unknown", _("Record the date up to which the annual fees are paid."), REGS_BARS))
    elif patent.annual_fees_paid_through < today:
        failures.append(RuleFailure("fees_unpaid", _("Annual fees are paid only up to %(date)s.")
                                    % {"date": patent.annual_fees_paid_through}, REGS_BARS))
    if patent.kind in (PatentKind.UTILITY_MODEL, PatentKind.DESIGN) and not patent.evaluation_report:
        failures.append(RuleFailure(
            "evaluation_report", _("A utility model or design needs a patent evaluation report (专利权评价报告)."),
            PATENT_LAW_50))
    if patent.exclusive_licence_in_force:
        failures.append(RuleFailure("exclusive_licence",
                                    _("An exclusive or sole licence is in force on this patent."), REGS_BARS))
    consented_owner_ids = {c.co_owner_id for c in consents if c.kind == DeclarationConsent.Kind.CO_OWNER}
    for owner in patent.co_owners.all():
        if owner.organisation_id == patent.holder_id:
            continue
        if owner.pk not in consented_owner_ids:
            failures.append(RuleFailure("co_owner_consent", _("Co-owner %(name)s has not consented.")
                                        % {"name": owner.name}, PATENT_LAW_14))
    if patent.pledged and not any(c.kind == DeclarationConsent.Kind.PLEDGEE for c in consents):
        failures.append(RuleFailure("pledgee_consent",
                                    _("The patent is pledged: record the pledgee's consent."), REGS_BARS))
    return failures


def terms_failures(*, declaration: Declaration, today: date) -> list[RuleFailure]:
    """Rules about the offer: statutory content, fee caps and duration."""
    failures = []
    if not declaration.payment_method.strip():
        failures.append(RuleFailure("payment_method", _("State the way of payment."), REGS_CONTENT))
    for field, amount in (("lump_sum", declaration.lump_sum_fen), ("entry_fee", declaration.entry_fee_fen)):
        if amount is not None and amount > fees.FIXED_FEE_CAP_FEN:
            failures.append(RuleFailure(
                "fixed_fee_cap",
                _("The %(which)s exceeds the cap of RMB 20,000,000 for a fixed fee.")
                % {"which": _("lump sum") if field == "lump_sum" else _("entry fee")}, CNIPA_FEES_2024))
    if declaration.fee_form in (FeeForm.ROYALTY, FeeForm.ENTRY_PLUS_ROYALTY) and declaration.royalty_rate is not None:
        cap = declaration.royalty_cap
        if declaration.royalty_rate > cap:
            failures.append(RuleFailure(
                "royalty_cap",
                _("A royalty of %(rate)s%% of %(base)s exceeds the cap of %(cap)s%% of %(base)s.")
                % {"rate": declaration.royalty_rate, "cap": cap, "base": declaration.get_royalty_base_display()},
                CNIPA_FEES_2024))
    if declaration.duration_years < 1:
        failures.append(RuleFailure("duration_min", _("The licence duration is at least one year."), REGS_CONTENT))
    # A licence taken today ends the day before its anniversary; the expiry date is the last day in force.
    elif _add_years(today, declaration.duration_years) - timedelta(days=1) > declaration.patent.expiry_date:
        failures.append(RuleFailure(
            "duration_past_expiry",
            _("A %(years)d-year licence taken today would run past the patent's expiry on %(date)s.")
            % {"years": declaration.duration_years, "date": declaration.patent.expiry_date}, REGS_CONTENT))
    return failures


def declaration_eligibility(*, declaration: Declaration, today: date) -> list[RuleFailure]:
    """Every reason this declaration cannot be published today (empty when it can)."""
    patent = declaration.patent
    failures = []
    if declaration.holder_id != patent.holder_id:
        failures.append(RuleFailure("not_patentee", _("Only the patentee may declare its patent."), PATENT_LAW_50))
    other = Declaration.objects.filter(patent=patent, state__in=LICENSABLE_DECLARATION_STATES).exclude(pk=declaration.pk)
    if other.exists():
        failures.append(RuleFailure("already_declared", _("The patent already has a published declaration."),
                                    PATENT_LAW_50))
    consents = list(declaration.consents.all()) if declaration.pk else []
    return failures + patent_eligibility(patent=patent, today=today, consents=consents) \
        + terms_failures(declaration=declaration, today=today)
