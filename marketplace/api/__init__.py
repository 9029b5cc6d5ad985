"""The JSON API under /api/: thin DRF views over the selectors the HTML pages use (docs/api.md)."""
