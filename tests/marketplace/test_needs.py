"""Buyer needs (需求清单): licensees post needs, the public board lists them with facets, holders propose
their published listings, and the buyer sees every proposal in one place."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from marketplace.exceptions import NotAllowed
from marketplace.listings import services as listings
from marketplace.listings.funnel import need_funnels
from marketplace.models import Need, Proposal
from marketplace.needs import services as needs
from tests.licensing.factories import DeclarationFactory, declaration_withdraw, holder_admin, holder_member
from tests.parties.factories import HolderFactory, MembershipFactory, OrganisationFactory

pytestmark = pytest.mark.django_db


def _licensee_member(**org):
    membership = MembershipFactory(organisation=OrganisationFactory(is_licensee=True, is_holder=False, **org))
    return membership.user, membership.organisation


def _need(organisation, user, **fields):
    fields.setdefault("title", "储能电池管理技术")
    fields.setdefault("description", "We need a battery management method for grid storage.")
    return needs.need_post(organisation=organisation, by=user, **fields)


def _form(**overrides):
    data = {"title": "电池热管理 Battery thermal management", "description": "For our 2 MWh container product.",
            "technology_field": "", "ipc_prefix": "h01m", "budget_min": "10000", "budget_max": "80000.50",
            "horizon_years": "3", "expected_annual_net_sales": "", "preferred_fee_form": "lump_sum",
            "region": "广东省", "deadline": "", "public": "on"}
    data.update(overrides)
    return data


@pytest.fixture
def listing(demo_pages):
    declaration = DeclarationFactory()
    return listings.declaration_file(declaration=declaration, by=holder_admin(declaration.holder))


# ------------------------------------------------------------------------------------------ posting


def test_a_licensee_member_posts_a_need_with_the_budget_in_yuan_stored_in_fen(client):
    user, organisation = _licensee_member()
    client.force_login(user)
    response = client.post(reverse("need_new"), _form(organisation=organisation.pk))
    need = Need.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("need_detail", args=[need.pk])
    assert (need.organisation, need.posted_by, need.state) == (organisation, user, Need.State.OPEN)
    assert (need.budget_min_fen, need.budget_max_fen, need.ipc_prefix) == (1_000_000, 8_000_050, "H01M")


def test_a_budget_range_upside_down_is_refused_naming_the_field(client):
    user, organisation = _licensee_member()
    client.force_login(user)
    response = client.post(reverse("need_new"), _form(organisation=organisation.pk, budget_min="90000",
                                                      budget_max="1000"))
    assert response.status_code == 400 and not Need.objects.exists()
    assert "budget_max" in response.context["form"].errors


def test_the_service_names_the_budget_field_when_the_range_is_upside_down():
    from django.core.exceptions import ValidationError

    user, organisation = _licensee_member()
    with pytest.raises(ValidationError) as exc:
        _need(organisation, user, budget_min_fen=500, budget_max_fen=100)
    assert "budget_max_fen" in exc.value.message_dict


def test_a_member_of_a_holder_only_organisation_cannot_post_a_need(client):
    holder = HolderFactory()
    client.force_login(holder_admin(holder))
    assert client.get(reverse("need_new")).status_code == 403
    assert client.post(reverse("need_new"), _form(organisation=holder.pk)).status_code == 403
    with pytest.raises(NotAllowed):
        _need(holder, holder_admin(holder))
    assert not Need.objects.exists()


def test_a_visitor_is_sent_to_sign_in_before_posting(client):
    response = client.get(reverse("need_new"))
    assert response.status_code == 302 and "login" in response["Location"]


# ------------------------------------------------------------------------------------------ the board


def test_the_board_shows_public_open_needs_with_facets_and_hides_anonymous_names(client):
    user, organisation = _licensee_member(name_zh="深圳储能科技有限公司")
    _need(organisation, user, title="公开需求 named need", region="广东省", preferred_fee_form="lump_sum",
          technology_field=1)
    _need(organisation, user, title="匿名需求 anonymous need", anonymous=True, region="广东省",
          preferred_fee_form="royalty", technology_field=1)
    _need(organisation, user, title="内部需求 private need", public=False)
    response = client.get(reverse("need_board"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "named need" in body and "anonymous need" in body and "private need" not in body
    assert body.count("深圳储能科技有限公司") == 1
    facets = response.context["facets"]
    assert {(f.value, f.count) for f in facets["region"]} == {("广东省", 2)}
    assert {(f.value, f.count) for f in facets["preferred_fee_form"]} == {("lump_sum", 1), ("royalty", 1)}
    assert sum(f.count for f in facets["technology_field"]) == response.context["total"] == 2


def test_the_board_narrows_by_fee_form_budget_text_and_deadline(client):
    user, organisation = _licensee_member()
    _need(organisation, user, title="small lump sum", preferred_fee_form="lump_sum", budget_max_fen=1_000_000)
    _need(organisation, user, title="big royalty", preferred_fee_form="royalty", budget_min_fen=50_000_000)
    _need(organisation, user, title="expired lump sum", preferred_fee_form="lump_sum",
          deadline=timezone.localdate() - timedelta(days=1))

    def titles(**params):
        return {n.title for n in client.get(reverse("need_board"), params).context["page"]}

    assert titles(preferred_fee_form="lump_sum") == {"small lump sum", "expired lump sum"}
    assert titles(preferred_fee_form="lump_sum", current="true") == {"small lump sum"}
    assert titles(budget_from="100000") == {"big royalty", "expired lump sum"}
    assert titles(budget_to="20000") == {"small lump sum", "expired lump sum"}
    assert titles(q="ROYALTY") == {"big royalty"}


def test_an_anonymous_needs_detail_page_hides_the_buyer_from_others(client):
    user, organisation = _licensee_member(name_zh="匿名买方有限公司")
    need = _need(organisation, user, anonymous=True)
    assert "匿名买方有限公司" not in client.get(reverse("need_detail", args=[need.pk])).content.decode()
    client.force_login(user)
    assert "匿名买方有限公司" in client.get(reverse("need_detail", args=[need.pk])).content.decode()


def test_a_non_public_need_is_not_found_by_outsiders(client):
    user, organisation = _licensee_member()
    need = _need(organisation, user, public=False)
    assert client.get(reverse("need_detail", args=[need.pk])).status_code == 404


# ------------------------------------------------------------------------------------------ proposals


def test_a_holder_proposes_a_published_listing_and_the_buyer_sees_it_on_needs_mine(client, listing):
    buyer, organisation = _licensee_member()
    need = _need(organisation, buyer)
    member = holder_member(listing.holder)
    client.force_login(member)
    detail = client.get(reverse("need_detail", args=[need.pk]))
    assert reverse("need_propose", args=[need.pk]) in detail.content.decode()
    assert list(detail.context["proposal_form"].fields["declaration"].queryset) == [listing]
    response = client.post(reverse("need_propose", args=[need.pk]),
                           {"declaration": listing.pk, "message": "我们的电池管理专利正适合。"})
    assert response.status_code == 302
    proposal = Proposal.objects.get()
    assert (proposal.need, proposal.declaration, proposal.holder, proposal.proposed_by) == (
        need, listing, listing.holder, member)
    assert need_funnels(need_ids=[need.pk])[need.pk].proposals == 1

    client.force_login(buyer)
    body = client.get(reverse("need_mine")).content.decode()
    assert listing.patent.title in body and listing.holder.name_zh in body and "我们的电池管理专利正适合。" in body
    assert listing.patent.title in client.get(reverse("need_detail", args=[need.pk])).content.decode()


def test_proposing_the_same_listing_twice_is_refused_cleanly(client, listing):
    buyer, organisation = _licensee_member()
    need = _need(organisation, buyer)
    client.force_login(holder_member(listing.holder))
    url = reverse("need_propose", args=[need.pk])
    client.post(url, {"declaration": listing.pk})
    response = client.post(url, {"declaration": listing.pk}, follow=True)
    assert response.status_code == 200 and Proposal.objects.count() == 1
    assert "already been proposed" in response.content.decode() or "已" in response.content.decode()


def test_an_unpublished_or_withdrawn_listing_cannot_be_proposed(client, listing):
    buyer, organisation = _licensee_member()
    need = _need(organisation, buyer)
    draft = DeclarationFactory(patent__holder=listing.holder, holder=listing.holder)
    admin = holder_admin(listing.holder)
    client.force_login(admin)
    client.post(reverse("need_propose", args=[need.pk]), {"declaration": draft.pk})
    declaration_withdraw(listings, declaration=listing, by=admin, reason="Assigned to a buyer")
    client.post(reverse("need_propose", args=[need.pk]), {"declaration": listing.pk})
    assert not Proposal.objects.exists()


def test_a_member_of_another_holder_cannot_propose_that_holders_listing(client, listing):
    buyer, organisation = _licensee_member()
    need = _need(organisation, buyer)
    client.force_login(holder_admin(HolderFactory()))
    response = client.post(reverse("need_propose", args=[need.pk]), {"declaration": listing.pk})
    assert response.status_code == 403 and not Proposal.objects.exists()


def test_a_holder_cannot_propose_for_its_own_need_or_a_closed_one(listing):
    from django.core.exceptions import ValidationError

    admin = holder_admin(listing.holder)
    listing.holder.is_licensee = True
    listing.holder.save()
    own = _need(listing.holder, admin)
    with pytest.raises(ValidationError):
        needs.proposal_make(need=own, declaration=listing, by=admin, message="")
    buyer, organisation = _licensee_member()
    closed = needs.need_close(need=_need(organisation, buyer), by=buyer)
    with pytest.raises(ValidationError):
        needs.proposal_make(need=closed, declaration=listing, by=admin, message="")
    assert not Proposal.objects.exists()


def test_holders_see_open_needs_in_the_fields_of_their_listings(listing):
    buyer, organisation = _licensee_member()
    field = listing.patent.technology_field
    match = _need(organisation, buyer, technology_field=field)
    _need(organisation, buyer, technology_field=field + 1)
    assert list(needs.needs_for_holder(holder=listing.holder)) == [match]


def test_the_buyer_updates_its_open_need_and_outsiders_cannot():
    buyer, organisation = _licensee_member()
    need = needs.need_update(need=_need(organisation, buyer), by=buyer, title="新标题", budget_max_fen=9_900)
    assert (need.title, need.budget_max_fen) == ("新标题", 9_900)
    outsider, _ = _licensee_member()
    with pytest.raises(NotAllowed):
        needs.need_update(need=need, by=outsider, title="hijack")


# ------------------------------------------------------------------------------------------ closing


def test_closing_a_need_removes_it_from_the_board(client):
    buyer, organisation = _licensee_member()
    need = _need(organisation, buyer, title="soon closed")
    assert "soon closed" in client.get(reverse("need_board")).content.decode()
    client.force_login(buyer)
    assert client.post(reverse("need_close", args=[need.pk])).status_code == 302
    need.refresh_from_db()
    assert need.state == Need.State.CLOSED
    client.logout()
    assert "soon closed" not in client.get(reverse("need_board")).content.decode()
    assert client.get(reverse("need_detail", args=[need.pk])).status_code == 404


def test_only_the_buyer_may_close_its_need(client):
    buyer, organisation = _licensee_member()
    need = _need(organisation, buyer)
    outsider, _ = _licensee_member()
    client.force_login(outsider)
    assert client.post(reverse("need_close", args=[need.pk])).status_code == 403
    need.refresh_from_db()
    assert need.state == Need.State.OPEN
