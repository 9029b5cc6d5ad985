from django import template
from django.utils.translation import get_language

from patents.inventory.fields import FIELDS_BY_NUMBER

register = template.Library()


@register.filter
def field_name(number):
    """A WIPO technology field number as its name in the active language."""
    field = FIELDS_BY_NUMBER.get(number) if number else None
    if field is None:
        return "—"
    return field.name_zh if (get_language() or "").startswith("zh") else field.name_en
