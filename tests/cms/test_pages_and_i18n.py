import re

import pytest
from django.core.management import call_command
from django.template import Context, Template
from django.utils import translation

from cms.models import ContentPage, HomePage
from marketplace.models import ListingIndexPage, PatentListingPage
from marketplace.parties.models import Organisation, User
from tests.worlds import module_world

pytestmark = pytest.mark.django_db


def test_root_redirects_a_chinese_browser_to_chinese(client, demo_pages):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")
    assert response.status_code == 302 and response["Location"] == "/zh-hans/"


def test_root_redirects_an_english_browser_to_english(client, demo_pages):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.8")
    assert response["Location"] == "/en/"


def test_home_page_renders_in_both_languages(client, demo_pages):
    zh = client.get("/zh-hans/").content.decode()
    en = client.get("/en/").content.decode()
    assert "专利开放许可，一站完成" in zh and 'lang="zh-hans"' in zh
    assert "Open patent licensing, end to end" in en and 'lang="en"' in en
    # UI strings are translated, not only the page content.
    assert "登录" in zh and "Log in" in en


def test_guide_page_exists_in_both_languages(client, demo_pages):
    assert "开放许可制度说明" in client.get("/zh-hans/open-licensing/").content.decode()
    assert "How open licensing works" in client.get("/en/open-licensing/").content.decode()


def test_language_switcher_keeps_the_page(client, demo_pages):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/zh-hans/open-licensing/"})
    assert response.status_code == 302 and response["Location"] == "/en/open-licensing/"


def test_content_pages_only_live_under_the_home_page():
    assert ContentPage.parent_page_types == ["cms.HomePage", "cms.ContentPage"]
    # cms names no marketplace page: the listing index says it lives under the home page.
    assert set(HomePage.creatable_subpage_models()) == {ContentPage, ListingIndexPage}
    assert ListingIndexPage.parent_page_types == ["cms.HomePage"]
    assert PatentListingPage.parent_page_types == ["marketplace.ListingIndexPage"] and PatentListingPage.subpage_types == []


def test_every_block_has_a_template_icon_and_preview():
    from cms.blocks import BaseStreamBlock

    for name, block in BaseStreamBlock().child_blocks.items():
        assert block.meta.template, name
        assert block.meta.icon, name
        assert block.meta.preview_value is not None, name


def test_money_is_formatted_from_fen_per_language():
    template = Template("{% load market_format %}{{ amount|fen }}")
    with translation.override("en"):
        assert template.render(Context({"amount": 123456789})) == "¥1,234,567.89"
    with translation.override("zh-hans"):
        assert template.render(Context({"amount": 5})) == "0.05 元"


@pytest.fixture(scope="module")
def _demo_world(django_db_setup, django_db_blocker):
    with module_world(django_db_blocker):
        call_command("seed_demo", verbosity=0)
        yield


@pytest.fixture
def seeded_demo(_demo_world, db):
    """The demo as `seed_demo` makes it, seeded once for the module (tests.worlds): each test here used to seed
    it again, the costliest part of the module."""


def test_seed_demo_is_idempotent_and_its_logins_work(seeded_demo, client):
    # The module's world is a first run of seed_demo; this is the second.
    counts = (User.objects.count(), Organisation.objects.count(), HomePage.objects.count())
    call_command("seed_demo", verbosity=0)
    assert (User.objects.count(), Organisation.objects.count(), HomePage.objects.count()) == counts
    assert set(Organisation.objects.values_list("slug", flat=True)) >= {
        "demo-university", "demo-institute", "demo-company", "demo-startup", "demo-ip-office"}
    for email in ["holder@demo.test", "licensee@demo.test", "startup@demo.test", "ipoffice@demo.test",
                  "editor@demo.test"]:
        assert client.login(email=email, password="demo-pass-2026"), email


def test_the_demo_editor_can_open_the_wagtail_admin(seeded_demo, client):
    client.login(email="editor@demo.test", password="demo-pass-2026")
    assert client.get("/admin/").status_code == 200


def test_a_licensee_cannot_open_the_wagtail_admin(seeded_demo, client):
    client.login(email="licensee@demo.test", password="demo-pass-2026")
    assert client.get("/admin/").status_code == 302


def test_the_demo_listings_show_each_language_its_own_titles(seeded_demo, client):
    from patents.models import Patent

    han = re.compile(r"[\u4e00-\u9fff]")
    patents = Patent.objects.filter(holder__slug__in=["demo-university", "demo-institute"])
    assert patents.exists() and not patents.filter(title_en="").exists()
    assert all(han.search(title) and not han.search(english) for title, english in patents.values_list("title", "title_en"))
    for language, heading, in_language in (("zh-hans", "专利许可清单", bool), ("en", "Patent listings", lambda m: not m)):
        body = client.get(f"/{language}/listings/").content.decode()
        assert f"<h1>{heading}</h1>" in body, language
        titles = re.findall(r'<li><a href="/[^"]+">([^<]+)</a> <code>', body)
        assert titles and all(in_language(han.search(t)) for t in titles), (language, titles)
    # The holders' English names too, where they gave one (the demo's holders all did).
    rows = client.get("/en/listings/").content.decode().split('<ul class="listings">')[1].split("</ul>")[0]
    assert not han.search(rows), han.search(rows)
