"""The holder's English title and abstract: read by the import from a GBK file with Chinese headers (英文名称,
英文摘要), left alone by a later file without those columns, edited on the patent's page and shown there."""

import pytest
from django.urls import reverse

from patents.inventory.services import inventory_batch_create, inventory_batch_run
from patents.models import InventoryBatch, Patent, PatentChange
from tests.licensing.factories import holder_admin
from tests.parties.factories import HolderFactory
from tests.patents.factories import ZH_HEADERS, cn_application_number, inventory_csv

pytestmark = pytest.mark.django_db


def run(content: bytes, holder):
    batch = inventory_batch_create(
        holder=holder,
        run_by=None,
        source=InventoryBatch.Source.WEB,
        filename="清单.csv",
        content=content,
        partial=False,
        language="zh-hans",
    )
    inventory_batch_run(batch=batch)
    batch.refresh_from_db()
    return batch


def test_a_gbk_file_with_chinese_headers_gives_the_english_text_and_the_holder_edits_it(client):
    holder = HolderFactory()
    rows = [
        {
            "number": cn_application_number(1),
            "title": "一种电池包散热结构",
            "kind": "发明",
            "filing_date": "2021-03-15",
            "abstract": "包括箱体和液冷板。",
            "title_en": "Heat dissipation structure for a battery pack",
            "abstract_en": "A case and a cooling plate.",
        },
        {"number": cn_application_number(2), "title": "一种齿轮箱", "kind": "发明", "filing_date": "2022-01-10"},
    ]
    assert (ZH_HEADERS["title_en"], ZH_HEADERS["abstract_en"]) == ("英文名称", "英文摘要")
    batch = run(inventory_csv(rows, headers="zh", encoding="gbk"), holder)
    assert batch.status == InventoryBatch.Status.SUCCEEDED, batch.errors_preview
    patent = Patent.objects.get(number=cn_application_number(1))
    assert (patent.title_en, patent.abstract_en) == (
        "Heat dissipation structure for a battery pack",
        "A case and a cooling plate.",
    )
    assert Patent.objects.get(number=cn_application_number(2)).title_en == ""

    # A later file without the English columns leaves the English text alone.
    run(
        inventory_csv(
            [{**rows[0], "title_en": None, "abstract_en": None}],
            headers="zh",
            columns=["number", "title", "kind", "filing_date"],
            encoding="gbk",
        ),
        holder,
    )
    patent.refresh_from_db()
    assert patent.title_en == "Heat dissipation structure for a battery pack"

    client.force_login(holder_admin(holder))
    response = client.post(
        reverse("patent_english", args=[patent.pk]),
        {"title_en": "Cooling structure of a battery pack", "abstract_en": ""},
        follow=True,
    )
    assert "Cooling structure of a battery pack" in response.content.decode()
    patent.refresh_from_db()
    assert (patent.title_en, patent.abstract_en) == ("Cooling structure of a battery pack", "")
    change = PatentChange.objects.get(patent=patent, action=PatentChange.Action.ENGLISH_TEXT)
    assert change.changes["title_en"] == ["Heat dissipation structure for a battery pack", "Cooling structure of a battery pack"]
