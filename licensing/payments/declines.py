"""Our own words for a card Stripe refused. Stripe's text is English whatever the buyer reads, so the page shows
a translated message chosen by the decline code, and Stripe's text goes to the log only.

The message is returned untranslated (our msgid): a payment stores it so, and each page translates it for its
reader (`gettext(payment.failure_message)`), since a webhook records a failure with no reader's language."""

import logging

from django.utils.translation import gettext_noop as _

logger = logging.getLogger(__name__)


def _messages() -> dict[str, str]:
    return {
        "insufficient_funds": _("Your card has insufficient funds. Please use another card."),
        "expired_card": _("Your card has expired. Please use another card."),
        "incorrect_cvc": _("The card's security code is incorrect."),
        "invalid_cvc": _("The card's security code is incorrect."),
        "incorrect_number": _("The card number is incorrect."),
        "invalid_number": _("The card number is incorrect."),
        "invalid_expiry_month": _("The card's expiry date is incorrect."),
        "invalid_expiry_year": _("The card's expiry date is incorrect."),
        "processing_error": _("The card could not be processed. Please try again."),
        "authentication_required": _("Your bank asks you to confirm this payment."),
        "payment_intent_authentication_failure": _(
            "Your bank's authentication of this payment failed. Please try again."),
        "lost_card": _("Your card was declined. Please use another card or contact your bank."),
        "stolen_card": _("Your card was declined. Please use another card or contact your bank."),
    }


def decline_message(*, code: str | None, stripe_text: str = "", payment_id: int | None = None) -> str:
    """The buyer's message (untranslated) for a decline code (Stripe's `decline_code`, else its error `code`);
    unknown codes get the general one. Stripe's own text is logged with the payment for support."""
    logger.info("payment %s declined: code=%s stripe=%r", payment_id, code, stripe_text)
    return _messages().get(code or "", _("Your card was declined. Please use another card or contact your bank."))
