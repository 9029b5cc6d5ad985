import re

import pytest
from django.core import mail
from django.urls import reverse

from marketplace.parties.models import Membership, MembershipRole, Organisation, User
from tests.parties.factories import PASSWORD, MembershipFactory, make_uscc

pytestmark = pytest.mark.django_db


def signup_data(**overrides):
    data = {
        "email": "founder@newco.cn",
        "first_name": "Fang",
        "last_name": "Wu",
        "password1": "a-long-unusual-passphrase-77",
        "password2": "a-long-unusual-passphrase-77",
        "kind": "enterprise",
        "name_zh": "新创科技有限公司",
        "name_en": "NewCo Technology Ltd",
        "uscc": make_uscc(424242),
        "province": "广东省",
        "city": "广州市",
        "is_licensee": "on",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_signup_creates_user_organisation_and_admin_membership_and_signs_in(client):
    response = client.post(reverse("signup"), signup_data())
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard")
    user = User.objects.get(email="founder@newco.cn")
    membership = Membership.objects.get(user=user)
    assert membership.role == MembershipRole.ADMIN
    assert membership.organisation.is_licensee and not membership.organisation.is_holder
    assert membership.organisation.slug == "newco-technology-ltd"
    dashboard = client.get(reverse("dashboard"))
    assert "新创科技有限公司" in dashboard.content.decode()


def test_signup_with_a_mistyped_credit_code_says_why_and_writes_nothing(client):
    code = make_uscc(424242)
    bad = code[:-1] + ("0" if code[-1] != "0" else "1")
    response = client.post(reverse("signup"), signup_data(uscc=bad))
    assert response.status_code == 200
    assert "check character" in response.content.decode().lower() or "校验" in response.content.decode()
    assert not User.objects.exists() and not Organisation.objects.exists()


def test_signup_refuses_the_ip_office_kind(client):
    response = client.post(reverse("signup"), signup_data(kind="ip_office"))
    assert response.status_code == 200
    assert not Organisation.objects.exists()


def test_signup_requires_a_role(client):
    response = client.post(reverse("signup"), signup_data(is_licensee=None))
    assert response.status_code == 200
    assert not User.objects.exists()


def test_individuals_sign_up_without_a_credit_code(client):
    response = client.post(reverse("signup"), signup_data(kind="individual", uscc="", is_holder="on"))
    assert response.status_code == 302
    assert Organisation.objects.get().uscc is None


def test_signup_with_an_already_registered_organisation_points_to_its_admin(client):
    client.post(reverse("signup"), signup_data())
    client.logout()
    response = client.post(reverse("signup"), signup_data(email="other@newco.cn"))
    assert response.status_code == 200
    assert User.objects.count() == 1


def test_login_with_email_and_logout(client):
    membership = MembershipFactory()
    response = client.post(reverse("login"), {"username": membership.user.email, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("dashboard")
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("dashboard")).status_code == 302


def test_wrong_password_is_refused(client):
    membership = MembershipFactory()
    response = client.post(reverse("login"), {"username": membership.user.email, "password": "nope"})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_dashboard_requires_login(client):
    response = client.get(reverse("dashboard"))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_password_reset_mails_a_link_that_sets_a_new_password(client):
    membership = MembershipFactory()
    response = client.post(reverse("password_reset"), {"email": membership.user.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^/]+(/\S+)", mail.outbox[0].body).group(1)
    response = client.get(link, follow=True)
    form_url = response.redirect_chain[-1][0]
    response = client.post(form_url, {"new_password1": "brand-new-secret-4242", "new_password2": "brand-new-secret-4242"})
    assert response.status_code == 302
    assert client.login(email=membership.user.email, password="brand-new-secret-4242")
