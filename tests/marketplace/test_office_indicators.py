"""The indicators an IP office reports (issue 19) on a small market whose every figure is computed by hand
below, on SQLite and PostgreSQL.

Period: April 2026 (Asia/Shanghai), as of 1 August 2026. Home province (PLATFORM_HOME_REGION): 广东省.

Holders:  U university 广东省 · I institute 北京市 · E enterprise 江苏省 (not in the league table)
Licensees: A enterprise 广东省 small · B enterprise 浙江省 medium · C enterprise 广东 (written without 省), no size

Patents (kind, grade):
    P1 U invention A · P2 U utility model B · P5 U invention computed A, holder's grade D · P7 U invention B
    P3 I design C · P6 I invention A · P4 E invention B

Declarations (filed at CNIPA 10:00; announced by CNIPA on a date):
    D1 P1 lump sum 0 (free)             04-02, announced 05-02 (its licences of April rest on the platform's terms)
    D2 P2 royalty 5 %, nothing up front  04-05, announced 04-08
    D7 P7 lump sum 1000.00               04-20, withdrawn 04-29 "STRATEGY CHANGE"
    D3 P3 lump sum 20 000.00             04-10, announced 04-10, withdrawn 04-25 "  专利转让 "
    D4 P4 entry fee 1000.00 + 2 %         03-15, withdrawn 04-20 "专利转让"
    D6 P6 lump sum 1000.00               02-01, withdrawn 04-28 "Strategy change"

Licences (activated 10:00; the term starts that day):
    L5 D4 → C  03-20 (before April) entry fee paid 03-20
    L1 D1 → A  04-03 free, recorded 04-20
    L6 D4 → A  04-08 notice 04-06, entry fee 1000.00 = voucher 400.00 + card 600.00, card refunded in full
                     (the voucher is given back): nothing of it stays paid
    L4 D3 → B  04-11 notice 04-10, 20 000.00 = voucher 5000.00 + card 15 000.00, paid 04-11, statutory,
                     recorded 07-01
    L2 D1 → B  04-12 free
    L3 D2 → A  04-15 royalty, nothing up front (not free), statutory, recorded 08-15 (after the as-of date)

Vouchers: V1 → B issued 04-02 10 000.00, expires 12-31, 5000.00 spent (L4); V2 → A issued 03-10 3000.00, expires
04-30, its 400.00 given back by the refund: lapses in April with 3000.00; V3 → C issued 04-20 2000.00, expires
05-31: lapses in May with 2000.00.

April, by hand:
    declarations published 4 (D1 D2 D3 D7); withdrawn 4 (D3 D4 D6 D7); open at the end 2 (D1 D2)
    licences concluded 5 (L1 L2 L3 L4 L6); free 2 (L1 L2: lump sum 0); paid up front 2 (L4 L6); free share 0.4
    fee volume 15 000.00 + 5000.00 (L4) + 0 (L6) = 20 000.00 → 2 000 000 fen; vouchers paid 500 000 fen: share 0.25
    deal rate, concluded on the platform: D1 D2 D3 of 4 = 0.75; recorded at CNIPA by 08-01: D1 D3 = 0.5
    announced by CNIPA in April: D2 D3; with a statutory licence: both = 1.0; recorded by 08-01: D3 = 0.5;
    statutory licences concluded 2 (L3 L4)
    quick (90 days): the same three (1, 10 and 1 days) = 0.75; median 1.0; p90 1 + 0.8 × 9 = 8.2
    notice → payment: L6 2 days, L4 1 day: median 1.5
    recording: all five due by 08-01 (07-03 … 07-15); L1 and L4 in time: 0.4
    licensed patents 4 (P1 P2 P3 P4); two or more licensees: P1 (A, B) and P4 (C in March, A): 0.5;
    licences per licensed patent 5 / 4 = 1.25
    vouchers issued 2 (V1 V3) 1 200 000 fen; lapsed 1 (V2) 300 000 fen
"""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from licensing.models import DeclarationState, FeeForm, RoyaltyBase
from licensing.models.licences import Licence, LicenceBasis, LicenceState, Payment, Voucher
from marketplace.office import statistics
from marketplace.parties.models import OrganisationKind, OrganisationSize
from patents.models import PatentKind
from tests.licensing.factories import (
    DeclarationFactory,
    LicenceFactory,
    PaymentFactory,
    VoucherFactory,
    eligible_patent,
)
from tests.parties.factories import OrganisationFactory

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
AS_OF = datetime(2026, 8, 1, 12, 0, tzinfo=SH)
APRIL = statistics.Period.month(2026, 4)


def at(month, day, hour=10):
    return datetime(2026, month, day, hour, 0, tzinfo=SH)


def holder(kind, province, name, name_en):
    return OrganisationFactory(kind=kind, province=province, name_zh=name, name_en=name_en, is_holder=True,
                               is_licensee=False)


def licensee(province, size, name):
    return OrganisationFactory(kind=OrganisationKind.ENTERPRISE, province=province, size=size, name_zh=name,
                               is_holder=False, is_licensee=True)


def patent(owner, kind, grade, **extra):
    return eligible_patent(holder=owner, kind=kind, grade_computed=grade, **extra)


def declaration(p, *, published, announced=None, withdrawn=None, reason="", **offer):
    """Filed at CNIPA at ``published``; announced by CNIPA on ``announced`` (a date); withdrawn (the withdrawal
    filed and announced) at ``withdrawn``."""
    d = DeclarationFactory(patent=p, holder=p.holder, state=DeclarationState.FILED, **offer)
    state = DeclarationState.WITHDRAWN if withdrawn else (DeclarationState.ANNOUNCED if announced
                                                          else DeclarationState.FILED)
    type(d).objects.filter(pk=d.pk).update(
        filed_at=published, announced_on=announced, cnipa_number=f"KFXK2026{d.pk:06d}" if announced else None,
        withdrawal_filed_at=withdrawn, withdrawn_at=withdrawn, withdrawal_reason=reason, state=state)
    d.refresh_from_db()
    return d


def licence(d, taker, *, active, notice=None, recorded=None):
    """Taken on the statutory basis when the declaration was announced by the notice, else on the platform's."""
    notice = notice or active
    statutory = d.announced_on is not None and d.announced_on <= notice.date()
    return LicenceFactory(
        declaration=d, licensee=taker, state=LicenceState.ACTIVE, notice_submitted_at=notice,
        basis=LicenceBasis.STATUTORY if statutory else LicenceBasis.PLATFORM,
        starts_on=active.date(), activated_at=active, recorded_on=recorded,
        recording_number="2026990000777" if recorded else "")


def paid(made, *, on, voucher=None, voucher_fen=0, refunded_fen=None):
    """The licence's first amount, paid on ``on``: partly by ``voucher``; refunded in full (card part) when
    ``refunded_fen`` is given, which gives the voucher part back as payment_refund does."""
    amount = made.first_amount_fen
    state = Payment.State.REFUNDED if refunded_fen else Payment.State.SUCCEEDED
    payment = PaymentFactory(licence=made, amount_fen=amount, voucher_fen=voucher_fen, charge_fen=amount - voucher_fen,
                             refunded_fen=refunded_fen or 0, state=state, succeeded_at=on, due_on=None)
    if voucher is not None and not refunded_fen:
        Voucher.objects.filter(pk=voucher.pk).update(balance_fen=voucher.balance_fen - voucher_fen)
    return payment


def voucher(owner, *, issued, amount_fen, expires_on):
    v = VoucherFactory(organisation=owner, amount_fen=amount_fen, expires_on=expires_on)
    Voucher.objects.filter(pk=v.pk).update(issued_at=issued)
    v.refresh_from_db()
    return v


def build_april_market(settings) -> dict:
    settings.PLATFORM_HOME_REGION = "广东省"
    u = holder(OrganisationKind.UNIVERSITY, "广东省", "华南测试大学", "South China Test University")
    i = holder(OrganisationKind.INSTITUTE, "北京市", "北方测试研究院", "Northern Test Institute")
    e = holder(OrganisationKind.ENTERPRISE, "江苏省", "江苏测试有限公司", "Jiangsu Test Co., Ltd.")
    a = licensee("广东省", OrganisationSize.SMALL, "甲公司")
    b = licensee("浙江省", OrganisationSize.MEDIUM, "乙公司")
    c = licensee("广东", "", "丙公司")
    p1 = patent(u, PatentKind.INVENTION, "A")
    p2 = patent(u, PatentKind.UTILITY_MODEL, "B")
    patent(u, PatentKind.INVENTION, "A", grade_override="D", grade_override_reason="市场前景有限")  # P5
    p7 = patent(u, PatentKind.INVENTION, "B")
    p3 = patent(i, PatentKind.DESIGN, "C", main_ipc="", technology_field=None)
    p6 = patent(i, PatentKind.INVENTION, "A")
    p4 = patent(e, PatentKind.INVENTION, "B")
    d1 = declaration(p1, published=at(4, 2), announced=date(2026, 5, 2), lump_sum_fen=0)
    d2 = declaration(p2, published=at(4, 5), announced=date(2026, 4, 8), fee_form=FeeForm.ROYALTY, lump_sum_fen=None,
                     royalty_base=RoyaltyBase.NET_SALES, royalty_rate="5.00", annual_minimum_fen=None)
    declaration(p7, published=at(4, 20), withdrawn=at(4, 29), reason="STRATEGY CHANGE", lump_sum_fen=100_000)
    d3 = declaration(p3, published=at(4, 10), announced=date(2026, 4, 10), withdrawn=at(4, 25), reason="  专利转让 ",
                     lump_sum_fen=2_000_000)
    d4 = declaration(p4, published=at(3, 15), withdrawn=at(4, 20), reason="专利转让",
                     fee_form=FeeForm.ENTRY_PLUS_ROYALTY, lump_sum_fen=None, entry_fee_fen=100_000,
                     royalty_base=RoyaltyBase.NET_SALES, royalty_rate="2.00")
    declaration(p6, published=at(2, 1), withdrawn=at(4, 28), reason="Strategy change", lump_sum_fen=100_000)
    v1 = voucher(b, issued=at(4, 2), amount_fen=1_000_000, expires_on=date(2026, 12, 31))
    v2 = voucher(a, issued=at(3, 10), amount_fen=300_000, expires_on=date(2026, 4, 30))
    voucher(c, issued=at(4, 20), amount_fen=200_000, expires_on=date(2026, 5, 31))
    paid(licence(d4, c, active=at(3, 20)), on=at(3, 20))
    licence(d1, a, active=at(4, 3), recorded=date(2026, 4, 20))
    paid(licence(d4, a, active=at(4, 8), notice=at(4, 6)), on=at(4, 8), voucher=v2, voucher_fen=40_000,
         refunded_fen=60_000)
    paid(licence(d3, b, active=at(4, 11), notice=at(4, 10), recorded=date(2026, 7, 1)), on=at(4, 11), voucher=v1,
         voucher_fen=500_000)
    licence(d1, b, active=at(4, 12))
    licence(d2, a, active=at(4, 15), recorded=date(2026, 8, 15))
    return {"u": u, "i": i, "e": e, "a": a, "b": b, "c": c}


@pytest.fixture
def market(settings):
    return build_april_market(settings)


def _board():
    frames = statistics.Frames.load(period=APRIL)
    return frames, statistics.indicators(frames, APRIL, as_of=AS_OF, n_days=90)


def test_every_new_indicator_of_april_matches_the_hand_computed_value(market):
    _frames, figures = _board()
    expected = {
        "declarations_published": 4, "declarations_withdrawn": 4, "patents_under_open_licence": 2,
        "licences_concluded": 5, "licences_free": 2, "licences_paid": 2, "free_licence_share": 0.4,
        "fee_volume_fen": 2_000_000, "voucher_paid_fen": 500_000, "voucher_share_of_fee_volume": 0.25,
        "overall_conversion": 0.75, "deal_rate_recorded": 0.5, "quick_licence_deal_rate": 0.75,
        "declarations_announced": 2, "deal_rate_announced": 1.0, "deal_rate_announced_recorded": 0.5,
        "licences_statutory": 2,
        "median_days_to_first_licence": 1.0, "p90_days_to_first_licence": 8.2,
        "median_days_notice_to_payment": 1.5, "recording_compliance": 0.4,
        "licensed_patents": 4, "multi_licensee_share": 0.5, "licences_per_licensed_patent": 1.25,
    }
    assert {k: figures[k] for k in expected} == expected
    # Read without a period (every row), the figures are the same.
    assert {k: statistics.indicators(statistics.Frames.load(), APRIL, as_of=AS_OF, n_days=90)[k]
            for k in expected} == expected


def test_free_means_no_fee_of_any_kind(settings):
    """Four licences in May: a lump sum of 0 and a royalty of 0 % with nothing else are free; a royalty with
    nothing up front is not, nor is a zero-rate royalty with an annual minimum. Free share 2 / 4 = 0.5; nothing
    was paid up front."""
    taker = OrganisationFactory()
    offers = [
        {"lump_sum_fen": 0},
        {"fee_form": FeeForm.ROYALTY, "lump_sum_fen": None, "royalty_base": RoyaltyBase.NET_SALES, "royalty_rate": "0"},
        {"fee_form": FeeForm.ROYALTY, "lump_sum_fen": None, "royalty_base": RoyaltyBase.NET_SALES,
         "royalty_rate": "3.00"},
        {"fee_form": FeeForm.ENTRY_PLUS_ROYALTY, "lump_sum_fen": None, "entry_fee_fen": 0, "royalty_rate": "0",
         "royalty_base": RoyaltyBase.PROFIT, "annual_minimum_fen": 10_000},
    ]
    for day, offer in enumerate(offers, start=1):
        d = declaration(eligible_patent(), published=at(5, day), **offer)
        licence(d, taker, active=at(5, day + 1))
    assert [lic.first_amount_fen for lic in Licence.objects.order_by("pk")] == [0, 0, 0, 0]
    figures = statistics.indicators(statistics.Frames.load(), statistics.Period.month(2026, 5), as_of=AS_OF)
    assert (figures["licences_concluded"], figures["licences_free"], figures["licences_paid"]) == (4, 2, 0)
    assert figures["free_licence_share"] == 0.5


def test_breakdowns_by_patent_kind_and_by_the_licensees_size_region_and_locality(market):
    frames, _figures = _board()

    def by(dimension):
        return {r["value"]: r for r in statistics.breakdown(frames, APRIL, dimension, as_of=AS_OF, n_days=90)}

    kind = by("patent_kind")
    # invention: D1 D7 published, D1 licensed; L1 L2 L6 on P1 and P4, both with two licensees.
    assert (kind["invention"]["declarations_published"], kind["invention"]["overall_conversion"]) == (2, 0.5)
    assert (kind["invention"]["licences_concluded"], kind["invention"]["licences_free"]) == (3, 2)
    assert kind["invention"]["multi_licensee_share"] == 1.0 and kind["invention"]["fee_volume_fen"] == 0
    assert (kind["utility_model"]["licences_concluded"], kind["utility_model"]["multi_licensee_share"]) == (1, 0.0)
    assert kind["design"]["fee_volume_fen"] == 2_000_000 and kind["design"]["voucher_share_of_fee_volume"] == 0.25
    size = by("licensee_size")
    # A (small): L1 L3 L6 on P1 P2 P4, of which P1 and P4 have two licensees; B (medium): L2 L4 on P1 P3.
    assert set(size) == {"small", "medium"}  # C took its licence in March
    assert (size["small"]["licences_concluded"], size["small"]["licences_free"], size["small"]["fee_volume_fen"]) \
        == (3, 1, 0)
    assert size["small"]["multi_licensee_share"] == 0.6667
    assert (size["medium"]["licences_concluded"], size["medium"]["fee_volume_fen"],
            size["medium"]["voucher_paid_fen"], size["medium"]["multi_licensee_share"]) == (2, 2_000_000, 500_000, 0.5)
    # A declaration has no licensee: it is not split by the licensee's dimensions.
    assert size["small"]["declarations_published"] == 0 and size["small"]["overall_conversion"] is None
    region = by("licensee_region")
    assert {v: r["licences_concluded"] for v, r in region.items()} == {"广东省": 3, "浙江省": 2}
    basis = by("basis")  # the basis each licence rests on: L3 L4 statutory, L1 L2 L6 on the platform's terms
    assert {v: r["licences_concluded"] for v, r in basis.items()} == {"statutory": 2, "platform": 3}
    local = by("licensee_locality")
    assert {v: r["licences_concluded"] for v, r in local.items()} == {"local": 3, "out_of_province": 2}
    assert local["out_of_province"]["fee_volume_fen"] == 2_000_000


def test_the_region_flows_and_the_league_table_of_universities_and_institutes(market):
    frames, _figures = _board()
    flows = statistics.flow_table(frames, APRIL)
    assert [(f["licensor_region"], f["licensee_region"], f["licensee_locality"], f["licences_concluded"],
             f["fee_volume_fen"]) for f in flows] == [
        ("广东省", "广东省", "local", 2, 0),
        ("北京市", "浙江省", "out_of_province", 1, 2_000_000),
        ("广东省", "浙江省", "out_of_province", 1, 0),
        ("江苏省", "广东省", "local", 1, 0),
    ]
    league = statistics.named(statistics.league_table(frames, APRIL, as_of=AS_OF))
    # U: D1 D2 D7 published, D1 D2 licensed (2/3); P1 P2 licensed by L1 L2 L3. I: D3 licensed by L4. E is no
    # university or institute.
    assert [(r["name_zh"], r["holder_kind"], r["declarations_published"], r["licensed_patents"],
             r["licences_concluded"], r["fee_volume_fen"], r["deal_rate"]) for r in league] == [
        ("华南测试大学", "university", 3, 2, 3, 0, 0.6667),
        ("北方测试研究院", "institute", 1, 1, 1, 2_000_000, 1.0),
    ]


def test_vouchers_withdrawal_reasons_and_the_inventory_funnel(market):
    months = statistics.voucher_months(statistics.Period.months(date(2026, 4, 1), date(2026, 5, 1)), as_of=AS_OF)
    assert months == {
        "2026-04": {"vouchers_issued": 2, "vouchers_issued_fen": 1_200_000, "vouchers_lapsed": 1,
                    "vouchers_lapsed_fen": 300_000},
        "2026-05": {"vouchers_issued": 0, "vouchers_issued_fen": 0, "vouchers_lapsed": 1,
                    "vouchers_lapsed_fen": 200_000},
    }
    # As of 15 May, V3 has not lapsed yet.
    may = statistics.voucher_months(statistics.Period.month(2026, 5), as_of=datetime(2026, 5, 15, tzinfo=SH))
    assert may["2026-05"]["vouchers_lapsed"] == 0
    reasons = statistics.withdrawal_reasons(APRIL)
    # Free text: grouped by the words trimmed and in lower case, one text of each group shown.
    assert reasons == [{"reason": "STRATEGY CHANGE", "withdrawals": 2}, {"reason": "专利转让", "withdrawals": 2}]
    funnel = statistics.named(statistics.inventory_funnel(as_of=AS_OF))
    stages = statistics.FUNNEL_STAGES
    assert [(row["name_zh"], *[row[s] for s in stages]) for row in funnel] == [
        # inventoried, graded A-B (P5's holder grade D counts), declared, announced by 08-01, licensed, recorded
        ("华南测试大学", 4, 3, 3, 2, 2, 1),
        ("北方测试研究院", 2, 1, 2, 1, 1, 1),
        ("江苏测试有限公司", 1, 1, 1, 0, 1, 0),
    ]
    assert statistics.funnel_totals(funnel) == {"inventoried": 7, "good_prospects": 5, "declared": 6, "announced": 3,
                                                "licensed": 4, "recorded": 2}


def test_a_published_snapshot_keeps_the_new_tables(market):
    snapshot, created = statistics.snapshot_month(year=2026, month=4, as_of=AS_OF, n_days=90)
    assert created and snapshot.indicators["free_licence_share"] == 0.4
    assert snapshot.indicators["vouchers_issued_fen"] == 1_200_000
    assert [r["licences_concluded"] for r in snapshot.breakdowns["league"]] == [3, 1]
    assert len(snapshot.breakdowns["flows"]) == 4 and snapshot.breakdowns["withdrawal_reasons"][0]["withdrawals"] == 2
    assert {r["value"] for r in snapshot.breakdowns["licensee_size"]} == {"small", "medium"}
    assert statistics.funnel_totals(snapshot.breakdowns["funnel"])["inventoried"] == 7


# ------------------------------------------------------------------------------------- the page and its exports

APRIL_QUERY = {"first": "2026-04", "last": "2026-04"}


@pytest.fixture
def officer(client):
    from tests.parties.factories import IPOfficeFactory, MembershipFactory

    client.force_login(MembershipFactory(organisation=IPOfficeFactory()).user)
    return client


def _get(client, **params):
    from django.urls import reverse
    from django.utils import translation

    with translation.override("en"):
        return client.get(reverse("office_statistics"), params)


def _cell(body: str, table: str, key: str, row: str = "") -> str:
    part = body.split(f'id="{table}"')[1]
    if row:
        part = part.split(row)[1]
    return part.split(f'data-figure="{key}">')[1].split("</td>")[0]


def test_the_dashboard_shows_the_new_indicators_and_tables(officer, market):
    body = _get(officer, **APRIL_QUERY).content.decode()
    # The page is as of today: L3's recording of 08-15 counts too (D1, D2 and D3 of 4 recorded).
    for key, shown in [("licences_free", "2"), ("free_licence_share", "40.0%"), ("fee_volume_fen", "¥20,000.00"),
                       ("voucher_paid_fen", "¥5,000.00"), ("voucher_share_of_fee_volume", "25.0%"),
                       ("overall_conversion", "75.0%"), ("deal_rate_recorded", "75.0%"),
                       ("deal_rate_announced_recorded", "100.0%"),
                       ("multi_licensee_share", "50.0%"), ("vouchers_issued_fen", "¥12,000.00"),
                       ("vouchers_lapsed_fen", "¥3,000.00")]:
        assert _cell(body, "figures", key) == shown, key
    league = body.split('id="league"')[1].split("</table>")[0]
    assert league.index("South China Test University") < league.index("Northern Test Institute")
    assert _cell(body, "league", "deal_rate", f'data-holder="{market["u"].pk}"') == "66.7%"
    assert _cell(body, "flows", "fee_volume_fen", 'data-flow="北京市→浙江省"') == "¥20,000.00"
    assert _cell(body, "flows", "licensee_locality", 'data-flow="江苏省→广东省"') == "Local (广东省)"
    assert "STRATEGY CHANGE" in body.split('id="withdrawals"')[1]
    assert _cell(body, "funnel", "good_prospects", 'data-holder="all"') == "5"
    assert _cell(body, "funnel", "announced", 'data-holder="all"') == "3"
    # A breakdown by the licensee's size: rows are not links to declarations (a declaration has no licensee).
    sized = _get(officer, **APRIL_QUERY, by="licensee_size").content.decode()
    assert 'data-value="small"' in sized and "Small enterprise" in sized.split('id="breakdown"')[1]
    # Narrowed, the market-wide voucher figures are not shown as if they were the narrowed ones.
    narrowed = _get(officer, **APRIL_QUERY, patent_kind="design").content.decode()
    assert _cell(narrowed, "figures", "vouchers_issued") == "—"
    assert _cell(narrowed, "figures", "declarations_published") == "1"


def test_every_new_table_exports_and_money_is_in_yuan_named_so(officer, market):
    import csv
    import io

    import openpyxl

    def table(name):
        response = _get(officer, **APRIL_QUERY, export="csv", table=name)
        assert response.status_code == 200
        return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))

    figures = {row["indicator"]: row["value"] for row in table("figures")}
    assert figures["fee_volume_yuan"] == "20000.00" and figures["voucher_paid_yuan"] == "5000.00"
    assert figures["vouchers_lapsed_yuan"] == "3000.00" and figures["free_licence_share"] == "0.4"
    # No column or indicator of any table is named in fen while holding yuan: every money name is *_yuan.
    for name in ("figures", "breakdown", "trend", "league", "flows", "funnel", "withdrawals"):
        rows = table(name)
        names = set(rows[0]) | {row.get("indicator", "") for row in rows}
        assert not {n for n in names if n.endswith("_fen")}, name
    league = table("league")
    assert [(r["holder"], r["holder_en"], r["fee_volume_yuan"], r["deal_rate"]) for r in league] == [
        ("华南测试大学", "South China Test University", "0.00", "0.6667"),
        ("北方测试研究院", "Northern Test Institute", "20000.00", "1.0")]
    flows = table("flows")
    assert flows[1] == {"licensor_region": "北京市", "licensee_region": "浙江省", "licensee_locality": "out_of_province",
                        "licences_concluded": "1", "fee_volume_yuan": "20000.00"}
    assert [r["holder"] for r in table("funnel")] == ["华南测试大学", "北方测试研究院", "江苏测试有限公司"]
    assert table("withdrawals") == [{"reason": "STRATEGY CHANGE", "withdrawals": "2"},
                                    {"reason": "专利转让", "withdrawals": "2"}]
    workbook = openpyxl.load_workbook(io.BytesIO(_get(officer, **APRIL_QUERY, export="xlsx").content))
    values = {row[0]: row[2] for row in workbook["figures"].iter_rows(min_row=2, values_only=True)}
    assert values["fee_volume_yuan"] == 20000 and values["voucher_paid_yuan"] == 5000  # numbers, in yuan
    header = [cell.value for cell in workbook["breakdown"][1]]
    assert "fee_volume_yuan" in header and "fee_volume_fen" not in header


def test_a_voucher_issued_through_the_service_is_seen_by_the_next_request(officer, market):
    from django.utils import timezone

    from licensing.vouchers.services import voucher_issue
    from tests.parties.factories import IPOfficeFactory, MembershipFactory

    this_month = {"first": f"{timezone.localdate():%Y-%m}", "last": f"{timezone.localdate():%Y-%m}"}
    before = int(_cell(_get(officer, **this_month).content.decode(), "figures", "vouchers_issued"))
    assert int(_cell(_get(officer, **this_month).content.decode(), "figures", "vouchers_issued")) == before
    voucher_issue(organisation=market["a"], amount_fen=10_000, expires_on=timezone.localdate(),
                  eligible_uses=["licence_fees"], by=MembershipFactory(organisation=IPOfficeFactory()).user)
    assert int(_cell(_get(officer, **this_month).content.decode(), "figures", "vouchers_issued")) == before + 1


def test_the_annual_fee_reduction_granted_in_the_period(officer):
    """An invention filed 2021-04-20 (granted 2023): its 6th annual fee, RMB 1,200, falls due on 2026-04-20. A
    statutory licence recorded on 2026-04-10 is in force then, so 15 % is granted: RMB 180 (18 000 fen) in April;
    nothing in March. The holder has no small-entity reduction (the two are never combined)."""
    from datetime import date as day

    from marketplace.office import selectors

    owner = holder(OrganisationKind.UNIVERSITY, "广东省", "费减测试大学", "Fee Test University")
    p = patent(owner, PatentKind.INVENTION, "A", filing_date=day(2021, 4, 20), grant_date=day(2023, 6, 20))
    d = declaration(p, published=at(3, 1), announced=date(2026, 3, 20))
    licence(d, licensee("广东省", OrganisationSize.SMALL, "丁公司"), active=at(4, 5), recorded=date(2026, 4, 10))
    april = statistics.fee_reduction_granted(APRIL, as_of=AS_OF)
    assert april == {"fee_reduction_granted_fen": 18_000, "fee_reduction_patents": 1}
    assert statistics.fee_reduction_granted(statistics.Period.month(2026, 3), as_of=AS_OF)[
        "fee_reduction_granted_fen"] == 0
    from django.http import QueryDict

    board = selectors.dashboard(params=QueryDict("first=2026-04&last=2026-04"), as_of=AS_OF)
    assert board.figures["fee_reduction_granted_fen"] == 18_000
    assert _cell(_get(officer, **APRIL_QUERY).content.decode(), "figures", "fee_reduction_granted_fen") == "¥180.00"
