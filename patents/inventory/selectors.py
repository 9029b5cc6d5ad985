"""Reads on the inventory, and who may see which part of it."""

import django_filters
from django import forms
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Case, CharField, F, Q, QuerySet, When
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field

from marketplace.parties.models import Membership, Organisation, User
from marketplace.parties.selectors import user_is_ip_office
from patents.inventory.fields import FIELDS
from patents.models import Grade, InventoryBatch, LegalStatus, Patent, PatentChange, PatentKind


def holder_organisations_for(*, user: User) -> QuerySet[Organisation]:
    """The holder organisations a user acts for."""
    if not user.is_authenticated:
        return Organisation.objects.none()
    return Organisation.objects.filter(is_holder=True, memberships__user=user).distinct().order_by("name_zh")


def user_can_manage_inventory(*, user: User, holder: Organisation) -> bool:
    """Members of the holder import, grade and tag; the IP office only reads."""
    return user.is_authenticated and holder.is_holder and (
        user.is_superuser or Membership.objects.filter(user=user, organisation=holder).exists()
    )


def user_can_view_inventory(*, user: User, holder: Organisation) -> bool:
    return user_can_manage_inventory(user=user, holder=holder) or user_is_ip_office(user=user)


def with_effective_grade(qs: QuerySet[Patent]) -> QuerySet[Patent]:
    """Annotate `effective_grade`: the holder's override if set, else the computed grade."""
    return qs.annotate(effective_grade=Case(
        When(~Q(grade_override=""), then=F("grade_override")), default=F("grade_computed"), output_field=CharField()))


def field_choices() -> list[tuple[int, str]]:
    zh = (get_language() or "").startswith("zh")
    return [(f.number, f"{f.number}. {f.name_zh if zh else f.name_en}") for f in FIELDS]


# A patent runs at most 20 years from filing (inventions; utility models 10, designs 15), plus any term
# compensation (Patent Law art. 42); 30 years covers every real patent with room to spare, and keeps the year
# arithmetic far from the limits of `date` (year 9999), which a value like 10000 would overflow.
MAX_REMAINING_YEARS = 30


class WholeYearsFilter(django_filters.NumberFilter):
    """A whole number of years within [min_value, max_value]: anything else (10000, -2026, 1e20, 'abc') is a
    form error, hence a 400 naming the parameter in the API. The bounds are declared in the OpenAPI schema."""

    field_class = forms.IntegerField

    def __init__(self, *args, min_value: int, max_value: int, **kwargs):
        super().__init__(*args, min_value=min_value, max_value=max_value, **kwargs)
        extend_schema_field({"type": "integer", "minimum": min_value, "maximum": max_value})(self)


TRUE_VALUES, FALSE_VALUES = ("true", "1"), ("false", "0")
ANY_VALUES = ("unknown",)  # what the pages' yes/no/any select sends for "any"


class StrictBooleanSelect(forms.NullBooleanSelect):
    """Hands the field the raw value: NullBooleanSelect turns any unknown word into "any", so `?unclassified=abc`
    listed everything instead of saying the value is not a yes or no."""

    def value_from_datadict(self, data, files, name):
        return data.get(name)


class StrictBooleanField(forms.NullBooleanField):
    widget = StrictBooleanSelect

    def to_python(self, value):
        if value in (True, False, None):
            return value
        word = str(value).strip().lower()
        if word in TRUE_VALUES:
            return True
        if word in FALSE_VALUES:
            return False
        if word in ("", *ANY_VALUES):
            return None
        raise forms.ValidationError(_("Enter true or false."), code="invalid")

    def validate(self, value):
        pass


class StrictBooleanFilter(django_filters.BooleanFilter):
    """true/false (or 1/0); any other value is a form error, hence a 400 naming the parameter in the API."""

    field_class = StrictBooleanField


class PortfolioFilter(django_filters.FilterSet):
    """The holder's own list of patents; the same definition serves the page and its exports."""

    q = django_filters.CharFilter(method="filter_text", label=_("Number or title contains"))
    kind = django_filters.ChoiceFilter(choices=PatentKind.choices, label=_("Kind"))
    legal_status = django_filters.ChoiceFilter(choices=LegalStatus.choices, label=_("Legal status"))
    grade = django_filters.ChoiceFilter(choices=Grade.choices, field_name="effective_grade", label=_("Grade"))
    technology_field = django_filters.TypedChoiceFilter(choices=field_choices, coerce=int, label=_("Technology field"))
    unclassified = StrictBooleanFilter(field_name="technology_field", lookup_expr="isnull",
                                       label=_("IPC maps to no field"))
    tag = django_filters.CharFilter(field_name="tags__name", label=_("Tag"))
    min_remaining_years = WholeYearsFilter(method="filter_remaining", label=_("Remaining life at least (years)"),
                                           min_value=0, max_value=MAX_REMAINING_YEARS)
    ordering = django_filters.OrderingFilter(
        fields=(("filing_date", "filing_date"), ("expiry_date", "expiry_date"), ("grade_score", "score"),
                ("number", "number"), ("title", "title")),
        # Whole phrases per direction: django-filter's own "%s (descending)" has no zh-Hans catalog, and a
        # translated field name glued to an English suffix reads as two languages.
        choices=[("filing_date", _("Filing date, oldest first")), ("-filing_date", _("Filing date, newest first")),
                 ("expiry_date", _("Expiry date, soonest first")), ("-expiry_date", _("Expiry date, latest first")),
                 ("score", _("Score, lowest first")), ("-score", _("Score, highest first")),
                 ("number", _("Number, ascending")), ("-number", _("Number, descending")),
                 ("title", _("Title, A to Z")), ("-title", _("Title, Z to A"))],
        label=_("Sort by"),
    )

    class Meta:
        model = Patent
        fields = []

    def filter_text(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(number__icontains=value) | Q(title__icontains=value)) if value else queryset

    def filter_remaining(self, queryset, name, value: int):
        today = timezone.localdate()
        try:
            threshold = today.replace(year=today.year + value)
        except ValueError:  # 29 February
            threshold = today.replace(year=today.year + value, day=28)
        return queryset.filter(expiry_date__gte=threshold)


def portfolio_list(*, holder: Organisation, params) -> PortfolioFilter:
    qs = with_effective_grade(Patent.objects.filter(holder=holder)).prefetch_related("tags").distinct()
    return PortfolioFilter(params, queryset=qs.order_by("-filing_date", "number"))


def portfolio_summary(*, holder: Organisation) -> dict:
    from django.db.models import Count

    qs = with_effective_grade(Patent.objects.filter(holder=holder))
    by_grade = dict(qs.values_list("effective_grade").annotate(n=Count("id")).values_list("effective_grade", "n"))
    return {"total": sum(by_grade.values()), "by_grade": [(g, by_grade.get(g, 0)) for g in "ABCD"],
            "unclassified": qs.filter(technology_field__isnull=True).count()}


def patent_history(*, patent: Patent) -> QuerySet[PatentChange]:
    return patent.changes.select_related("by", "batch")


# The importer's column names that are not a Patent field's name.
_COLUMN_LABELS = {"ipc": _("classification (IPC or Locarno)"), "co_owners": _("co-owners"),
                  "claims_count": _("claims"), "term_extension_days": _("term extension")}


def batch_errors(*, batch: InventoryBatch) -> list[dict]:
    """The batch's stored error preview with each column's name in the reader's language (the stored names
    are the importer's column names, which a page must not show)."""
    def label(column: str) -> str:
        if not column or column in _COLUMN_LABELS:
            return str(_COLUMN_LABELS.get(column, ""))
        try:
            return str(Patent._meta.get_field(column).verbose_name)
        except FieldDoesNotExist:
            return column

    return [{**error, "column_label": label(error.get("column") or "")} for error in batch.errors_preview or []]


def batches_for(*, holder: Organisation) -> QuerySet[InventoryBatch]:
    return InventoryBatch.objects.filter(holder=holder).select_related("run_by")


def grade_explanation(*, patent: Patent) -> list[dict]:
    """The stored factor breakdown, in display order (the order of FACTORS: PostgreSQL's jsonb keeps a dict's
    keys in its own order, not the order they were written in), with labels and rules."""
    from patents.inventory.grading import FACTOR_BY_KEY, FACTORS

    zh = (get_language() or "").startswith("zh")
    position = {factor.key: n for n, factor in enumerate(FACTORS)}
    rows = []
    for key, entry in sorted((patent.grade_factors or {}).items(), key=lambda item: position.get(item[0], len(FACTORS))):
        factor = FACTOR_BY_KEY.get(key)
        rows.append({"key": key, "label": (factor.label_zh if zh else factor.label_en) if factor else key,
                     "rule": (factor.rule_zh if zh else factor.rule) if factor else "", **entry})
    return rows



def inventory_next_steps(*, membership: Membership) -> list:
    """Dashboard steps that the inventory offers to this member."""
    from django.urls import reverse
    from django.utils.translation import gettext as _

    from marketplace.parties.selectors import NextStep

    org = membership.organisation
    steps = []
    if org.is_holder:
        count = Patent.objects.filter(holder=org).count()
        query = f"?holder={org.slug}"
        if count == 0:
            steps.append(NextStep(_("Import your patent inventory"),
                                  _("Upload a CSV or XLSX list of your patents; we grade and classify them."),
                                  reverse("inventory_upload") + query))
        else:
            steps.append(NextStep(_("Review your portfolio"),
                                  _("%(n)d patents, graded A-D with reasons; tag them and override grades.") % {"n": count},
                                  reverse("portfolio") + query))
            steps.append(NextStep(_("Import more patents"), _("Add or update patents from a spreadsheet."),
                                  reverse("inventory_upload") + query))
            steps.append(NextStep(_("See your patent landscape"), _("Counts by technology field, grade, kind and year."),
                                  reverse("navigation_holder", args=[org.slug])))
    if org.is_ip_office:
        steps.append(NextStep(_("Platform patent landscape"), _("Every inventoried patent by field, sector and grade."),
                              reverse("navigation_platform")))
    return steps
