"""The dashboard's figures from the statistics facts (grouped SQL, marketplace.office.aggregates) are exactly the
figures of the pandas computation over the licensing tables (marketplace.office.statistics, the reference): on
the hand-computed markets of test_statistics.py and test_office_indicators.py, and on a random market with
every dimension, both licence bases, refunds, vouchers, withdrawals and re-declarations; and the facts follow
the changes the services make (the listeners)."""

import random
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.http import QueryDict

from licensing.models import Declaration, DeclarationState, FeeForm, RoyaltyBase
from licensing.models.licences import Licence, LicenceBasis, LicenceState, Payment
from marketplace.models import DeclarationFact, LicenceFact, PaymentFact
from marketplace.office import aggregates, facts, selectors, statistics
from marketplace.parties.models import OrganisationKind, OrganisationSize
from patents.models import PatentKind
from tests.licensing.factories import DeclarationFactory, LicenceFactory, PaymentFactory, eligible_patent
from tests.marketplace.test_office_indicators import build_april_market
from tests.marketplace.test_statistics import build_market
from tests.parties.factories import OrganisationFactory

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def _filters():
    return [{}, {"fee_form": "royalty"}, {"grade": "B", "region": "北京市"}]


def _declarations(filters):
    if not filters:
        return None
    params = QueryDict("", mutable=True)
    params.update({k: str(v) for k, v in filters.items()})
    return selectors.StatisticsFilter(params, queryset=Declaration.objects.filter(filed_at__isnull=False)).qs


def assert_same_figures(periods, as_ofs, n_days_list=(90,), filters_list=None):
    """Every indicator, breakdown, month of a trend, league row and flow, both ways."""
    facts.rebuild()
    for filters in filters_list or _filters():
        declarations = _declarations(filters)
        fact_rows = aggregates.Facts(filters)
        for period in periods:
            frames = statistics.Frames.load(period=period, declarations=declarations)
            for as_of in as_ofs:
                for n_days in n_days_list:
                    kwargs = {"as_of": as_of, "n_days": n_days}
                    where = (filters, period.label, as_of, n_days)
                    assert aggregates.figures(fact_rows, period, **kwargs) == statistics.indicators(
                        frames, period, **kwargs), where
                    # Every breakdown and month once per filter set and period (the as-of and N change counts).
                    first = (as_of, n_days) == (as_ofs[0], n_days_list[0])
                    dimensions = statistics.DIMENSIONS if first else ["technology_field", "licensee_locality"]
                    for dimension in dimensions:
                        assert aggregates.breakdown(fact_rows, period, dimension, **kwargs) == statistics.breakdown(
                            frames, period, dimension, **kwargs), (*where, dimension)
                    if not first:
                        continue
                    months = aggregates.monthly(fact_rows, period, **kwargs)
                    first_day, last_day = timezone_dates(period)
                    for month, expected in zip(sorted(months), statistics.monthly(frames, first_day, last_day,
                                                                                  **kwargs), strict=True):
                        assert months[month] == expected, (*where, month)
                assert aggregates.league_table(fact_rows, period, as_of=as_of) == statistics.league_table(
                    frames, period, as_of=as_of), where
            assert aggregates.flow_table(fact_rows, period) == statistics.flow_table(frames, period), where


def timezone_dates(period):
    from django.utils import timezone

    return timezone.localdate(period.start), timezone.localdate(period.end) - timedelta(days=1)


def test_the_hand_computed_march_is_the_same_from_the_facts():
    build_market()
    assert_same_figures([statistics.Period.month(2026, 3), statistics.Period.months(date(2026, 1, 1),
                                                                                     date(2026, 8, 1))],
                        [datetime(2026, 8, 1, 12, tzinfo=SH), datetime(2026, 6, 1, tzinfo=SH)], (90, 120))
    march = aggregates.figures(aggregates.Facts(), statistics.Period.month(2026, 3),
                               as_of=datetime(2026, 8, 1, 12, tzinfo=SH), n_days=90)
    assert march["quick_licence_deal_rate"] == 0.3333 and march["p90_days_to_first_licence"] == 103.7


def test_the_hand_computed_april_is_the_same_from_the_facts(settings):
    build_april_market(settings)
    assert_same_figures([statistics.Period.month(2026, 4), statistics.Period.months(date(2026, 2, 1),
                                                                                     date(2026, 5, 1))],
                        [datetime(2026, 8, 1, 12, tzinfo=SH)])


def random_market(seed: int, *, declarations: int = 40, today=date(2026, 9, 1)):
    """Declarations over eighteen months on patents of every kind, grade and field, some withdrawn and declared
    again, some announced; licences taken on either basis by a pool of licensees of every size and province,
    some recorded in time, late or never, most paid (some refunded, some partly by vouchers)."""
    rng = random.Random(seed)
    start = datetime(2025, 3, 1, tzinfo=SH)

    def moment(after, days):
        return after + timedelta(days=rng.uniform(0, days), seconds=rng.randrange(86400))

    holders = [OrganisationFactory(kind=kind, province=province, is_holder=True)
               for kind, province in [(OrganisationKind.UNIVERSITY, "北京市"), (OrganisationKind.INSTITUTE, "广东省"),
                                      (OrganisationKind.ENTERPRISE, "江苏"), (OrganisationKind.UNIVERSITY, "广东")]]
    takers = [OrganisationFactory(province=rng.choice(["广东省", "广东", "浙江省", " 北京市 ", ""]),
                                  size=rng.choice(["", *OrganisationSize.values]), is_licensee=True)
              for _ in range(8)]
    for i in range(declarations):
        owner = rng.choice(holders)
        override = rng.choice(["", "", "", "A", "D"])
        patent = eligible_patent(holder=owner, kind=rng.choice(PatentKind.values), grade_computed=rng.choice("ABCD"),
                                 grade_override=override, grade_override_reason="持有人评估" if override else "",
                                 technology_field=rng.choice([1, 1, 6, 15, 23, None]))
        filed = moment(start, 450)
        rounds = 2 if i % 7 == 0 else 1  # withdrawn, then declared again
        for round_ in range(rounds):
            fee_form = rng.choice(FeeForm.values)
            offer = ({"lump_sum_fen": rng.choice([0, 100_000])} if fee_form == FeeForm.LUMP_SUM else
                     {"lump_sum_fen": None, "royalty_base": RoyaltyBase.NET_SALES,
                      "royalty_rate": rng.choice(["0.00", "3.00"]), "annual_minimum_fen": None,
                      "entry_fee_fen": rng.choice([0, 50_000]) if fee_form != FeeForm.ROYALTY else rng.choice([None, 0])})
            d = DeclarationFactory(patent=patent, holder=owner, state=DeclarationState.FILED, fee_form=fee_form,
                                   **offer)
            withdrawn = moment(filed, 200) if round_ < rounds - 1 or rng.random() < 0.15 else None
            announced = (filed + timedelta(days=rng.randrange(1, 60))).date() if rng.random() < 0.5 else None
            Declaration.objects.filter(pk=d.pk).update(
                filed_at=filed, withdrawn_at=withdrawn, withdrawal_filed_at=withdrawn, announced_on=announced,
                cnipa_number=f"KFXK{seed:02d}{d.pk:08d}" if announced else None,
                withdrawal_reason=rng.choice(["转让", "Strategy change"]) if withdrawn else "",
                state=DeclarationState.WITHDRAWN if withdrawn else (
                    DeclarationState.ANNOUNCED if announced else DeclarationState.FILED))
            d.refresh_from_db()
            for taker in rng.sample(takers, rng.randrange(0, 5)):
                active = moment(filed, 200)
                if withdrawn and active >= withdrawn:
                    continue
                first_amount = rng.choice([0, 0, 30_000, 100_000])
                starts = active.date() if rng.random() < 0.8 else None
                recorded = (active.date() + timedelta(days=rng.randrange(10, 150))) if rng.random() < 0.6 else None
                made = LicenceFactory(
                    declaration=d, licensee=taker, state=LicenceState.ACTIVE, activated_at=active, starts_on=starts,
                    notice_submitted_at=active - timedelta(days=rng.uniform(0, 9)), first_amount_fen=first_amount,
                    basis=LicenceBasis.STATUTORY if announced and rng.random() < 0.7 else LicenceBasis.PLATFORM,
                    recorded_on=recorded, recording_number="2026990000888" if recorded else "")
                if first_amount and rng.random() < 0.9:
                    voucher = rng.choice([0, 0, first_amount // 3])
                    state = rng.choice([Payment.State.SUCCEEDED] * 4 + [Payment.State.PARTIALLY_REFUNDED,
                                                                        Payment.State.REFUNDED])
                    charge = first_amount - voucher
                    refunded = {Payment.State.SUCCEEDED: 0, Payment.State.PARTIALLY_REFUNDED: charge // 2,
                                Payment.State.REFUNDED: charge}[state]
                    PaymentFactory(licence=made, amount_fen=first_amount, voucher_fen=voucher, charge_fen=charge,
                                   refunded_fen=refunded, state=state, due_on=None,
                                   succeeded_at=active + timedelta(hours=rng.uniform(0, 1000)))
            filed = moment(withdrawn or filed, 60) if withdrawn else filed
    return today


def test_a_random_market_is_the_same_from_the_facts(settings):
    settings.PLATFORM_HOME_REGION = "广东省"
    random_market(1, declarations=24)
    periods = [statistics.Period.months(date(2025, 9, 1), date(2026, 8, 1))]
    assert_same_figures(periods, [datetime(2026, 9, 1, tzinfo=SH), datetime(2025, 12, 10, 15, tzinfo=SH)],
                        (90, 30), filters_list=[{}, {"fee_form": "royalty", "region": "广东"},
                                                {"sector": "chemistry", "patent_kind": "invention"}])
    assert LicenceFact.objects.count() == Licence.objects.filter(activated_at__isnull=False).count() > 20
    assert DeclarationFact.objects.count() == Declaration.objects.filter(filed_at__isnull=False).count()
    assert PaymentFact.objects.count() > 5


def test_the_rebuild_command_shows_its_progress_and_writes_every_fact():
    build_market()
    call_command("rebuild_statistics_facts", stdout=(out := __import__("io").StringIO()),
                 stderr=(err := __import__("io").StringIO()))
    assert "patents" in err.getvalue() and "facts" in out.getvalue()
    assert (DeclarationFact.objects.count(), LicenceFact.objects.count(), PaymentFact.objects.count()) == (5, 5, 3)


def _same_board(params: str, as_of):
    """The board served from the facts and the reference over the licensing tables, for ``params``."""
    board = selectors.dashboard(params=QueryDict(params), as_of=as_of)
    declarations = board.filterset.qs if board.narrowed else None
    frames = statistics.Frames.load(period=board.period, declarations=declarations)
    expected = statistics.indicators(frames, board.period, as_of=as_of, n_days=90)
    assert {k: board.figures[k] for k in expected} == expected, params
    return board.figures


def test_the_facts_follow_what_the_services_change(settings):
    """Declared, licensed, paid and regraded through the services: the listeners rebuild the patents' facts in
    the same transaction, so the next board (from the facts) has the reference's figures."""
    from django.utils import timezone

    from licensing.declarations import services as declarations
    from licensing.licences import services as licences
    from patents.inventory.services import patent_grade_override
    from tests.licensing.factories import holder_admin
    from tests.parties.factories import MembershipFactory

    build_market()
    facts.rebuild()
    as_of = timezone.now() + timedelta(minutes=5)
    before = _same_board("", as_of)
    draft = DeclarationFactory()
    declaration = declarations.declaration_file(declaration=draft, by=holder_admin(draft.holder))
    assert DeclarationFact.objects.filter(declaration_id=declaration.pk).exists()
    licensee = OrganisationFactory(is_licensee=True, is_holder=False)
    user = MembershipFactory(organisation=licensee).user
    licence = licences.licence_notice_submit(
        declaration=declaration, licensee=licensee, by=user, legal_name=licensee.name_zh, uscc=licensee.uscc,
        contact_name="王经理", contact_email=user.email, contact_phone="", field_of_use="储能",
        accepted_terms_sha256=declaration.terms_version.sha256)
    licence = licences.licence_activate(licence=licence)
    invoice = Payment.objects.create(licence=licence, purpose=Payment.Purpose.ROYALTY, amount_fen=12_300,
                                     voucher_fen=12_300, charge_fen=0, state=Payment.State.REQUIRES_PAYMENT)
    licences.payment_mark_succeeded(payment_id=invoice.pk, intent=None)
    after = _same_board("", as_of)
    assert after["declarations_published"] == before["declarations_published"] + 1
    assert after["licences_concluded"] == before["licences_concluded"] + 1
    assert after["fee_volume_fen"] == before["fee_volume_fen"] + 12_300
    grade = "D" if declaration.patent.grade != "D" else "A"
    patent_grade_override(patent=declaration.patent, grade=grade, reason="持有人评估", by=holder_admin(draft.holder))
    assert LicenceFact.objects.get(licence_id=licence.pk).grade == grade
    assert _same_board(f"grade={grade}", as_of)["licences_concluded"] >= 1
