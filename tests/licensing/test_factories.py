"""The licensing factories build rows the models accept (who acted is left empty: no flow ran)."""

import pytest

from licensing.models.licences import LicenceState, Payment
from tests.licensing.factories import LicenceFactory, PaymentFactory, RoyaltyReportFactory, VoucherFactory

pytestmark = pytest.mark.django_db


def test_factories_build_valid_rows():
    lic = LicenceFactory()
    assert lic.state == LicenceState.NOTICE_SUBMITTED and lic.certificate_number is None
    lic.full_clean(exclude=["notice_submitted_by"])
    active = LicenceFactory(active=True)
    active.full_clean(exclude=["notice_submitted_by"])
    assert active.certificate_number.startswith("OL") and active.ends_on > active.starts_on
    pay = PaymentFactory(paid=True)
    pay.full_clean()
    assert pay.state == Payment.State.SUCCEEDED and pay.platform_fee_rate is not None
    VoucherFactory().full_clean(exclude=["issued_by"])
    report = RoyaltyReportFactory()
    report.full_clean(exclude=["submitted_by"])
    assert report.royalty_fen == 50_000
