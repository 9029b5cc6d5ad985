"""The dashboard read from the month aggregates (marketplace.office.monthly) gives exactly the reference's figures
(marketplace.office.statistics over the licensing tables): on the hand-computed markets and a random market,
for the totals, every breakdown, the months of a trend, the league and the flows, as of several moments and
for several N; and the aggregates follow the changes the services make, as a rebuild would write them."""

from datetime import date, datetime, timedelta

import numpy as np
import pytest

from licensing.models import Declaration
from licensing.models.licences import Licence, LicenceBasis, Payment
from marketplace.models import StatisticsMonthAggregate
from marketplace.office import aggregates, facts, month_sets, monthly, statistics
from tests.marketplace.test_office_indicators import build_april_market
from tests.marketplace.test_statistics import build_market
from tests.marketplace.test_statistics_facts import SH, _declarations, random_market, timezone_dates

pytestmark = pytest.mark.django_db


def assert_same_from_aggregates(periods, moments, filters_list=({},)):
    """``moments``: (as_of, N) pairs; every breakdown for the first, two for the others (as-of and N change the
    counts, not the keys)."""
    facts.rebuild()
    assert monthly.built()
    for filters in filters_list:
        declarations = _declarations(filters)
        for period in periods:
            assert monthly.usable(filters, period)
            frames = statistics.Frames.load(period=period, declarations=declarations)
            for as_of, n_days in moments:
                kwargs = {"as_of": as_of, "n_days": n_days}
                where = (filters, period.label, as_of, n_days)
                dimensions = statistics.DIMENSIONS if (as_of, n_days) == moments[0] else ["grade", "licensee_locality"]
                for dimension in dimensions:
                    window = monthly.MonthlyWindow.read(filters, period, by=dimension, **kwargs)
                    assert window.breakdown(dimension) == statistics.breakdown(
                        frames, period, dimension, **kwargs), (*where, dimension)
                assert window.grouped(None)[statistics.ALL] == statistics.indicators(frames, period, **kwargs), where
                months = window.grouped(aggregates.MONTH)
                first_day, last_day = timezone_dates(period)
                for month, expected in zip(sorted(months), statistics.monthly(frames, first_day, last_day, **kwargs),
                                           strict=True):
                    assert months[month] == expected, (*where, month)
                assert window.league() == statistics.league_table(frames, period, as_of=as_of), where
                assert window.flows() == statistics.flow_table(frames, period), where


def test_the_hand_computed_markets_are_the_same_from_the_month_aggregates(settings):
    build_market()
    build_april_market(settings)
    assert_same_from_aggregates(
        [statistics.Period.months(date(2026, 1, 1), date(2026, 8, 1))],
        [(datetime(2026, 8, 1, 12, tzinfo=SH), 90), (datetime(2026, 4, 20, tzinfo=SH), 120)],
        filters_list=[{}, {"fee_form": "royalty"}])


def test_a_random_market_is_the_same_from_the_month_aggregates(settings):
    settings.PLATFORM_HOME_REGION = "广东省"
    random_market(2, declarations=24)
    assert_same_from_aggregates(
        [statistics.Period.months(date(2025, 9, 1), date(2026, 8, 1))],
        [(datetime(2026, 9, 1, tzinfo=SH), 90), (datetime(2025, 12, 10, 15, tzinfo=SH), 30)],
        filters_list=[{}, {"region": "广东"}])


def _cells() -> set:
    return {tuple(row) for row in StatisticsMonthAggregate.objects.values_list(*monthly.KEYS, *monthly.MEASURES)
            if any(row[len(monthly.KEYS):])}


def test_a_change_leaves_the_aggregates_as_a_rebuild_writes_them():
    """The listeners' path (the old facts' cells out, the new ones in) against a rebuild from scratch: a licence
    recorded late and made statutory, a declaration withdrawn, a payment refunded."""
    build_market()
    facts.rebuild()
    licence = Licence.objects.filter(activated_at__isnull=False).order_by("pk").first()
    Licence.objects.filter(pk=licence.pk).update(recorded_on=date(2026, 9, 30), basis=LicenceBasis.STATUTORY)
    declaration = Declaration.objects.filter(filed_at__isnull=False).exclude(patent=licence.patent).first()
    Declaration.objects.filter(pk=declaration.pk).update(withdrawn_at=declaration.filed_at + timedelta(days=40))
    payment = Payment.objects.filter(succeeded_at__isnull=False).first()
    Payment.objects.filter(pk=payment.pk).update(state=Payment.State.REFUNDED, refunded_fen=payment.charge_fen)
    facts.refresh([licence.patent_id, declaration.patent_id, payment.licence.patent_id])
    changed = _cells()
    facts.rebuild()
    assert changed == _cells()


def _sets() -> dict:
    """The month sets as values: patents as sorted ids, the arrays as sorted values."""
    from pyroaring import BitMap

    from marketplace.models import StatisticsMonthSet

    out = {}
    for key, source, data in StatisticsMonthSet.objects.values_list("key", "source", "data"):
        value = np.sort(np.frombuffer(bytes(data), dtype=month_sets.ARRAYS[source])).tolist() if (
            source in month_sets.ARRAYS) else list(BitMap.deserialize(bytes(data)))
        out[key] = value
    return out


def test_a_change_leaves_the_month_sets_as_a_rebuild_writes_them():
    """The listeners' path for the month sets (the changed patents out of their old cells, into their new
    ones): a licence moved to an earlier month and paid later, another licensee's licence moved onto its
    patent (a second licensee)."""
    build_market()
    facts.rebuild()
    assert _sets()
    licences = list(Licence.objects.filter(activated_at__isnull=False).order_by("pk"))
    first = licences[0]
    other = next(lic for lic in reversed(licences) if lic.licensee_id != first.licensee_id)
    Licence.objects.filter(pk=first.pk).update(activated_at=first.activated_at - timedelta(days=45),
                                               notice_submitted_at=first.activated_at - timedelta(days=50))
    Licence.objects.filter(pk=other.pk).update(patent=first.patent, declaration=first.declaration)
    facts.refresh([first.patent_id, other.patent_id])
    changed = _sets()
    facts.rebuild()
    assert changed == _sets()
