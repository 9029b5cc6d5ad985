"""The inventory import reads the grounds that bar open licensing (Implementing Regulations arts. 86, 103-104 and the
Guidelines' co-owner rule): a suspension of the procedures with its date, and whether the co-owners' agreement lets
the holder declare alone, in English or Chinese headers."""

from datetime import date

import pytest

from patents.inventory.services import inventory_batch_create, inventory_batch_run
from patents.models import InventoryBatch, Patent
from tests.parties.factories import HolderFactory
from tests.patents.factories import cn_application_number, inventory_csv

pytestmark = pytest.mark.django_db


def run(rows, headers="en"):
    holder = HolderFactory()
    batch = inventory_batch_create(holder=holder, run_by=None, source=InventoryBatch.Source.WEB,
                                   filename="inventory.csv", content=inventory_csv(rows, headers=headers),
                                   partial=False, language="en")
    inventory_batch_run(batch=batch, today=date(2025, 1, 1))
    batch.refresh_from_db()
    return batch


def row(serial=1, **values):
    return {"number": cn_application_number(serial), "title": f"一种锂离子电池 {serial}", "kind": "invention",
            "filing_date": "2021-03-15", **values}


def test_chinese_headers_import_a_suspension_and_the_co_owners_agreement():
    batch = run([row(1, procedure_suspension="权属纠纷", procedure_suspended_on="2024/11/05",
                     co_owners_agreement_allows_declaring="是"),
                 row(2, procedure_suspension="", procedure_suspended_on="", co_owners_agreement_allows_declaring="否")],
                headers="zh")
    assert batch.status == InventoryBatch.Status.SUCCEEDED, batch.errors_preview
    first, second = Patent.objects.order_by("number")
    assert (first.procedure_suspension, first.procedure_suspended_on, first.co_owners_agreement_allows_declaring) == (
        "ownership_dispute", date(2024, 11, 5), True)
    assert (second.procedure_suspension, second.procedure_suspended_on, second.co_owners_agreement_allows_declaring) \
        == ("", None, False)


def test_a_suspension_without_its_date_is_rejected_naming_row_and_column():
    batch = run([row(1, procedure_suspension="preservation_order")])
    [error] = batch.errors_preview
    assert (error["row"], error["column"], error["reason"]) == (
        2, "procedure_suspended_on", "a suspension needs the date it began")
    assert batch.status == InventoryBatch.Status.REJECTED and not Patent.objects.exists()


def test_an_unknown_suspension_is_rejected():
    batch = run([row(1, procedure_suspension="lawsuit", procedure_suspended_on="2024-11-05")])
    [error] = batch.errors_preview
    assert error["column"] == "procedure_suspension" and error["value"] == "lawsuit"
