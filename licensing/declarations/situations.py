"""Regulations art. 86 situations arising on a declared patent: a new exclusive licence, a suspension of the
procedures (arts. 103-104), annual fees unpaid past their date, a pledge without the pledgee's consent. The
declaration does not end by itself (only a withdrawal announced by CNIPA ends it), so the holder is prompted to
withdraw (or cure the situation) on its declaration and portfolio pages for as long as the situation stands, and
each licensee is told once.

The situations are detected where they are recorded: the patent change listener (the patent's page and inventory
imports call it) and ``manage.py check_declared_patents`` (daily) for fees falling unpaid with time."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone, translation

from licensing.declarations.rules import ARISING_CODES, RuleFailure, arising_situations
from licensing.legal import register
from licensing.models import Declaration, DeclarationState
from licensing.models.licences import Licence, LicenceState
from marketplace.parties.models import Membership, Notification, Organisation, User
from marketplace.parties.notifications import notify

# Declarations the holder is prompted to withdraw: filed or announced (once the withdrawal is filed, it has been).
STANDING_STATES = (DeclarationState.FILED, DeclarationState.ANNOUNCED)
# Patent fields whose change may bring a situation about.
SITUATION_FIELDS = frozenset({"exclusive_licence_in_force", "procedure_suspension", "procedure_suspended_on",
                              "pledged", "annual_fees_paid_through"})
HOLDER_NOTICE = "declaration.withdrawal_prompt"
LICENSEE_NOTICE = "licence.patent_situation"
LANGUAGES = ("zh-hans", "en")
_CHUNK = 500


@dataclass(frozen=True)
class Prompt:
    """A declaration its holder should withdraw, and why (each reason a RuleFailure naming its rule)."""

    declaration: Declaration
    situations: list[RuleFailure]


def _candidates(today: date) -> Q:
    """Declarations whose patent may carry a situation (a superset: a pledge may have the pledgee's consent)."""
    return (Q(patent__exclusive_licence_in_force=True) | ~Q(patent__procedure_suspension="")
            | Q(patent__annual_fees_paid_through__lt=today) | Q(patent__pledged=True))


def standing_with_situations(*, today: date, holder: Organisation | None = None,
                             patent_ids: Iterable[int] | None = None) -> QuerySet[Declaration]:
    qs = Declaration.objects.filter(state__in=STANDING_STATES).filter(_candidates(today)).select_related("patent")
    if holder is not None:
        qs = qs.filter(holder=holder)
    if patent_ids is not None:
        qs = qs.filter(patent_id__in=list(patent_ids))
    return qs.order_by("pk")


def withdrawal_prompts(*, holder: Organisation, today: date | None = None) -> list[Prompt]:
    """The holder's standing declarations on which an art. 86 situation stands now (until withdrawn or cured)."""
    today = today or timezone.localdate()
    prompts = []
    for declaration in standing_with_situations(today=today, holder=holder).prefetch_related("consents"):
        situations = arising_situations(declaration=declaration, today=today)
        if situations:
            prompts.append(Prompt(declaration, situations))
    return prompts


def declaration_prompt(*, declaration: Declaration, today: date | None = None) -> list[RuleFailure]:
    """The situations that stand on this declaration now (empty when none, or when it no longer stands)."""
    if declaration.state not in STANDING_STATES:
        return []
    return arising_situations(declaration=declaration, today=today or timezone.localdate())


def _in_both(code: str, message_of) -> dict:
    out = {}
    for language in LANGUAGES:
        with translation.override(language):
            out[language] = message_of(code)
    return out


def _situation_key(declaration: Declaration, code: str) -> str:
    """What makes a situation a new one: a lapse after a later payment, a new suspension, is told again."""
    patent = declaration.patent
    if code == "fees_unpaid":
        return str(patent.annual_fees_paid_through)
    if code == "procedure_suspended":
        return f"{patent.procedure_suspension}:{patent.procedure_suspended_on}"
    return ""


def _already_told(declaration: Declaration, code: str, key: str) -> bool:
    return Notification.objects.filter(kind=HOLDER_NOTICE, params__declaration=declaration.pk,
                                       params__situation=code, params__key=key).exists()


def _users_of(organisation_ids: Iterable[int]):
    return list(User.objects.filter(pk__in=Membership.objects.filter(organisation_id__in=list(organisation_ids))
                                    .values("user_id"), is_active=True).order_by("pk"))


def declaration_situations_notify(*, declaration: Declaration, today: date) -> list[str]:
    """Tell the holder's members (a withdrawal prompt) and every licensee's members (a notice) of each situation
    that stands on this declaration and has not been told yet. Returns the codes told now."""
    told = []
    situations = {f.code: f for f in declaration_prompt(declaration=declaration, today=today)}
    rule = register.rule("art86_situation")
    for code in ARISING_CODES:
        if code not in situations:
            continue
        key = _situation_key(declaration, code)
        if _already_told(declaration, code, key):
            continue
        patent = declaration.patent
        params = {
            "declaration": declaration.pk, "situation": code, "key": key, "patent": patent.number,
            "title": patent.title, "holder": declaration.holder.name_zh,
            "reason": _in_both(code, lambda c: f"{register.rule(c).statement} ({c}: {register.rule(c).citation()})"),
            "rule": rule.code, "source": _in_both(code, lambda c: rule.citation()),
        }
        url = reverse("declaration_detail", args=[declaration.pk])
        notify(users=_users_of([declaration.holder_id]), kind=HOLDER_NOTICE, params=params, url=url)
        licensee_ids = set(Licence.objects.filter(declaration=declaration, state=LicenceState.ACTIVE)
                           .values_list("licensee_id", flat=True))
        if licensee_ids:
            notify(users=_users_of(licensee_ids), kind=LICENSEE_NOTICE, params=params, url=url)
        told.append(code)
    return told


def declared_patents_changed(*, patent_ids: Iterable[int], fields: Iterable[str] = ()) -> None:
    """Listener (settings.PATENT_CHANGE_LISTENERS): a patent was edited or imported again; if it is declared and
    a situation arose, prompt the holder and tell the licensees."""
    if fields and not (set(fields) & SITUATION_FIELDS):
        return
    today = timezone.localdate()
    ids = list(patent_ids)
    for lo in range(0, len(ids), _CHUNK):
        for declaration in standing_with_situations(today=today, patent_ids=ids[lo:lo + _CHUNK]).select_related(
                "holder"):
            declaration_situations_notify(declaration=declaration, today=today)


def declared_patents_check(*, today: date | None = None) -> dict[str, int]:
    """The daily check: every standing declaration with a situation (annual fees fall unpaid with time, with no
    one editing anything). Returns counts: declarations checked, with a situation, and notices sent."""
    today = today or timezone.localdate()
    checked = with_situation = told = 0
    for declaration in standing_with_situations(today=today).select_related("holder").iterator(chunk_size=_CHUNK):
        checked += 1
        if declaration_prompt(declaration=declaration, today=today):
            with_situation += 1
        told += len(declaration_situations_notify(declaration=declaration, today=today))
    return {"checked": checked, "with_situation": with_situation, "told": told}
