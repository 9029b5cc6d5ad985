"""Buyer needs (需求清单) and holders' proposals.

Writes (services) check who may act in the server and validate with full_clean inside one transaction;
reads (selectors) share one FilterSet between the public board and anything else that lists needs. Money is
integer fen here; forms convert from yuan."""

from dataclasses import dataclass
from datetime import date

import django_filters
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Case, CharField, Count, F, Prefetch, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from licensing.models import LICENSABLE_DECLARATION_STATES, Declaration, FeeForm
from marketplace.exceptions import NotAllowed
from marketplace.matching import services as match_refresh
from marketplace.models import Need, Proposal
from marketplace.parties.models import Membership, Organisation, User
from marketplace.parties.selectors import user_is_ip_office
from patents.inventory.selectors import StrictBooleanFilter, field_choices

# The fields a buyer may set on a need; everything else (state, organisation, author) belongs to the services.
NEED_FIELDS = ("title", "description", "technology_field", "ipc_prefix", "budget_min_fen", "budget_max_fen",
               "horizon_years", "expected_annual_net_sales_fen", "preferred_fee_form", "region", "deadline",
               "anonymous", "public")


# ---------------------------------------------------------------------------------------------- services


def _is_member(*, user: User, organisation_id: int) -> bool:
    return user.is_authenticated and Membership.objects.filter(user=user, organisation_id=organisation_id).exists()


def _apply(need: Need, fields: dict) -> None:
    unknown = set(fields) - set(NEED_FIELDS)
    if unknown:
        raise TypeError(f"unknown need fields: {', '.join(sorted(unknown))}")
    for name, value in fields.items():
        setattr(need, name, value)
    if need.budget_min_fen is not None and need.budget_max_fen is not None and need.budget_max_fen < need.budget_min_fen:
        # The database constraint would only give a non-field error; name the field the buyer must fix.
        raise ValidationError({"budget_max_fen": _("The upper end of the budget is below its lower end.")})
    need.full_clean()


@transaction.atomic
def need_post(*, organisation: Organisation, by: User, **fields) -> Need:
    """Post a need for a licensee organisation. Only its members may; raises NotAllowed otherwise, and
    ValidationError (naming the field) when the need is incomplete or its budget range is upside down."""
    if not organisation.is_licensee or not _is_member(user=by, organisation_id=organisation.pk):
        raise NotAllowed(_("Only members of a licensee organisation may post a need for it."))
    need = Need(organisation=organisation, posted_by=by, state=Need.State.OPEN)
    _apply(need, fields)
    match_refresh.need_terms_set(need=need)
    need.save()
    match_refresh.matches_refresh_request(need=need)
    return need


@transaction.atomic
def need_update(*, need: Need, by: User, **fields) -> Need:
    """Change an open need. Only members of the organisation that posted it may; a closed need stays as it
    was closed (ValidationError)."""
    need = Need.objects.select_for_update().get(pk=need.pk)
    if not _is_member(user=by, organisation_id=need.organisation_id):
        raise NotAllowed(_("Only members of the organisation that posted this need may change it."))
    if need.state != Need.State.OPEN:
        raise ValidationError(_("A closed need cannot be changed."))
    _apply(need, fields)
    match_refresh.need_terms_set(need=need)
    need.save()
    match_refresh.matches_refresh_request(need=need)
    return need


@transaction.atomic
def need_close(*, need: Need, by: User) -> Need:
    """Close a need: it leaves the board and takes no more proposals. Closing twice is harmless."""
    need = Need.objects.select_for_update().get(pk=need.pk)
    if not _is_member(user=by, organisation_id=need.organisation_id):
        raise NotAllowed(_("Only members of the organisation that posted this need may close it."))
    if need.state == Need.State.CLOSED:
        return need
    need.state = Need.State.CLOSED
    need.full_clean()
    need.save(update_fields=["state", "updated_at"])
    match_refresh.matches_forget_need(need=need)
    return need


def _need_is_open(need: Need, today: date) -> bool:
    return need.state == Need.State.OPEN and (need.deadline is None or need.deadline >= today)


@transaction.atomic
def proposal_make(*, need: Need, declaration: Declaration, by: User, message: str = "",
                  today: date | None = None) -> Proposal:
    """A holder proposes one of its published listings for a need (the proposal itself is the funnel's record).

    Raises NotAllowed unless the user is a member of the declaration's holder; ValidationError when the
    declaration is not published, the need is closed or past its deadline, the need is the holder's own, or
    this listing was already proposed for this need."""
    today = today or timezone.localdate()
    need = Need.objects.select_for_update().get(pk=need.pk)
    declaration = Declaration.objects.select_related("holder").get(pk=declaration.pk)
    if not _is_member(user=by, organisation_id=declaration.holder_id):
        raise NotAllowed(_("Only members of the patentee may propose its listings."))
    if declaration.state not in LICENSABLE_DECLARATION_STATES:
        raise ValidationError({"declaration": _("Only a published listing can be proposed.")})
    if not _need_is_open(need, today):
        raise ValidationError(_("This need is closed and takes no more proposals."))
    if need.organisation_id == declaration.holder_id or _is_member(user=by, organisation_id=need.organisation_id):
        raise ValidationError(_("You cannot propose a listing for your own organisation's need."))
    if Proposal.objects.filter(need=need, declaration=declaration).exists():
        raise ValidationError({"declaration": _("This listing has already been proposed for this need.")})
    proposal = Proposal(need=need, declaration=declaration, holder=declaration.holder, proposed_by=by,
                        message=message.strip())
    proposal.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            proposal.save()
    except IntegrityError as exc:  # a concurrent duplicate got there first
        raise ValidationError({"declaration": _("This listing has already been proposed for this need.")}) from exc
    return proposal


# --------------------------------------------------------------------------------------------- selectors


# A search bound beyond any budget (a trillion yuan) is a mistake, not a search; the OpenAPI schema declares it.
MAX_BUDGET_YUAN = 10**12


class NeedFilter(django_filters.FilterSet):
    """The needs board's search; budget bounds are in yuan in the query string (shareable URLs)."""

    q = django_filters.CharFilter(method="filter_text", label=gettext_lazy("Text contains"))
    technology_field = django_filters.TypedChoiceFilter(choices=field_choices, coerce=int,
                                                        label=gettext_lazy("Technology field"))
    preferred_fee_form = django_filters.ChoiceFilter(choices=FeeForm.choices, label=gettext_lazy("Fee form"))
    region = django_filters.CharFilter(field_name="region", lookup_expr="icontains", label=gettext_lazy("Region"))
    budget_from = django_filters.NumberFilter(method="filter_budget_from", min_value=0, max_value=MAX_BUDGET_YUAN,
                                              label=gettext_lazy("Budget at least (RMB)"))
    budget_to = django_filters.NumberFilter(method="filter_budget_to", min_value=0, max_value=MAX_BUDGET_YUAN,
                                            label=gettext_lazy("Budget up to (RMB)"))
    current = StrictBooleanFilter(method="filter_current", label=gettext_lazy("Deadline not passed"))

    class Meta:
        model = Need
        fields = []

    def filter_text(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(title__icontains=value) | Q(description__icontains=value)
                               | Q(ipc_prefix__icontains=value))

    # A need matches a budget bound when its range reaches it (an open end reaches everything).
    def filter_budget_from(self, queryset, name, value):
        fen = int(value * 100)
        return queryset.filter(Q(budget_max_fen__isnull=True) | Q(budget_max_fen__gte=fen))

    def filter_budget_to(self, queryset, name, value):
        fen = int(value * 100)
        return queryset.filter(Q(budget_min_fen__isnull=True) | Q(budget_min_fen__lte=fen))

    def filter_current(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(Q(deadline__isnull=True) | Q(deadline__gte=timezone.localdate()))


@dataclass(frozen=True)
class Facet:
    value: str
    label: str
    count: int


@dataclass
class NeedBoard:
    filterset: NeedFilter
    needs: QuerySet[Need]
    facets: dict[str, list[Facet]]


def _with_public_name(qs: QuerySet[Need]) -> QuerySet[Need]:
    """`shown_name` is the organisation's name, or empty for anonymous needs: templates print only this."""
    return qs.annotate(shown_name=Case(When(anonymous=True, then=Value("")), default=F("organisation__name_zh"),
                                       output_field=CharField()))


def need_board_queryset() -> QuerySet[Need]:
    """Open, public needs, newest first, each with `shown_name` and its proposal count."""
    return _with_public_name(Need.objects.filter(state=Need.State.OPEN, public=True)).annotate(
        proposal_count=Count("proposals")).order_by("-created_at")


def _facet_counts(qs: QuerySet[Need], field: str, labels: dict) -> list[Facet]:
    rows = qs.order_by().values(field).annotate(n=Count("pk", distinct=True)).order_by("-n", field)
    return [Facet(value="" if r[field] is None else str(r[field]),
                  label=str(labels.get(r[field], r[field] or _("Not stated"))), count=r["n"]) for r in rows]


def need_board(*, params) -> NeedBoard:
    """The public needs board: open, public needs narrowed by the query string, with a count per value of
    each facet over the current result (so the counts of one facet add up to the number shown)."""
    filterset = NeedFilter(params or None, queryset=need_board_queryset())
    needs = filterset.qs
    facets = {
        "technology_field": _facet_counts(needs, "technology_field", dict(field_choices())),
        "preferred_fee_form": _facet_counts(needs, "preferred_fee_form", dict(FeeForm.choices)),
        "region": _facet_counts(needs, "region", {}),
    }
    return NeedBoard(filterset=filterset, needs=needs, facets=facets)


def user_licensee_organisations(*, user: User) -> QuerySet[Organisation]:
    if not user.is_authenticated:
        return Organisation.objects.none()
    return Organisation.objects.filter(is_licensee=True, memberships__user=user).distinct().order_by("name_zh")


def user_holder_organisations(*, user: User) -> QuerySet[Organisation]:
    if not user.is_authenticated:
        return Organisation.objects.none()
    return Organisation.objects.filter(is_holder=True, memberships__user=user).distinct().order_by("name_zh")


def need_visible(*, need_id: int, user: User) -> Need | None:
    """A need as this user may see it (with `shown_name`): public open needs for everyone; any need for the
    members of the organisation that posted it and for the IP office. None when hidden."""
    need = _with_public_name(Need.objects.select_related("organisation")).filter(pk=need_id).first()
    if need is None:
        return None
    if need_is_own(need=need, user=user) or (user.is_authenticated and (user.is_superuser
                                                                          or user_is_ip_office(user=user))):
        return need
    if need.public and need.state == Need.State.OPEN:
        return need
    return None


def need_is_own(*, need: Need, user: User) -> bool:
    return _is_member(user=user, organisation_id=need.organisation_id)


def proposals_of_need(*, need: Need) -> QuerySet[Proposal]:
    return need.proposals.select_related("declaration__patent", "holder", "proposed_by").order_by("-created_at")


def needs_of_organisations(*, organisations) -> QuerySet[Need]:
    """The buyer's own needs, open first, each with its proposals (listing, patent, holder) in one place."""
    proposals = Proposal.objects.select_related("declaration__patent", "holder").order_by("-created_at")
    return (Need.objects.filter(organisation__in=organisations).select_related("organisation")
            .prefetch_related(Prefetch("proposals", queryset=proposals))
            .annotate(proposal_count=Count("proposals"))
            .order_by("state", "-created_at"))


def declarations_proposable(*, user: User, need: Need) -> QuerySet[Declaration]:
    """The published declarations this user may propose for the need: those of the holders the user is a
    member of, except the need's own organisation and listings already proposed for it."""
    holders = user_holder_organisations(user=user).exclude(pk=need.organisation_id)
    return (Declaration.objects.filter(holder__in=holders, state__in=LICENSABLE_DECLARATION_STATES)
            .exclude(proposals__need=need).select_related("patent", "holder").order_by("patent__title"))


def needs_for_holder(*, holder: Organisation) -> QuerySet[Need]:
    """Open public needs a holder could answer: in the technology fields of its published declarations, not
    its own, deadline not passed."""
    fields = (Declaration.objects.filter(holder=holder, state__in=LICENSABLE_DECLARATION_STATES,
                                         patent__technology_field__isnull=False)
              .values_list("patent__technology_field", flat=True).distinct())
    return (need_board_queryset().filter(technology_field__in=list(fields))
            .filter(Q(deadline__isnull=True) | Q(deadline__gte=timezone.localdate()))
            .exclude(organisation=holder))


def listing_url(*, declaration: Declaration, language: str | None = None) -> str:
    """The live listing page of a declaration in the given language (falling back to any live one)."""
    pages = list(declaration.listing_pages.filter(live=True).select_related("locale"))
    for page in pages:
        if language and page.locale.language_code == language:
            return page.url or ""
    return (pages[0].url or "") if pages else ""
