"""Hooks of the OpenAPI schema generation (drf-spectacular's SPECTACULAR_SETTINGS)."""


def only_public_api(endpoints):
    """Keep the endpoints under /api/ (Wagtail's admin API is also DRF, and not ours to document)."""
    return [endpoint for endpoint in endpoints if endpoint[0].startswith("/api/")]
