"""Hooks of the OpenAPI schema generation (drf-spectacular's SPECTACULAR_SETTINGS)."""

from __future__ import annotations

from marketplace.api.pagination import MAX_PAGE_SIZE
from marketplace.needs.services import MAX_BUDGET_YUAN
from marketplace.office.selectors import MAX_QUICK_DAYS, MIN_QUICK_DAYS, MONTH_PATTERN
from marketplace.search.selectors import LICENSED_CHOICES
from patents.inventory.fields import FIELDS, SECTORS
from patents.inventory.selectors import MAX_REMAINING_YEARS

FIELD_NUMBERS = sorted(f.number for f in FIELDS)

# What the server enforces for each query parameter, wherever it appears, from the constants that enforce it:
# the schema is a promise (a client, or a fuzzer, may send anything it allows and get an answer other than 400).
# drf-spectacular guesses from the model fields instead (technology_field: int64 from 0, which the choices
# refuse; page and page_size: any integer; licensed: a boolean whose values are words).
QUERY_PARAMETERS = {
    "page": {"type": "integer", "minimum": 1},  # bounded by the data: a page past the last is a 404
    "page_size": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
    # WIPO's technology fields are numbered 1 to 35 without a gap: the bounds say it (a list of 35 would make
    # every client and fuzzer try each value in turn).
    "technology_field": {"type": "integer", "minimum": FIELD_NUMBERS[0], "maximum": FIELD_NUMBERS[-1]}
    if list(range(FIELD_NUMBERS[0], FIELD_NUMBERS[-1] + 1)) == FIELD_NUMBERS
    else {"type": "integer", "enum": FIELD_NUMBERS},
    "min_remaining_years": {"type": "integer", "minimum": 0, "maximum": MAX_REMAINING_YEARS},
    "days": {"type": "integer", "minimum": MIN_QUICK_DAYS, "maximum": MAX_QUICK_DAYS},
    "budget_from": {"type": "number", "minimum": 0, "maximum": MAX_BUDGET_YUAN},
    "budget_to": {"type": "number", "minimum": 0, "maximum": MAX_BUDGET_YUAN},
    "first": {"type": "string", "pattern": MONTH_PATTERN},
    "last": {"type": "string", "pattern": MONTH_PATTERN},
    "sector": {"type": "string", "enum": sorted(s.key for s in SECTORS)},
    "licensed": {"type": "string", "enum": sorted(value for value, _label in LICENSED_CHOICES)},
}
# Free text: at least one character, none of them NUL (StrictQuery refuses both).
TEXT_PATTERN = r"^[^\u0000]+$"
# Keys that say which values are valid; the rest (title, description) is kept.
VALUE_KEYS = ("type", "format", "nullable", "minimum", "maximum", "enum", "pattern", "minLength", "items")


def only_public_api(endpoints):
    """Keep the endpoints under /api/ (Wagtail's admin API is DRF too, and not ours to document)."""
    return [endpoint for endpoint in endpoints if endpoint[0].startswith("/api/")]


def declare_enforced_values(result, generator, request, public):
    """Every query parameter declared as the server checks it: the bounds above; no parameter may be empty
    (StrictQuery refuses ``?state=`` with a 400), so free text has ``minLength: 1`` (and no NUL) and a list
    ``minItems: 1``;
    path ids start at 1."""
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                schema = parameter.setdefault("schema", {})
                if parameter["in"] == "path":
                    if schema.get("type") == "integer":
                        schema["minimum"] = 1
                    continue
                if parameter["in"] != "query":
                    continue
                enforced = QUERY_PARAMETERS.get(parameter["name"])
                if enforced is not None:
                    for key in VALUE_KEYS:
                        schema.pop(key, None)
                    schema.update(enforced)
                if schema.get("type") == "string" and not ({"enum", "format", "pattern"} & schema.keys()):
                    schema["minLength"] = 1
                    schema["pattern"] = TEXT_PATTERN
                if schema.get("type") == "array":
                    schema["minItems"] = 1
    return result
