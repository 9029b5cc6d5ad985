"""Every error under /api/ answered as JSON in one shape, never an HTML error page:

    {"error": {"status": 400, "code": "invalid", "message": "technology_field: Select a valid choice. ...",
               "fields": {"technology_field": ["Select a valid choice. ..."]}}}

`fields` names each query parameter or body field that was refused and why (empty for other errors)."""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

logger = logging.getLogger(__name__)

NON_FIELD_KEYS = ("non_field_errors", "__all__")


def _messages(detail) -> list[str]:
    if isinstance(detail, dict):
        return [f"{key}: {message}" for key, value in detail.items() for message in _messages(value)]
    if isinstance(detail, list | tuple):
        return [message for item in detail for message in _messages(item)]
    return [str(detail)]


def _fields(detail) -> dict[str, list[str]]:
    """Field name → reasons; nested fields are named with dots (``lines.0.amount``)."""
    if not isinstance(detail, dict):
        return {}
    fields: dict[str, list[str]] = {}
    for key, value in detail.items():
        if key in NON_FIELD_KEYS:
            continue
        if isinstance(value, dict):
            for inner, reasons in _fields(value).items():
                fields[f"{key}.{inner}"] = reasons
        else:
            fields[str(key)] = _messages(value)
    return fields


def error_body(*, status_code: int, code: str, message: str, fields: dict | None = None) -> dict:
    return {"error": {"status": status_code, "code": code, "message": message, "fields": fields or {}}}


def json_exception_handler(exc, context):
    """DRF's handler (which already maps Http404 and PermissionDenied and sets WWW-Authenticate), reshaped
    into the one error body; Django's ValidationError from a service becomes a 400 naming its fields;
    anything unexpected is logged and answered with a JSON 500."""
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    elif isinstance(exc, Http404):  # as DRF does, but here so the error keeps its code
        exc = exceptions.NotFound(*exc.args)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)
    response = exception_handler(exc, context)
    if response is None:
        logger.exception("Unhandled error in the API", exc_info=exc)
        return Response(error_body(status_code=500, code="server_error",
                                   message=_("Something went wrong on our side; the error has been logged.")),
                        status=status.HTTP_500_INTERNAL_SERVER_ERROR)
    detail = exc.detail if isinstance(exc, exceptions.APIException) else response.data
    if isinstance(exc, exceptions.ValidationError):
        fields = _fields(detail)
        message = "; ".join(_messages(detail)) or _("Invalid input.")
        code = "invalid"
    else:
        fields = {}
        message = " ".join(_messages(detail))
        codes = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
        code = codes if isinstance(codes, str) else "error"
    response.data = error_body(status_code=response.status_code, code=code, message=message, fields=fields)
    request = context.get("request")
    if response.status_code == 404 and request is not None:
        # LocaleMiddleware turns a 404 outside the language prefix into a redirect to /<lang>/<path> whenever
        # that path resolves, and Wagtail's page route resolves every path: the caller would get an HTML page.
        # Resolving this request with the API's own URLs (which have no language prefix) keeps the JSON 404.
        request._request.urlconf = "marketplace.api.urls"
    return response
