"""Eligibility of an open-licence declaration. Every rule is an entry of the register (licensing/legal/register.py)
with its code, statement, source and severity; a refusal names the rule's code and source in the active language.
Filing reports every rule that fails, not only the first; warnings are shown and do not stop it."""

from dataclasses import dataclass
from datetime import date, timedelta

from django.utils.functional import lazy
from django.utils.translation import gettext as _

from licensing.declarations import fees
from licensing.legal import register
from licensing.legal.register import REFUSAL, WARNING
from licensing.legal.wording import promotional_words_in
from licensing.models import LICENSABLE_DECLARATION_STATES, Declaration, DeclarationConsent, FeeForm
from patents.models import LegalStatus, Patent, ReportConclusion

# Failures the holder cures by recording the date the annual fees are paid through.
ANNUAL_FEES_CODES = frozenset({"fees_unknown", "fees_unpaid"})
# Regulations art. 86 bars that can arise after a patent is declared; each forces a withdrawal prompt.
ARISING_CODES = ("exclusive_licence", "procedure_suspended", "fees_unpaid", "pledgee_consent")
FEE_BASIS_MAX_CHARS = 2000


def _citation(code: str):
    return lazy(lambda: register.rule(code).citation(), str)()


# The old per-instrument citations, kept for callers that still build a RuleFailure by hand; new code calls
# ``failure(code)`` so the source is the registered rule's.
PATENT_LAW_50 = _citation("already_declared")
PATENT_LAW_51 = _citation("licence_not_open")
REGS_CONTENT = _citation("payment_method")
REGS_BARS = _citation("art86_situation")
CNIPA_FEES_2024 = _citation("fixed_fee_cap")


@dataclass(frozen=True)
class RuleFailure:
    """One rule that fails (or warns) for one declaration: the register's code, a message with the particulars,
    the rule's source in the language active when it was made, and its severity."""

    code: str
    message: str
    source: str
    severity: str = REFUSAL

    @property
    def rule(self) -> register.Rule | None:
        return register.RULES_BY_CODE.get(self.code)

    @property
    def is_warning(self) -> bool:
        return self.severity == WARNING

    def __str__(self):
        if not self.source:
            return self.message
        return _("%(message)s (rule %(code)s: %(source)s)") % {"message": self.message, "code": self.code,
                                                               "source": self.source}  # as register.cite


def failure(code: str, message: str | None = None) -> RuleFailure:
    """The failure of the registered rule ``code``, with a particular message or the rule's statement."""
    rule = register.rule(code)
    return RuleFailure(code, str(message) if message is not None else str(rule.statement), rule.citation(),
                       rule.severity)


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _fees_failure(patent: Patent, today: date) -> RuleFailure | None:
    if patent.annual_fees_paid_through is None:
        return failure("fees_unknown", _("Record the date up to which the annual fees are paid."))
    if patent.annual_fees_paid_through < today:
        return failure("fees_unpaid", _("Annual fees are paid only up to %(date)s.")
                       % {"date": patent.annual_fees_paid_through})
    return None


def _exclusive_failure(patent: Patent) -> RuleFailure | None:
    if patent.exclusive_licence_in_force:
        return failure("exclusive_licence", _("An exclusive or sole licence is in force on this patent."))
    return None


def _suspension_failure(patent: Patent) -> RuleFailure | None:
    if patent.procedure_suspension:
        return failure("procedure_suspended", _("The patent's procedures are suspended (%(why)s) since %(date)s.")
                       % {"why": patent.get_procedure_suspension_display(), "date": patent.procedure_suspended_on})
    return None


def _pledge_failure(patent: Patent, consents) -> RuleFailure | None:
    if patent.pledged and not any(c.kind == DeclarationConsent.Kind.PLEDGEE for c in consents):
        return failure("pledgee_consent", _("The patent is pledged: record the pledgee's consent."))
    return None


def patent_eligibility(*, patent: Patent, today: date, consents: list[DeclarationConsent] = ()) -> list[RuleFailure]:
    """Refusals about the patent itself (any declaration of it)."""
    failures = []
    if patent.legal_status != LegalStatus.GRANTED:
        failures.append(failure("not_granted", _("The patent is not granted and in force (legal status: %(status)s).")
                                % {"status": patent.get_legal_status_display()}))
    if patent.expiry_date < today:
        failures.append(failure("expired", _("The patent expired on %(date)s.") % {"date": patent.expiry_date}))
    failures.append(_fees_failure(patent, today))
    if patent.needs_evaluation_report:
        conclusion = patent.report_conclusion
        if not conclusion:
            failures.append(failure(
                "evaluation_report", _("A utility model or design needs a patent evaluation report (专利权评价报告).")))
        elif conclusion == ReportConclusion.FAILS:
            failures.append(failure("evaluation_report_fails", _(
                "The patent evaluation report concludes that the patent does not meet the grant conditions.")))
    failures.append(_exclusive_failure(patent))
    failures.append(_suspension_failure(patent))
    if not patent.co_owners_agreement_allows_declaring:
        consented_owner_ids = {c.co_owner_id for c in consents if c.kind == DeclarationConsent.Kind.CO_OWNER}
        for owner in patent.co_owners.all():
            if owner.organisation_id == patent.holder_id:
                continue
            if owner.pk not in consented_owner_ids:
                failures.append(failure("co_owner_consent", _("Co-owner %(name)s has not consented.")
                                        % {"name": owner.name}))
    failures.append(_pledge_failure(patent, consents))
    return [f for f in failures if f is not None]


def patent_warnings(*, patent: Patent) -> list[RuleFailure]:
    """Warnings about the patent: shown on filing, they do not stop it."""
    warnings = []
    if patent.needs_evaluation_report and patent.report_conclusion == ReportConclusion.PARTLY:
        warnings.append(failure("evaluation_report_partial", _(
            "The patent evaluation report concludes that only some claims meet the grant conditions.")))
    return warnings


def _content_failures(declaration: Declaration) -> list[RuleFailure]:
    """Regulations art. 85 and Guidelines section 3.3: what the declaration must say, and in what words."""
    failures = []
    if not declaration.payment_method.strip():
        failures.append(failure("payment_method", _("State the way of payment.")))
    if not declaration.conditions_commitment:
        failures.append(failure("conditions_commitment", _(
            "Commit that the conditions for open licensing are met (the patent is in force, fees are paid, no "
            "exclusive licence, no suspension, no pledge without consent).")))
    basis = (declaration.fee_basis_statement or "").strip()
    if not basis:
        failures.append(failure("fee_basis_statement", _("State how the licence fee was calculated.")))
    elif len(basis) > FEE_BASIS_MAX_CHARS:
        failures.append(failure("fee_basis_statement", _(
            "The statement of how the fee was calculated has %(count)d characters; at most %(max)d are allowed.")
            % {"count": len(basis), "max": FEE_BASIS_MAX_CHARS}))
    if not declaration.contact_name.strip() or not (declaration.contact_email.strip()
                                                    or declaration.contact_phone.strip()):
        failures.append(failure("contact_details", _(
            "Give a contact person and an e-mail address or telephone number.")))
    texts = ((_("fee-calculation basis"), basis), (_("field of use note"), declaration.field_of_use_note),
             (_("way of payment"), declaration.payment_method))
    for label, text in texts:
        words = promotional_words_in(text)
        if words:
            failures.append(failure("promotional_wording", _(
                "The %(field)s contains promotional wording: %(words)s. Describe the offer plainly.")
                % {"field": label, "words": "、".join(f"“{w}”" for w in words)}))
    return failures


def terms_failures(*, declaration: Declaration, today: date) -> list[RuleFailure]:
    """Refusals about the offer: statutory content, fee caps and duration."""
    failures = _content_failures(declaration)
    for field, amount in (("lump_sum", declaration.lump_sum_fen), ("entry_fee", declaration.entry_fee_fen)):
        if amount is not None and amount > fees.FIXED_FEE_CAP_FEN:
            failures.append(failure(
                "fixed_fee_cap",
                _("The %(which)s exceeds the cap of RMB 20,000,000 for a fixed fee.")
                % {"which": _("lump sum") if field == "lump_sum" else _("entry fee")}))
    if declaration.fee_form in (FeeForm.ROYALTY, FeeForm.ENTRY_PLUS_ROYALTY) and declaration.royalty_rate is not None:
        cap = declaration.royalty_cap
        if declaration.royalty_rate > cap:
            failures.append(failure(
                "royalty_cap",
                _("A royalty of %(rate)s%% of %(base)s exceeds the cap of %(cap)s%% of %(base)s.")
                % {"rate": declaration.royalty_rate, "cap": cap, "base": declaration.get_royalty_base_display()}))
    # A licence taken today ends the day before its anniversary; the expiry date is the last day in force.
    if declaration.duration_years >= 1 and \
            _add_years(today, declaration.duration_years) - timedelta(days=1) > declaration.patent.expiry_date:
        failures.append(failure(
            "duration_past_expiry",
            _("A %(years)d-year licence taken today would run past the patent's expiry on %(date)s.")
            % {"years": declaration.duration_years, "date": declaration.patent.expiry_date}))
    return failures


def terms_warnings(*, declaration: Declaration) -> list[RuleFailure]:
    """Warnings about the offer. No law sets a minimum licence duration, so a short one only warns."""
    if declaration.duration_years is not None and declaration.duration_years < 1:
        return [failure("duration_min", _("The licence duration is shorter than one year."))]
    return []


def declaration_eligibility(*, declaration: Declaration, today: date) -> list[RuleFailure]:
    """Every reason this declaration cannot be filed today (empty when it can). Warnings are not among them:
    see ``declaration_warnings``."""
    patent = declaration.patent
    failures = []
    if declaration.holder_id != patent.holder_id:
        failures.append(failure("not_patentee", _("Only the patentee may declare its patent.")))
    other = Declaration.objects.filter(patent=patent, state__in=LICENSABLE_DECLARATION_STATES).exclude(pk=declaration.pk)
    if other.exists():
        failures.append(failure("already_declared", _("The patent already has a standing declaration.")))
    consents = list(declaration.consents.all()) if declaration.pk else []
    return failures + patent_eligibility(patent=patent, today=today, consents=consents) \
        + terms_failures(declaration=declaration, today=today)


def declaration_warnings(*, declaration: Declaration) -> list[RuleFailure]:
    """What the holder is warned about on filing this declaration (it may still be filed)."""
    return patent_warnings(patent=declaration.patent) + terms_warnings(declaration=declaration)


def withdrawal_failures(*, declaration: Declaration) -> list[RuleFailure]:
    """Every co-owner (other than the holder) consents in writing to the withdrawal, as to the declaration, unless
    the co-owners' agreement allows the holder to act alone (Guidelines Part V ch. 11 section 3.1)."""
    patent = declaration.patent
    if patent.co_owners_agreement_allows_declaring:
        return []
    consented = {c.co_owner_id for c in declaration.consents.all() if c.kind == DeclarationConsent.Kind.WITHDRAWAL}
    return [failure("withdrawal_co_owner_consent", _("Co-owner %(name)s has not consented to the withdrawal.")
                    % {"name": owner.name})
            for owner in patent.co_owners.all()
            if owner.organisation_id != patent.holder_id and owner.pk not in consented]


def arising_situations(*, declaration: Declaration, today: date) -> list[RuleFailure]:
    """The Regulations art. 86 bars that stand now on a declared patent (a new exclusive licence, a suspension,
    annual fees unpaid past their date, a pledge without the pledgee's consent): each is a reason to withdraw.
    The declaration's consents are read once (prefetch them for many declarations)."""
    patent = declaration.patent
    fees = _fees_failure(patent, today)
    found = [_exclusive_failure(patent), _suspension_failure(patent),
             fees if fees is not None and fees.code == "fees_unpaid" else None,
             _pledge_failure(patent, declaration.consents.all() if patent.pledged else ())]
    return [f for f in found if f is not None]
