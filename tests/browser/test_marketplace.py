"""The marketplace driven in headless Chromium, as issue 6's acceptance reads: a visitor searches in Chinese and
in English and narrows with three facets whose counts add up; a licensee posts a need and sees recommended
listings with their explanations; the holder finds the need among "Companies that need this" and proposes its
listing, which the buyer then sees; a holder's edit of a listing goes through the "Listing review" workflow in
the Wagtail admin and the published page shows it only once an editor approves."""

import re
from datetime import date
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Group, Permission
from playwright.sync_api import expect
from wagtail.models import GroupPagePermission, Page

from licensing.models import FeeForm
from marketplace.listings import services as listings
from marketplace.models import Need, PatentListingPage, Proposal
from marketplace.parties.models import MembershipRole
from tests.browser.flows import log_in
from tests.licensing.factories import DeclarationFactory, eligible_patent, holder_admin, holder_member
from tests.licensing.fixtures_payments import give_notice
from tests.parties.factories import PASSWORD, HolderFactory, MembershipFactory, OrganisationFactory, UserFactory


def _publish(holder, *, declaration_kwargs=None, **patent_kwargs):
    patent = eligible_patent(holder=holder, **patent_kwargs)
    declaration = DeclarationFactory(patent=patent, holder=holder, **(declaration_kwargs or {}))
    return listings.declaration_file(declaration=declaration, by=holder_admin(holder))


@pytest.fixture
def market(site):
    """Seven listings from three holders in three regions: four about batteries (two with English titles),
    the rest about engines and drugs, on lump sums and royalties."""
    university = HolderFactory(name_zh="南山大学", name_en="Nanshan University", province="广东省")
    # A plain member from before the listings, so publishing lets them edit the listings (under review).
    university_member = holder_member(university)
    institute = HolderFactory(name_zh="东湖研究院", name_en="Donghu Institute", province="湖北省")
    company = HolderFactory(name_zh="浦江动力股份有限公司", name_en="Pujiang Power", province="上海市")
    cheap = {"lump_sum_fen": 2_000_000}
    royalty = {"fee_form": FeeForm.ROYALTY, "lump_sum_fen": None, "royalty_base": "net_sales",
               "royalty_rate": "3.00", "annual_minimum_fen": 1_000_000}
    return SimpleNamespace(
        university=university, university_member=university_member,
        bms=_publish(university, title="一种锂电池管理系统及均衡方法",
                     abstract="通过监测电芯电压对锂电池组进行主动均衡，延长电池寿命。", declaration_kwargs=cheap),
        electrolyte=_publish(university, title="一种固态电池电解质及其制备方法",
                             abstract="本发明公开一种用于固态电池的硫化物电解质。",
                             declaration_kwargs={**royalty, "royalty_base": "profit"}),
        pack=_publish(institute, title="Battery pack thermal management with liquid cooling plates",
                      abstract="A battery pack whose cells are cooled by liquid plates.", main_ipc="H01M 10/613"),
        charger=_publish(company, title="Fast charger for a traction battery",
                         abstract="A charger that limits battery temperature while charging.", main_ipc="H02J 7/00",
                         declaration_kwargs=royalty),
        engine=_publish(company, title="一种发动机废气再循环阀", abstract="一种用于柴油发动机的废气再循环阀。",
                        main_ipc="F02M 26/52", technology_field=27, filing_date=date(2012, 5, 1)),
        drug=_publish(institute, title="一种抗肿瘤药物组合物", abstract="本发明涉及一种抗肿瘤药物。",
                      main_ipc="A61K 31/00", technology_field=16),
        gear=_publish(university, title="一种行星齿轮减速器", abstract="一种紧凑的行星齿轮减速器。",
                      main_ipc="F16H 1/28", technology_field=31, declaration_kwargs=cheap),
    )


def result_total(page) -> int:
    return int(re.search(r"\d+", page.locator(".result-count").inner_text()).group())


def _counts(items) -> list[int]:
    return [int(c.strip("()")) for c in items.locator("span.count").all_inner_texts()]


def assert_facet_counts_add_up(page, *, cleared: dict | None = None) -> int:
    """Every facet's counts add up to the number of results shown (each listing has one value per facet). A
    facet in use shows what clearing it would give: its selected value counts the results shown, and all its
    counts add up to the total before it was chosen (``cleared``: facet → that total)."""
    total = result_total(page)
    sections = page.locator("aside.facets section.facet")
    assert sections.count() >= 5
    for i in range(sections.count()):
        section = sections.nth(i)
        name = section.get_attribute("data-facet")
        counts = _counts(section)
        if section.locator("li.selected").count():
            assert _counts(section.locator("li.selected")) == [total], name
            assert sum(counts) == (cleared or {})[name], (name, counts)
        else:
            assert sum(counts) == total, (name, counts, total)
    return total


def click_facet(page, facet: str, label: str):
    page.locator(f"aside.facets section[data-facet={facet}] a").filter(has_text=label).first.click()
    page.wait_for_load_state()
    expect(page.locator(f"aside.facets section[data-facet={facet}] li.selected")).to_contain_text(label)


def test_a_visitor_searches_in_chinese_and_english_and_narrows_with_three_facets(site, market, page, page_en):
    # Chinese: jieba segments both the titles and the query, so "电池" finds batteries inside longer words; and
    # the search crosses languages (issue #20): the English titles about batteries are found too.
    page.goto(f"{site.url}/zh-hans/search/")
    page.fill("#id_q", "电池")
    page.click("form.search-form button[type=submit]")
    page.wait_for_url(re.compile(r"/zh-hans/search/\?.*q=%E7%94%B5%E6%B1%A0"))
    titles = page.locator("ol.listing-results li.listing-hit > a").all_inner_texts()
    assert set(titles) == {market.bms.patent.title, market.electrolyte.patent.title, market.pack.patent.title,
                           market.charger.patent.title}
    assert assert_facet_counts_add_up(page) == 4

    # English: the English browser gets the English page; an English query finds the English titles first, then
    # the Chinese ones through the bilingual bridge.
    page_en.goto(f"{site.url}/en/search/")
    page_en.fill("#id_q", "battery")
    page_en.click("form.search-form button[type=submit]")
    page_en.wait_for_url(re.compile(r"/en/search/\?.*q=battery"))
    titles = page_en.locator("ol.listing-results li.listing-hit > a").all_inner_texts()
    assert set(titles[:2]) == {market.pack.patent.title, market.charger.patent.title}
    assert set(titles[2:]) == {market.bms.patent.title, market.electrolyte.patent.title}
    hrefs = page_en.locator("ol.listing-results li.listing-hit > a").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))")
    assert all(href.startswith("/en/") for href in hrefs)

    # Everything, then three facets one after another; every step's counts add up to what is shown.
    page_en.goto(f"{site.url}/en/search/")
    assert assert_facet_counts_add_up(page_en) == 7
    click_facet(page_en, "fee_form", "Lump sum")
    assert assert_facet_counts_add_up(page_en, cleared={"fee_form": 7}) == 5
    click_facet(page_en, "region", "广东省")
    assert assert_facet_counts_add_up(page_en, cleared={"fee_form": 3, "region": 5}) == 2
    click_facet(page_en, "technology_field", "Mechanical elements")
    assert assert_facet_counts_add_up(page_en, cleared={"fee_form": 1, "region": 1, "technology_field": 2}) == 1
    titles = page_en.locator("ol.listing-results li.listing-hit > a").all_inner_texts()
    assert titles == [market.gear.patent.title]
    # The narrowed search is a shareable URL: opening it in another tab gives the same result.
    url = page_en.url
    assert "fee_form=lump_sum" in url and "technology_field=31" in url
    page.goto(url.replace("/en/", "/zh-hans/"))
    assert result_total(page) == 1


def test_a_licensee_posts_a_need_sees_recommendations_and_the_holder_proposes_its_listing(site, market, page_en, chromium):
    """...and (issue 20, defects 6 and 7) the holder hears of the need without anyone running a command, a royalty
    on profit is not judged against the budget, and a listing the buyer already licenses is left out."""
    page = page_en
    buyer = MembershipFactory(organisation=OrganisationFactory(name_zh="深圳储能科技有限公司", name_en="Shenzhen Storage"),
                              role=MembershipRole.ADMIN)
    holder = MembershipFactory(organisation=market.university, role=MembershipRole.ADMIN).user
    log_in(page, site, buyer.user)

    page.goto(f"{site.url}/en/needs/new/")
    page.fill("#id_title", "锂电池组均衡管理技术")
    page.fill("#id_description", "我们生产储能电站用的锂电池组，需要电池管理和主动均衡方面的专利，用于延长电池寿命。")
    page.select_option("#id_technology_field", "1")
    page.fill("#id_budget_min", "10000")
    page.fill("#id_budget_max", "100000")
    page.fill("#id_horizon_years", "3")
    page.click("form.need-form button[type=submit]")
    page.wait_for_url(re.compile(r"/en/needs/\d+/$"))
    need = Need.objects.get(title="锂电池组均衡管理技术")

    page.click("a.button:has-text('Recommended for you')")
    page.wait_for_url(re.compile(rf"/en/needs/{need.pk}/matches/$"))
    first = page.locator("section.match").first
    expect(first.locator("h2")).to_contain_text(market.bms.patent.title)
    explanation = first.locator("dl.match-explanation")
    expect(explanation).to_contain_text("Shared terms")
    assert "电池" in explanation.inner_text() and "same field" in explanation.inner_text()
    expect(explanation).to_contain_text("Budget")
    # A royalty on profit: the need gives no profit figure, so the budget cannot be judged (not "within budget").
    on_profit = page.locator("section.match").filter(has_text=market.electrolyte.patent.title)
    budget = on_profit.locator("dt:text-is('Budget') + dd")
    expect(budget).to_contain_text("cannot be judged: the royalty is computed on profit")
    expect(budget).not_to_contain_text("within budget")

    # The holder: told of the need in the app (the match ran in the background when it was posted), the need,
    # also among "Companies that need this" of its declaration, and a proposal of its listing.
    holder_page = chromium.new_context(locale="en-US", extra_http_headers={"Accept-Language": "en-US"}).new_page()
    log_in(holder_page, site, holder)
    holder_page.goto(f"{site.url}/en/declarations/{market.bms.pk}/needs/")
    expect(holder_page.locator("section.match h2 a").filter(has_text=need.title)).to_be_visible()
    holder_page.get_by_role("navigation").get_by_role("link", name=re.compile("Notifications")).click()
    holder_page.get_by_role("link", name=f"A company needs what your patents do: “{need.title}”").click()
    holder_page.wait_for_url(re.compile(rf"/needs/{need.pk}/$"))
    holder_page.select_option("form.proposal-form select[name=declaration]", str(market.bms.pk))
    holder_page.fill("form.proposal-form textarea[name=message]", "我们的均衡方法已在两座储能电站验证。")
    holder_page.click("form.proposal-form button[type=submit]")
    expect(holder_page.locator("ul.messages li.message.success")).to_contain_text("proposed")
    assert Proposal.objects.filter(need=need, declaration=market.bms).count() == 1
    holder_page.context.close()

    # The buyer sees the proposal on the need's page.
    page.goto(f"{site.url}/en/needs/{need.pk}/")
    proposal = page.locator("table.proposals tr.proposal")
    expect(proposal).to_have_count(1)
    expect(proposal).to_contain_text(market.bms.patent.title)
    expect(proposal).to_contain_text("两座储能电站")

    # Once the buyer holds a licence under the best listing, it is no longer recommended (nor first, unmarked).
    give_notice(market.bms, buyer.organisation, buyer.user)
    page.goto(f"{site.url}/en/needs/{need.pk}/matches/")
    expect(page.locator("section.match").first).to_be_visible()
    expect(page.locator("section.match").filter(has_text=market.bms.patent.title)).to_have_count(0)
    expect(page.get_by_text("Listings your organisation already holds a licence under are left out.")).to_be_visible()


def test_a_holders_listing_edit_is_published_only_after_an_editor_approves_it(site, market, page_en, chromium):
    page = page_en
    listing = PatentListingPage.objects.get(declaration=market.bms, alias_of__isnull=True)
    member = market.university_member
    editor = UserFactory()
    # A flushed database lost Wagtail's initial data: the Moderators group gets back what its migration gives
    # it (admin access; add, change and publish from the tree root).
    moderators, _ = Group.objects.get_or_create(name="Moderators")
    moderators.permissions.add(Permission.objects.get(codename="access_admin"))
    for codename in ("add_page", "change_page", "publish_page"):
        GroupPagePermission.objects.get_or_create(group=moderators, page=Page.get_first_root_node(),
                                                  permission=Permission.objects.get(codename=codename))
    editor.groups.add(moderators)
    summary = "适用于储能电站的电池管理 · For battery management in storage plants"

    # The holder's member opens the live listing, follows "Edit this listing" and submits a new summary.
    log_in(page, site, member)
    page.goto(f"{site.url}{listing.url}")
    page.click("p.listing-edit a.button")
    page.wait_for_url(re.compile(rf"/admin/pages/{listing.pk}/edit/$"))
    page.fill("#id_summary", summary)
    page.locator("footer [data-w-dropdown-target=toggle], footer button[aria-label='More actions']").first.click()
    with page.expect_navigation():
        page.locator("button[name=action-submit]").click()
    expect(page.locator(".messages")).to_contain_text("submitted")
    live = PatentListingPage.objects.get(pk=listing.pk)
    assert live.current_workflow_state is not None and live.summary == ""
    page.goto(f"{site.url}{listing.url}")
    expect(page.locator("span.listing-review")).to_be_visible()
    assert summary not in page.content()

    # The editor approves in the admin; the public page (and its English alias) then show the new summary.
    editor_page = chromium.new_context(locale="en-US", extra_http_headers={"Accept-Language": "en-US"}).new_page()
    editor_page.goto(f"{site.url}/admin/login/")
    editor_page.fill("#id_username", editor.email)
    editor_page.fill("#id_password", PASSWORD)
    editor_page.click("button[type=submit]")
    editor_page.wait_for_url(re.compile(r"/admin/$"))
    editor_page.goto(f"{site.url}/admin/pages/{listing.pk}/edit/")
    editor_page.locator("footer [data-w-dropdown-target=toggle], footer button[aria-label='More actions']").first.click()
    with editor_page.expect_navigation():
        editor_page.locator("button[data-workflow-action-name=approve]").first.click()
    expect(editor_page.locator(".messages")).to_contain_text("has been updated")
    editor_page.context.close()

    approved = PatentListingPage.objects.get(pk=listing.pk)
    assert approved.summary == summary and approved.current_workflow_state is None
    anonymous = chromium.new_context(locale="en-US", extra_http_headers={"Accept-Language": "en-US"}).new_page()
    for each in (approved, PatentListingPage.objects.get(alias_of=approved)):
        anonymous.goto(f"{site.url}{each.url}")
        expect(anonymous.locator("p.listing-summary")).to_have_text(summary)
    anonymous.context.close()
