import pytest
from django.core.exceptions import ValidationError

from marketplace.parties.models import Organisation, OrganisationKind
from tests.parties.factories import make_uscc

pytestmark = pytest.mark.django_db


def org(**kw):
    fields = dict(kind=OrganisationKind.ENTERPRISE, slug="acme", name_zh="甲公司", uscc=make_uscc(7),
                  province="上海市", is_licensee=True)
    fields.update(kw)
    return Organisation(**fields)


def test_an_organisation_protects_its_credit_code():
    with pytest.raises(ValidationError) as exc:
        org(uscc="91350100M000100Y44").full_clean()
    assert "uscc" in exc.value.error_dict


def test_the_ip_office_cannot_hold_or_license_patents():
    with pytest.raises(ValidationError):
        org(kind=OrganisationKind.IP_OFFICE, is_licensee=True).full_clean()


def test_the_database_refuses_a_company_without_credit_code():
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        org(uscc=None).save()
