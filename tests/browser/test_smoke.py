import re

from marketplace.parties.models import Membership, MembershipRole
from tests.parties.factories import make_uscc


def test_home_page_renders_in_chinese_for_a_chinese_browser(site, page):
    page.goto(site.url + "/")
    assert page.url.endswith("/zh-hans/")
    assert page.locator("h1").inner_text() == "专利开放许可，一站完成"
    assert page.locator("html").get_attribute("lang") == "zh-hans"


def test_home_page_renders_in_english_for_an_english_browser(site, page_en):
    page_en.goto(site.url + "/")
    assert page_en.url.endswith("/en/")
    assert page_en.locator("h1").inner_text() == "Open patent licensing, end to end"


def test_language_switcher_changes_the_language_of_the_same_page(site, page):
    page.goto(site.url + "/zh-hans/open-licensing/")
    page.select_option("#language-select", "en")
    page.wait_for_url(re.compile(r"/en/open-licensing/$"))
    assert page.locator("h1").inner_text() == "How open licensing works"


def test_sign_up_then_log_out_then_log_in_lands_on_the_dashboard(site, page_en):
    page = page_en
    page.goto(site.url + "/en/accounts/signup/")
    page.fill("#id_email", "cto@browser-test.cn")
    page.fill("#id_password1", "a-very-long-browser-pass-1")
    page.fill("#id_password2", "a-very-long-browser-pass-1")
    page.select_option("#id_kind", "enterprise")
    page.fill("#id_name_zh", "浏览器测试有限公司")
    page.fill("#id_name_en", "Browser Test Ltd")
    page.fill("#id_uscc", make_uscc(777))
    page.fill("#id_province", "广东省")
    page.check("#id_is_licensee")
    page.click("button:has-text('Create account')")
    page.wait_for_url(re.compile(r"/en/dashboard/$"))
    assert "浏览器测试有限公司" in page.locator(".org-card").inner_text()
    assert Membership.objects.get(user__email="cto@browser-test.cn").role == MembershipRole.ADMIN

    page.click("button:has-text('Log out')")
    page.goto(site.url + "/en/accounts/login/")
    page.fill("#id_username", "cto@browser-test.cn")
    page.fill("#id_password", "a-very-long-browser-pass-1")
    page.click("form.stacked button[type=submit]")
    page.wait_for_url(re.compile(r"/en/dashboard/$"))
    assert page.locator("h1").inner_text() == "Dashboard"


def test_a_mistyped_credit_code_is_explained_on_the_sign_up_page(site, page):
    page.goto(site.url + "/zh-hans/accounts/signup/")
    page.fill("#id_email", "x@typo.cn")
    page.fill("#id_password1", "a-very-long-browser-pass-1")
    page.fill("#id_password2", "a-very-long-browser-pass-1")
    page.fill("#id_name_zh", "错码公司")
    code = make_uscc(778)
    page.fill("#id_uscc", code[:-1] + ("1" if code[-1] != "1" else "2"))
    page.fill("#id_province", "广东省")
    page.check("#id_is_licensee")
    page.click("form.stacked button[type=submit]")
    assert "校验码" in page.locator(".errorlist").first.inner_text()
