"""The Stripe webhook endpoint (STYLE practice 4): store every delivery first, verify the signature on the
raw body, process exactly once, 5xx on failure so Stripe retries, 200 for types we do not handle."""

import logging

import stripe
from django.db import IntegrityError, transaction
from django.http import HttpResponse, HttpResponseBadRequest
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from licensing.licences import services as licence_services
from licensing.models.licences import ProcessedEvent, WebhookDelivery
from licensing.payments import gateway as stripe_gateway

logger = logging.getLogger(__name__)


@csrf_exempt
@require_POST
@transaction.non_atomic_requests
def stripe_webhook(request):
    delivery = WebhookDelivery.objects.create(
        body=request.body.decode("utf-8", errors="replace"),
        headers={k: v for k, v in request.headers.items() if k.lower().startswith(("stripe", "content", "user-agent"))})
    try:
        event = stripe_gateway.verify_webhook(request.body, request.headers.get("Stripe-Signature"))
    except (stripe.SignatureVerificationError, ValueError) as exc:
        delivery.result, delivery.error = WebhookDelivery.Result.BAD_SIGNATURE, str(exc)[:2000]
        delivery.save(update_fields=["result", "error"])
        return HttpResponseBadRequest("invalid signature")
    delivery.event_id, delivery.event_type = event["id"], event["type"]
    try:
        handled = licence_services.webhook_process(event)
    except IntegrityError as exc:
        if not ProcessedEvent.objects.filter(event_id=event["id"]).exists():
            return _failed(delivery, event, exc)  # a constraint in a handler, not a duplicate: Stripe retries
        delivery.result = WebhookDelivery.Result.DUPLICATE
    except Exception as exc:  # recorded, answered 500: Stripe retries and the retry processes it again
        return _failed(delivery, event, exc)
    else:
        delivery.result = WebhookDelivery.Result.PROCESSED if handled else WebhookDelivery.Result.IGNORED
    delivery.save(update_fields=["event_id", "event_type", "result", "error"])
    return HttpResponse("ok")


def _failed(delivery: WebhookDelivery, event, exc: Exception) -> HttpResponse:
    logger.exception("webhook %s failed", event["id"])
    delivery.result, delivery.error = WebhookDelivery.Result.FAILED, repr(exc)[:2000]
    delivery.save(update_fields=["event_id", "event_type", "result", "error"])
    return HttpResponse("processing failed", status=500)
