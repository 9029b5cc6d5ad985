"""One money format per language and one royalty phrase, defined once (marketplace/parties/money.py, with the
template filters in marketplace.templatetags.market_format) and used by every page, notice and record that shows
an amount or a rate: '¥20,000.00' / '20,000.00 元', '10% of profit' / '利润的 10%' (issue 20, defect 9)."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone, translation

from licensing.models import FeeForm, RoyaltyBase
from marketplace.listings import services as listings
from marketplace.models import PatentListingPage
from marketplace.parties.models import MembershipRole
from marketplace.templatetags.market_format import money_text, rate_text, royalty_text
from tests.licensing.factories import DeclarationFactory, LicenceFactory, PaymentFactory, eligible_patent, holder_admin
from tests.parties.factories import HolderFactory, IPOfficeFactory, OrganisationFactory, member

# Money that escaped the one format: '¥20000', '¥10,000' (no decimals), '20000.00 元' (not grouped).
STRAY_MONEY = re.compile(r"¥\d+(?![\d,]*\.\d\d)|¥\d{4,}|\b\d{4,}\.\d\d\s?元|\d+\.\d\d% ")


def render(source, language, **context):
    with translation.override(language):
        return Template("{% load market_format %}" + source).render(Context(context))


@pytest.mark.parametrize(("language", "shown"), [("en", "¥20,000.00"), ("zh-hans", "20,000.00 元")])
def test_an_amount_is_written_one_way_per_language(language, shown):
    assert render("{{ amount|fen }}", language, amount=2_000_000) == shown
    assert render("{{ amount|yuan }}", language, amount=20_000) == shown
    with translation.override(language):
        assert money_text(2_000_000) == shown


def test_large_small_negative_and_missing_amounts():
    with translation.override("zh-hans"):
        assert money_text(123_456_789_012) == "1,234,567,890.12 元"
        assert money_text(5) == "0.05 元"
        assert money_text(-150) == "-1.50 元"
        assert money_text(None) == ""
    with translation.override("en"):
        assert money_text(-150) == "-¥1.50"
        assert money_text(100, "USD") == "USD 1.00"


def test_a_rate_drops_trailing_zeros():
    assert rate_text(Decimal("10.00")) == "10%"
    assert rate_text(Decimal("2.50")) == "2.5%"
    assert rate_text("0.75") == "0.75%"


@pytest.mark.parametrize(
    ("language", "base", "shown"),
    [
        ("en", RoyaltyBase.PROFIT, "10% of profit"),
        ("zh-hans", RoyaltyBase.PROFIT, "利润的 10%"),
        ("en", RoyaltyBase.NET_SALES, "10% of net sales"),
    ],
)
def test_a_royalty_reads_as_one_phrase_of_the_language(language, base, shown):
    with translation.override(language):
        label = RoyaltyBase(base).label
        assert royalty_text(Decimal("10.00"), label).lower() == shown.lower()
        assert render("{{ rate|royalty_of:base }}", language, rate=Decimal("10.00"), base=label).lower() == shown.lower()


def test_the_statistics_figures_use_the_one_format():
    assert render('{{ figures|figure:"fee_volume_fen" }}', "zh-hans", figures={"fee_volume_fen": 3_000_000}) == ("30,000.00 元")
    assert render('{{ figures|figure:"fee_volume_fen" }}', "en", figures={"fee_volume_fen": 3_000_000}) == ("¥30,000.00")


@pytest.fixture
def royalty_listing(demo_pages):
    holder = HolderFactory()
    declaration = DeclarationFactory(
        patent=eligible_patent(holder=holder, title="一种锂电池管理方法"),
        holder=holder,
        fee_form=FeeForm.ENTRY_PLUS_ROYALTY,
        lump_sum_fen=None,
        entry_fee_fen=2_000_000,
        royalty_rate=Decimal("10.00"),
        royalty_base=RoyaltyBase.PROFIT,
        annual_minimum_fen=1_000_000,
    )
    return listings.declaration_file(declaration=declaration, by=holder_admin(holder))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "entry", "royalty"),
    [
        ("zh-hans", "20,000.00 元", "利润的 10%"),
        ("en", "¥20,000.00", "10% of profit"),
    ],
)
def test_the_listing_and_the_search_write_money_and_the_royalty_in_the_one_format(
    client, royalty_listing, language, entry, royalty
):
    listing = PatentListingPage.objects.get(declaration=royalty_listing, locale__language_code=language)
    page = client.get(listing.url).content.decode()
    assert f"{entry} + {royalty}" in page
    search = client.get(f"/{language}/search/").content.decode()
    assert entry in search  # the first amount due
    for body in (page, search):
        assert not STRAY_MONEY.search(re.sub(r"<[^>]+>", " ", body)), STRAY_MONEY.search(body)


def test_a_payments_name_in_the_audit_log_uses_the_one_format_of_the_page_that_records_it():
    from licensing.models.licences import Payment

    payment = Payment(pk=7, amount_fen=2_000_000)
    with translation.override("zh-hans"):
        assert str(payment) == "#7 20,000.00 元"
    with translation.override("en"):
        assert str(payment) == "#7 ¥20,000.00"


def _text(body: str) -> str:
    main = body.split("<main", 1)[1].split("</main>", 1)[0]  # the page's own text, not the menu
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main))


@pytest.mark.django_db
@pytest.mark.parametrize(("language", "paid", "foreign"), [("zh-hans", "20,000.00 元", "¥"), ("en", "¥20,000.00", "元")])
def test_the_licence_and_the_statistics_write_money_in_the_one_format(client, royalty_listing, language, paid,
                                                                       foreign):
    licence = LicenceFactory(declaration=royalty_listing, active=True, licensee=OrganisationFactory())
    PaymentFactory(licence=licence, paid=True, due_on=timezone.localdate() - timedelta(days=1))
    with translation.override(language):
        licence_url, statistics_url = reverse("licence_detail", args=[licence.pk]), reverse("office_statistics")
    client.force_login(holder_admin(royalty_listing.holder))
    licence_page = _text(client.get(licence_url).content.decode())
    client.force_login(member(IPOfficeFactory(), MembershipRole.ADMIN))
    statistics_page = _text(client.get(statistics_url).content.decode())
    for text in (licence_page, statistics_page):
        assert paid in text  # the entry fee, paid: on the licence, and as the fee volume of the statistics
        assert not STRAY_MONEY.search(text), STRAY_MONEY.search(text)
        assert foreign not in text
