"""How the API filters: through the same FilterSets, bound by the same selectors, as the HTML pages.

A view names its FilterSet class (``filterset_class``, which also documents the query parameters in the
OpenAPI schema) and, when the HTML page binds it through a selector, ``filterset_for(params)`` calling that
selector, so both get the same base queryset, annotations and order. A value that does not validate is a 400
naming the parameter (the HTML pages show the form error instead)."""

from __future__ import annotations

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.exceptions import ValidationError

from licensing.models import DeclarationState
from licensing.models.licences import Licence, LicenceState
from marketplace.office.selectors import StatisticsFilter


def refuse_unusable_parameters(params) -> None:
    """A 400 naming every query parameter given with an empty value or with a NUL character.

    Empty: the HTML pages' forms send every field, so their FilterSets read "empty" as "any"; an API client
    leaves out what it does not mean to filter, and an empty value there is a mistake worth naming
    (``page_size=`` silently gave 20 rows). NUL: no text in the database can hold one, and PostgreSQL refuses
    the query outright (``?holder=%00`` was a 500)."""
    errors = {}
    for name, values in params.lists():
        if any(value == "" for value in values):
            errors[name] = [_("Give a value, or leave the parameter out.")]
        elif any("\x00" in value for value in values):
            errors[name] = [_("Null characters are not allowed.")]
    if errors:
        raise ValidationError(dict(sorted(errors.items())))


class SelectorFilterBackend(DjangoFilterBackend):
    def get_filterset(self, request, queryset, view):
        bind = getattr(view, "filterset_for", None)
        if bind is None:
            return super().get_filterset(request, queryset, view)
        return bind(request.query_params)


class DeclarationFilter(StatisticsFilter):
    """The IP office's declaration filter (field, sector, holder kind, fee form, grade, region) plus the
    public state and the holder, for the public list of declarations."""

    state = django_filters.ChoiceFilter(
        field_name="state", label=_("State"),
        choices=[(state, state.label) for state in DeclarationState if state != DeclarationState.DRAFT])
    holder = django_filters.CharFilter(field_name="holder__slug", label=_("Holder"))

    class Meta(StatisticsFilter.Meta):
        fields: list = []

    def filter_sector(self, queryset, name, value: str):  # the type hint documents the parameter in the schema
        return super().filter_sector(queryset, name, value)


ROLE_CHOICES = [("licensee", _("Licences we took")), ("licensor", _("Licences we granted"))]


class LicenceFilter(django_filters.FilterSet):
    """Licences by state, the organisation's side and the patent number."""

    state = django_filters.ChoiceFilter(choices=LicenceState.choices, label=_("State"))
    role = django_filters.ChoiceFilter(method="filter_role", choices=ROLE_CHOICES, label=_("Role"))
    organisation = django_filters.CharFilter(method="filter_organisation", label=_("Organisation"))
    patent = django_filters.CharFilter(field_name="patent__number", label=_("Patent number"))

    class Meta:
        model = Licence
        fields: list = []

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def filter_role(self, queryset, name, value):
        # The side one of the user's own organisations is on (so for the IP office: the licences it is party to).
        side = "licensee" if value == "licensee" else "licensor"
        return queryset.filter(**{f"{side}__memberships__user": self.user}).distinct()

    def filter_organisation(self, queryset, name, value):
        return queryset.filter(Q(licensee__slug=value) | Q(licensor__slug=value))
