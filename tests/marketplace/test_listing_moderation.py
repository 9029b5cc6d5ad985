"""Holders edit their own listings in the Wagtail admin through the "Listing review" workflow: the live
page (Chinese, and the English alias that follows it) changes only when a moderator approves. Everything
goes through HTTP, as a holder and an editor would."""

from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import translation
from wagtail.models import WorkflowState
from wagtail.test.utils.form_data import inline_formset, nested_form_data, rich_text, streamfield

from marketplace.listings import services as listings
from marketplace.models import PatentListingPage
from tests.licensing.factories import DeclarationFactory, declaration_withdraw, eligible_patent, holder_admin, holder_member
from tests.parties.factories import PASSWORD, HolderFactory, MembershipFactory, OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db

NEW_SUMMARY = "适用于储能电站的电池管理 · For battery management in storage plants"


@pytest.fixture
def listing(demo_pages):
    declaration = DeclarationFactory()
    member = holder_member(declaration.holder)
    listings.declaration_file(declaration=declaration, by=holder_admin(declaration.holder))
    page = PatentListingPage.objects.get(declaration=declaration, alias_of__isnull=True)
    return SimpleNamespace(declaration=declaration, page=page, member=member,
                           english=PatentListingPage.objects.get(alias_of=page))


@pytest.fixture
def moderator(db):
    user = UserFactory()
    user.groups.add(Group.objects.get(name="Moderators"))
    return user


def _login(client, user):
    assert client.login(email=user.email, password=PASSWORD)


def _edit_url(page):
    return reverse("wagtailadmin_pages:edit", args=[page.pk])


def _listing_form(action: str, summary: str = NEW_SUMMARY, **extra) -> dict:
    """The page editor's POST: summary, the StreamField body (a paragraph and a contact), the empty comments
    formset, and the button pressed."""
    data = nested_form_data({
        "summary": summary,
        "body": streamfield([
            ("paragraph", rich_text("<p>已在两座储能电站试用。</p>")),
            ("contact", {"name": "张老师", "phone": "010-0000 0000", "email": "tto@university.example.cn"}),
        ]),
        "comments": inline_formset([]),
    })
    data[f"action-{action}"] = action
    data.update(extra)
    return data


def _submit(client, listing, **extra):
    _login(client, listing.member)
    response = client.post(_edit_url(listing.page), _listing_form("submit", **extra))
    assert response.status_code == 302, response.content.decode()[:2000]
    return listing.page.specific_class.objects.get(pk=listing.page.pk).current_workflow_state


def _act(client, moderator, page, action: str, comment: str = ""):
    page = PatentListingPage.objects.get(pk=page.pk)
    task_state = page.current_workflow_state.current_task_state
    client.logout()
    _login(client, moderator)
    response = client.post(reverse("wagtailadmin_pages:workflow_action", args=[page.pk, action, task_state.pk]),
                           {"comment": comment})
    assert response.status_code == 302


def _chinese_dashboard(client) -> str:
    with translation.override("zh-hans"):
        return client.get(reverse("dashboard")).content.decode()


def _public(client, page) -> str:
    client.logout()
    response = client.get(PatentListingPage.objects.get(pk=page.pk).url)
    assert response.status_code == 200
    return response.content.decode()


def test_a_holder_submits_an_edit_of_its_listing_and_the_live_page_waits_for_review(client, listing):
    _login(client, listing.member)
    assert client.get(_edit_url(listing.page)).status_code == 200

    state = _submit(client, listing)

    assert state.status == WorkflowState.STATUS_IN_PROGRESS and state.workflow.name == "Listing review"
    live = PatentListingPage.objects.get(pk=listing.page.pk)
    assert live.live and live.summary == "" and live.get_latest_revision_as_object().summary == NEW_SUMMARY
    assert NEW_SUMMARY not in _public(client, listing.page)
    assert NEW_SUMMARY not in _public(client, listing.english)


def test_a_holder_cannot_publish_directly(client, listing):
    _login(client, listing.member)
    client.post(_edit_url(listing.page), _listing_form("publish"))

    page = PatentListingPage.objects.get(pk=listing.page.pk)
    assert page.summary == "" and page.has_unpublished_changes and page.current_workflow_state is None
    assert NEW_SUMMARY not in _public(client, listing.page)


def test_a_moderator_approves_and_both_languages_show_the_change(client, listing, moderator):
    _submit(client, listing)
    _act(client, moderator, listing.page, "approve")

    page = PatentListingPage.objects.get(pk=listing.page.pk)
    assert page.current_workflow_state is None and page.summary == NEW_SUMMARY
    for each in (listing.page, listing.english):
        body = _public(client, each)
        assert NEW_SUMMARY in body and "已在两座储能电站试用。" in body and "张老师" in body
    assert "/en/" in PatentListingPage.objects.get(pk=listing.english.pk).url


def test_a_rejected_edit_never_shows_and_goes_back_to_the_holder(client, listing, moderator):
    _submit(client, listing)
    _act(client, moderator, listing.page, "reject", comment="请补充联系人")

    page = PatentListingPage.objects.get(pk=listing.page.pk)
    assert page.current_workflow_state.status == WorkflowState.STATUS_NEEDS_CHANGES and page.summary == ""
    assert NEW_SUMMARY not in _public(client, listing.page)
    assert NEW_SUMMARY not in _public(client, listing.english)
    _login(client, listing.member)
    dashboard = _chinese_dashboard(client)
    assert "挂牌需要修改" in dashboard and _edit_url(listing.page) in dashboard


def test_a_moderator_edits_and_publishes_a_listing_directly(client, listing, moderator):
    _login(client, moderator)
    response = client.post(_edit_url(listing.page), _listing_form("publish"))
    assert response.status_code == 302
    assert NEW_SUMMARY in _public(client, listing.page) and NEW_SUMMARY in _public(client, listing.english)


def test_another_holder_can_neither_edit_nor_see_the_listing_in_the_explorer(client, listing):
    other = DeclarationFactory()
    rival = holder_member(other.holder)
    listings.declaration_file(declaration=other, by=holder_admin(other.holder))
    rivals_page = PatentListingPage.objects.get(declaration=other, alias_of__isnull=True)
    second = DeclarationFactory(patent=eligible_patent(holder=listing.declaration.holder))
    listings.declaration_file(declaration=second, by=holder_admin(second.holder))
    seconds_page = PatentListingPage.objects.get(declaration=second, alias_of__isnull=True)

    _login(client, rival)
    assert client.get(_edit_url(listing.page)).status_code in (302, 403)
    assert client.post(_edit_url(listing.page), _listing_form("submit")).status_code in (302, 403)
    assert PatentListingPage.objects.get(pk=listing.page.pk).current_workflow_state is None
    explorer = client.get(reverse("wagtailadmin_explore_root"), follow=True).content.decode()
    assert _edit_url(rivals_page) in explorer and _edit_url(listing.page) not in explorer

    client.logout()
    _login(client, listing.member)
    explorer = client.get(reverse("wagtailadmin_explore_root"), follow=True).content.decode()
    assert _edit_url(listing.page) in explorer and _edit_url(seconds_page) in explorer
    assert _edit_url(rivals_page) not in explorer and listing.page.get_parent().title in explorer


def test_a_licensee_and_a_holder_get_nothing_else_in_the_admin(client, listing):
    licensee = MembershipFactory(organisation=OrganisationFactory()).user
    _login(client, licensee)
    assert client.get(_edit_url(listing.page)).status_code in (302, 403)
    client.logout()
    _login(client, listing.member)
    home = listing.page.get_parent().get_parent()
    for page in (home, listing.page.get_parent()):
        assert client.get(_edit_url(page)).status_code in (302, 403)
    assert client.get(reverse("wagtailadmin_pages:delete", args=[listing.page.pk])).status_code in (302, 403)
    assert client.get(reverse("wagtailadmin_pages:copy", args=[listing.page.pk])).status_code in (302, 403)
    assert client.get(reverse("wagtailadmin_pages:unpublish", args=[listing.page.pk])).status_code in (302, 403)


def test_a_holder_cannot_delete_a_listing_an_editor_took_off_by_hand(client, listing):
    PatentListingPage.objects.get(pk=listing.page.pk).unpublish()
    _login(client, listing.member)
    response = client.post(reverse("wagtailadmin_pages:delete", args=[listing.page.pk]))
    assert response.status_code == 302 and PatentListingPage.objects.filter(pk=listing.page.pk).exists()


def test_the_title_and_address_are_not_the_holders_to_change(client, listing, moderator):
    _login(client, listing.member)
    form = client.get(_edit_url(listing.page)).content.decode()
    assert 'name="title"' not in form and 'name="slug"' not in form and 'name="expire_at"' not in form
    _submit(client, listing, title="被改掉的标题", slug="hijacked", expire_at="2030-01-01 00:00")
    _act(client, moderator, listing.page, "approve")

    page = PatentListingPage.objects.get(pk=listing.page.pk)
    assert page.title == listing.declaration.patent.title[:255] and page.slug == listing.page.slug
    assert page.expire_at is None and page.summary == NEW_SUMMARY


def test_republishing_the_declaration_during_a_review_neither_publishes_nor_discards_the_holders_edit(
        client, listing, moderator):
    _submit(client, listing)
    patent = listing.declaration.patent
    patent.title = "一种改进的电池管理方法"
    patent.save()

    listings.listing_sync(declaration=listing.declaration)

    page = PatentListingPage.objects.get(pk=listing.page.pk)
    assert page.current_workflow_state.status == WorkflowState.STATUS_IN_PROGRESS
    assert page.summary == "" and page.get_latest_revision_as_object().summary == NEW_SUMMARY
    assert page.title == "一种改进的电池管理方法" == PatentListingPage.objects.get(pk=listing.english.pk).title
    _act(client, moderator, listing.page, "approve")
    page = PatentListingPage.objects.get(pk=listing.page.pk)
    assert page.summary == NEW_SUMMARY and page.title == "一种改进的电池管理方法"
    assert "一种改进的电池管理方法" in _public(client, listing.english)


def test_republishing_keeps_a_holders_draft_that_is_not_yet_submitted(client, listing):
    _login(client, listing.member)
    client.post(_edit_url(listing.page), _listing_form("save"))
    listings.listing_sync(declaration=listing.declaration)
    page = PatentListingPage.objects.get(pk=listing.page.pk)
    assert page.summary == "" and page.get_latest_revision_as_object().summary == NEW_SUMMARY


def test_a_member_sees_an_edit_link_and_the_review_state_on_the_public_page(client, listing):
    _login(client, listing.member)
    for each, link in ((listing.page, "编辑此挂牌"), (listing.english, "Edit this listing")):
        body = client.get(each.url).content.decode()
        assert link in body and _edit_url(listing.page) in body
    _submit(client, listing)
    body = client.get(listing.page.url).content.decode()
    assert "class=\"badge listing-review\"" in body
    dashboard = _chinese_dashboard(client)
    assert "挂牌修改待审核" in dashboard and _edit_url(listing.page) in dashboard

    client.logout()
    assert "listing-edit" not in client.get(listing.page.url).content.decode()
    _login(client, MembershipFactory(organisation=HolderFactory()).user)
    assert _edit_url(listing.page) not in client.get(listing.page.url).content.decode()


def test_colleagues_gain_and_lose_the_right_with_their_membership(client, listing):
    admin = holder_admin(listing.declaration.holder)
    colleague = UserFactory()
    _login(client, admin)
    organisation = reverse("organisation_detail", args=[listing.declaration.holder.slug])
    assert client.post(organisation, {"email": colleague.email, "role": "member"}).status_code == 302

    client.logout()
    _login(client, colleague)
    assert client.get(_edit_url(listing.page)).status_code == 200

    client.logout()
    _login(client, admin)
    membership = colleague.memberships.get()
    client.post(reverse("membership_remove", args=[listing.declaration.holder.slug, membership.pk]))
    client.logout()
    _login(client, colleague)
    assert client.get(_edit_url(listing.page)).status_code in (302, 403)


def test_withdrawing_takes_the_holders_right_away(client, listing):
    declaration_withdraw(listings, declaration=listing.declaration, by=holder_admin(listing.declaration.holder),
                                  reason="Assigned")
    _login(client, listing.member)
    assert client.get(_edit_url(listing.page)).status_code in (302, 403)
