"""Certificate numbers run without gaps (issue 20): a licence is numbered when it activates, never when its
notice is given, so a notice cancelled unpaid (or a payment that failed first) consumes no number; the series
continues after the numbers already issued, which keep theirs."""

import pytest
from django.utils import timezone

from licensing.certificates.services import certificate_number_allocate
from licensing.licences.services import licence_cancel, payment_pay_with_card
from licensing.models.licences import CertificateSerial, Licence, LicenceState
from tests.licensing.fixtures_payments import (
    CARD_DECLINED,
    CARD_OK,
    card_token,
    notice,
    use_localstripe,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _localstripe(settings, localstripe_url):
    use_localstripe(settings, localstripe_url)


def _notice() -> tuple[Licence, object]:
    return notice()


def _paid(licence: Licence) -> Licence:
    result = payment_pay_with_card(payment=licence.payments.get(), token_id=card_token(CARD_OK))
    assert result["status"] == "succeeded", result
    licence.refresh_from_db()
    assert licence.state == LicenceState.ACTIVE
    return licence


def _serial(number: str) -> int:
    return int(number[-8:])


def test_a_cancelled_notice_consumes_no_certificate_number():
    first = _paid(_notice()[0])
    cancelled, member = _notice()
    licence_cancel(licence=cancelled, by=member)
    cancelled.refresh_from_db()
    assert cancelled.state == LicenceState.CANCELLED and cancelled.certificate_number is None

    second = _paid(_notice()[0])

    assert second.pk > cancelled.pk > first.pk
    assert _serial(second.certificate_number) == _serial(first.certificate_number) + 1
    assert second.certificate_number == f"OL{timezone.localdate():%Y}{_serial(first.certificate_number) + 1:08d}"


def test_a_declined_card_before_the_good_one_consumes_no_number_either():
    first = _paid(_notice()[0])
    licence, _member = _notice()
    assert payment_pay_with_card(payment=licence.payments.get(), token_id=card_token(CARD_DECLINED))["status"] == "failed"

    licence = _paid(licence)

    assert _serial(licence.certificate_number) == _serial(first.certificate_number) + 1


def test_the_series_continues_after_the_numbers_already_issued_which_keep_theirs():
    issued = _paid(_notice()[0])
    # A certificate numbered the old way (after its licence id) before serials were counted.
    Licence.objects.filter(pk=issued.pk).update(certificate_number="OL202500000042")
    CertificateSerial.objects.all().delete()

    licence = _paid(_notice()[0])

    assert licence.certificate_number == f"OL{timezone.localdate():%Y}00000043"
    issued.refresh_from_db()
    assert issued.certificate_number == "OL202500000042"


def test_a_number_set_outside_the_service_is_stepped_over():
    today = timezone.localdate()
    licence = _paid(_notice()[0])
    n = _serial(licence.certificate_number)
    # e.g. an imported certificate took the next serial without the counter knowing
    Licence.objects.filter(pk=licence.pk).update(certificate_number=f"OL{today:%Y}{n + 1:08d}")

    assert certificate_number_allocate(on=today) == f"OL{today:%Y}{n + 2:08d}"
