"""Two changes at once keep the month sets (marketplace.office.month_sets) as a rebuild writes them: a change
reads its cells' bitmaps and arrays and writes them back, so on PostgreSQL a second change to the same cell
must wait for the first to commit rather than read the cell before it (a lost patent, or the second insert of
the cell's key failing). SQLite serialises every writer."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from licensing.models.licences import Licence
from marketplace.office import facts
from tests.marketplace.test_statistics import build_market
from tests.marketplace.test_statistics_monthly import _sets

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrency needs PostgreSQL row locks"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_two_changes_to_one_month_cell_both_reach_the_month_sets():
    build_market()
    facts.rebuild()
    expected = _sets()
    march = [lic for lic in Licence.objects.filter(activated_at__isnull=False).order_by("pk")
             if f"{timezone.localtime(lic.activated_at):%Y-%m}" == "2026-03"]
    first, second = march[0].patent_id, next(lic.patent_id for lic in march if lic.patent_id != march[0].patent_id)
    refreshed, commit = threading.Event(), threading.Event()
    errors: list = []

    def change(patent_id, hold: bool):
        try:
            with transaction.atomic():
                facts.refresh([patent_id])  # the patent's facts and its cells (March among them) written again
                if hold:
                    refreshed.set()
                    commit.wait(timeout=30)
        except Exception as exc:  # noqa: BLE001 - reported to the test
            errors.append(exc)
        finally:
            refreshed.set()
            connections.close_all()

    held = threading.Thread(target=change, args=(first, True))
    held.start()
    assert refreshed.wait(timeout=30)
    other = threading.Thread(target=change, args=(second, False))
    other.start()
    other.join(timeout=1)  # waits on the first change's March cell
    commit.set()
    for thread in (held, other):
        thread.join(timeout=60)
        assert not thread.is_alive()
    assert errors == []
    assert _sets() == expected


def test_a_patent_off_the_market_does_not_wait_for_a_change_to_the_facts():
    """An import's patents without declarations have no facts to keep: their refresh takes no lock, so a long
    change elsewhere holds no import back."""
    from tests.patents.factories import PatentFactory

    build_market()
    facts.rebuild()
    on_market = Licence.objects.filter(activated_at__isnull=False).order_by("pk").first().patent_id
    off_market = PatentFactory().pk
    refreshed, commit, done = threading.Event(), threading.Event(), threading.Event()
    errors: list = []

    def held():
        try:
            with transaction.atomic():
                facts.refresh([on_market])
                refreshed.set()
                commit.wait(timeout=30)
        except Exception as exc:  # noqa: BLE001 - reported to the test
            errors.append(exc)
        finally:
            refreshed.set()
            connections.close_all()

    def off():
        try:
            with transaction.atomic():
                facts.refresh([off_market])
            done.set()
        except Exception as exc:  # noqa: BLE001 - reported to the test
            errors.append(exc)
        finally:
            connections.close_all()

    first = threading.Thread(target=held)
    first.start()
    assert refreshed.wait(timeout=30)
    second = threading.Thread(target=off)
    second.start()
    finished_first = done.wait(timeout=10)
    commit.set()
    for thread in (first, second):
        thread.join(timeout=60)
    assert errors == []
    assert finished_first


def test_a_change_during_a_rebuild_waits_for_it():
    """A change while the facts are rebuilt (rebuild_statistics_facts) is kept after the rebuild's rows, not
    read from the rows the rebuild is replacing."""
    build_market()
    facts.rebuild()
    licence = Licence.objects.filter(activated_at__isnull=False).order_by("pk").first()
    cleared, finish = threading.Event(), threading.Event()
    errors: list = []

    def rebuild():
        def progress(done, total):
            if done == 0:  # the old facts cleared, the new ones not yet written
                cleared.set()
                finish.wait(timeout=30)
        try:
            facts.rebuild(progress=progress)
        except Exception as exc:  # noqa: BLE001 - reported to the test
            errors.append(exc)
        finally:
            cleared.set()
            connections.close_all()

    def change():
        try:
            with transaction.atomic():
                Licence.objects.filter(pk=licence.pk).update(activated_at=licence.activated_at - timedelta(days=45))
                facts.refresh([licence.patent_id])
        except Exception as exc:  # noqa: BLE001 - reported to the test
            errors.append(exc)
        finally:
            connections.close_all()

    first = threading.Thread(target=rebuild)
    first.start()
    assert cleared.wait(timeout=30)
    second = threading.Thread(target=change)
    second.start()
    second.join(timeout=1)  # waits on the rebuild
    finish.set()
    for thread in (first, second):
        thread.join(timeout=60)
        assert not thread.is_alive()
    assert errors == []
    changed = _sets()
    facts.rebuild()
    assert changed == _sets()
