import pytest
from django.core import mail
from django.urls import reverse

from marketplace.parties.models import Membership, MembershipRole, User
from tests.parties.factories import HolderFactory, IPOfficeFactory, MembershipFactory, OrganisationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def holder_admin():
    return MembershipFactory(organisation=HolderFactory(), role=MembershipRole.ADMIN)


def test_anyone_sees_the_public_profile_but_not_the_member_list(client, holder_admin):
    response = client.get(reverse("organisation_detail", args=[holder_admin.organisation.slug]))
    assert response.status_code == 200
    body = response.content.decode()
    assert holder_admin.organisation.name_zh in body
    assert holder_admin.user.email not in body


def test_members_see_the_member_list(client, holder_admin):
    member = MembershipFactory(organisation=holder_admin.organisation)
    client.force_login(member.user)
    body = client.get(reverse("organisation_detail", args=[holder_admin.organisation.slug])).content.decode()
    assert holder_admin.user.email in body


def test_an_admin_adds_a_new_member_who_gets_a_password_email(client, holder_admin):
    client.force_login(holder_admin.user)
    url = reverse("organisation_detail", args=[holder_admin.organisation.slug])
    response = client.post(url, {"email": "New.Colleague@Uni.edu.cn", "role": "member"})
    assert response.status_code == 302
    newcomer = User.objects.get(email="new.colleague@uni.edu.cn")
    assert not newcomer.has_usable_password()
    assert Membership.objects.get(user=newcomer).organisation == holder_admin.organisation
    assert len(mail.outbox) == 1 and "new.colleague@uni.edu.cn" in mail.outbox[0].to


def test_a_plain_member_cannot_add_members(client, holder_admin):
    member = MembershipFactory(organisation=holder_admin.organisation)
    client.force_login(member.user)
    url = reverse("organisation_detail", args=[holder_admin.organisation.slug])
    assert client.post(url, {"email": "x@y.cn", "role": "admin"}).status_code == 403
    assert not User.objects.filter(email="x@y.cn").exists()


def test_an_admin_of_another_organisation_cannot_edit_this_one(client, holder_admin):
    outsider = MembershipFactory(role=MembershipRole.ADMIN)
    client.force_login(outsider.user)
    url = reverse("organisation_edit", args=[holder_admin.organisation.slug])
    assert client.get(url).status_code == 403
    assert client.post(url, {"name_zh": "被篡改", "province": "x", "is_holder": "on"}).status_code == 403
    holder_admin.organisation.refresh_from_db()
    assert holder_admin.organisation.name_zh != "被篡改"


def test_an_admin_edits_the_profile(client, holder_admin):
    client.force_login(holder_admin.user)
    org = holder_admin.organisation
    url = reverse("organisation_edit", args=[org.slug])
    response = client.post(url, {"name_zh": org.name_zh, "name_en": "Renamed University", "province": "北京市",
                                 "city": "北京市", "description": "Strong in batteries", "is_holder": "on"})
    assert response.status_code == 302
    org.refresh_from_db()
    assert org.name_en == "Renamed University" and org.description == "Strong in batteries"


def test_the_last_admin_cannot_be_removed(client, holder_admin):
    client.force_login(holder_admin.user)
    url = reverse("membership_remove", args=[holder_admin.organisation.slug, holder_admin.pk])
    client.post(url)
    assert Membership.objects.filter(pk=holder_admin.pk).exists()


def test_an_admin_removes_a_member(client, holder_admin):
    member = MembershipFactory(organisation=holder_admin.organisation)
    client.force_login(holder_admin.user)
    client.post(reverse("membership_remove", args=[holder_admin.organisation.slug, member.pk]))
    assert not Membership.objects.filter(pk=member.pk).exists()


def test_ip_office_staff_list_every_organisation_read_only(client, holder_admin):
    licensee = OrganisationFactory()
    staff = MembershipFactory(organisation=IPOfficeFactory(), role=MembershipRole.MEMBER)
    client.force_login(staff.user)
    body = client.get(reverse("organisation_list")).content.decode()
    assert holder_admin.organisation.name_zh in body and licensee.name_zh in body
    detail = client.get(reverse("organisation_detail", args=[holder_admin.organisation.slug])).content.decode()
    assert holder_admin.user.email in detail  # sees members
    assert client.get(reverse("organisation_edit", args=[holder_admin.organisation.slug])).status_code == 403


def test_other_users_only_list_their_own_organisations(client, holder_admin):
    other = OrganisationFactory()
    client.force_login(holder_admin.user)
    body = client.get(reverse("organisation_list")).content.decode()
    assert holder_admin.organisation.name_zh in body and other.name_zh not in body


def test_dashboard_shows_each_role_its_next_steps(client, holder_admin):
    client.force_login(holder_admin.user)
    body = client.get(reverse("dashboard")).content.decode()
    assert reverse("organisation_edit", args=[holder_admin.organisation.slug]) in body
    staff = MembershipFactory(organisation=IPOfficeFactory())
    client.force_login(staff.user)
    body = client.get(reverse("dashboard")).content.decode()
    assert reverse("organisation_list") in body
    assert reverse("organisation_edit", args=[staff.organisation.slug]) not in body
