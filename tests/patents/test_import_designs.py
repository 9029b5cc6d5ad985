"""Designs in an inventory file: a CNIPA-style export (GBK, Chinese headers) puts a design's Locarno class
in the same main-classification column as the inventions' IPC. The importer reads that column by kind."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from marketplace.parties.models import MembershipRole
from patents.models import InventoryBatch, Patent, PatentChange
from tests.parties.factories import HolderFactory, MembershipFactory
from tests.patents.factories import cn_application_number, inventory_csv
from tests.patents.test_import import import_file

pytestmark = pytest.mark.django_db

# Headers as a CNIPA search export writes them; 申请人 and 公开（公告）号 are not read.
CNIPA_HEADERS = {"number": "申请号", "title": "名称", "kind": "专利类型", "filing_date": "申请日",
                 "grant_date": "授权公告日", "ipc": "主分类号", "legal_status": "法律状态", "inventors": "发明人",
                 "applicant": "申请（专利权）人", "publication": "公开（公告）号"}


def cnipa_rows() -> list[dict]:
    """Two inventions, one utility model and three designs, as CNIPA prints them."""
    invention, utility, design = "invention", "utility_model", "design"

    def number(serial, kind):
        return cn_application_number(serial, kind=kind).removeprefix("CN")

    return [
        {"number": number(1, invention), "title": "一种锂离子电池正极材料及其制备方法", "kind": "发明专利",
         "filing_date": "2021.03.15", "grant_date": "2023.06.20", "ipc": "H01M4/36(2006.01)",
         "legal_status": "有效", "inventors": "张三;李四", "applicant": "某某大学", "publication": "CN113000001B"},
        {"number": number(2, invention), "title": "一种基于深度学习的图像识别方法", "kind": "发明专利",
         "filing_date": "2021.05.10", "grant_date": "", "ipc": "G06V10/82", "legal_status": "实质审查",
         "inventors": "王五", "applicant": "某某大学", "publication": "CN113000002A"},
        {"number": number(3, utility), "title": "一种电池散热装置", "kind": "实用新型",
         "filing_date": "2021.07.01", "grant_date": "2022.01.18", "ipc": "H01M10/613", "legal_status": "有效",
         "inventors": "赵六", "applicant": "某某大学", "publication": "CN215000003U"},
        {"number": number(4, design), "title": "手机", "kind": "外观设计", "filing_date": "2021.08.02",
         "grant_date": "2021.12.03", "ipc": "14-03(13)", "legal_status": "有效", "inventors": "孙七",
         "applicant": "某某大学", "publication": "CN306000004S"},
        {"number": number(5, design), "title": "办公椅", "kind": "外观设计", "filing_date": "2021.09.06",
         "grant_date": "2022.02.11", "ipc": "06-01", "legal_status": "有效", "inventors": "周八",
         "applicant": "某某大学", "publication": "CN307000005S"},
        {"number": number(6, design), "title": "台灯", "kind": "外观设计", "filing_date": "2021.10.11",
         "grant_date": "2022.03.15", "ipc": "26-05(13)", "legal_status": "有效", "inventors": "吴九",
         "applicant": "某某大学", "publication": "CN307000006S"},
    ]


def cnipa_csv(rows=None) -> bytes:
    return inventory_csv(cnipa_rows() if rows is None else rows, headers=CNIPA_HEADERS, encoding="gbk")


@pytest.fixture
def holder():
    return HolderFactory()


def test_a_gbk_cnipa_export_with_inventions_utility_models_and_designs_imports_whole(holder):
    content = cnipa_csv()
    assert "主分类号".encode("gbk") in content

    batch, summary = import_file(content, holder=holder)

    assert (summary.status, summary.created, summary.rejected) == (InventoryBatch.Status.SUCCEEDED, 6, 0), \
        batch.errors_preview
    patents = {p.title: p for p in Patent.objects.all()}
    phone, chair, lamp = patents["手机"], patents["办公椅"], patents["台灯"]
    assert (phone.kind, phone.locarno_codes, phone.main_ipc, phone.ipc_codes) == ("design", ["14-03"], "", [])
    assert (chair.locarno_codes, lamp.locarno_codes) == (["06-01"], ["26-05"])
    # Class 14 spans audio-visual, telecommunications and computers: left unclassified rather than guessed.
    assert (phone.technology_field, chair.technology_field, lamp.technology_field) == (None, 33, 1)
    battery = patents["一种锂离子电池正极材料及其制备方法"]
    assert (battery.main_ipc, battery.ipc_codes, battery.locarno_codes) == ("H01M 4/36", ["H01M 4/36"], [])
    assert battery.technology_field == 1 and patents["一种电池散热装置"].ipc_subclass == "H01M"
    assert all(p.grade_factors and p.graded_at for p in patents.values())
    assert PatentChange.objects.filter(action=PatentChange.Action.IMPORT_CREATE).count() == 6


def test_reimporting_the_same_export_changes_nothing_and_a_changed_design_class_is_audited(holder):
    import_file(cnipa_csv(), holder=holder)

    _batch, again = import_file(cnipa_csv(), holder=holder)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 6)

    rows = cnipa_rows()
    rows[4]["ipc"] = "06-03(13)"
    batch, changed = import_file(cnipa_csv(rows), holder=holder)
    assert (changed.updated, changed.unchanged) == (1, 5)
    change = PatentChange.objects.get(batch=batch)
    assert change.changes["locarno_codes"] == [["06-01"], ["06-03"]]
    assert "main_ipc" not in change.changes and "technology_field" not in change.changes  # still field 33


def assert_only_error(batch, *, row: int, reason: str) -> None:
    assert batch.status == InventoryBatch.Status.REJECTED and not Patent.objects.exists()
    assert [(e["row"], e["column"]) for e in batch.errors_preview] == [(row, "ipc")], batch.errors_preview
    assert reason in batch.errors_preview[0]["reason"], batch.errors_preview


def test_a_design_given_an_ipc_symbol_is_rejected_naming_row_column_and_reason(holder):
    rows = cnipa_rows()
    rows[3]["ipc"] = "H04M1/02"

    batch, _summary = import_file(cnipa_csv(rows), holder=holder)

    assert_only_error(batch, row=5, reason="this is an IPC symbol, but a design is classified by its Locarno class")


def test_an_invention_given_a_locarno_class_is_rejected_naming_row_column_and_reason(holder):
    rows = cnipa_rows()
    rows[0]["ipc"] = "14-03(13)"

    batch, _summary = import_file(cnipa_csv(rows), holder=holder)

    assert_only_error(batch, row=2, reason="this is a Locarno class, which only designs have")


@pytest.mark.parametrize(("value", "reason"), [
    ("33-01", "malformed Locarno class: item 1 ('33-01'): class must be 01-32 or 99, got '33'"),
    ("14-3(13)", "malformed Locarno class: item 1 ('14-3'): subclass must be two digits"),
    ("电话机", "malformed Locarno class: item 1 ('电话机'): expected a Locarno class such as 14-03"),
])
def test_a_malformed_locarno_class_is_rejected_naming_row_column_and_reason(holder, value, reason):
    rows = cnipa_rows()
    rows[5]["ipc"] = value

    batch, _summary = import_file(cnipa_csv(rows), holder=holder)

    assert_only_error(batch, row=7, reason=reason)
    assert batch.errors_preview[0]["value"] == value


def test_a_design_may_leave_the_classification_empty(holder):
    rows = cnipa_rows()
    rows[3]["ipc"] = ""

    _batch, summary = import_file(cnipa_csv(rows), holder=holder)

    assert summary.created == 6
    assert Patent.objects.get(title="手机").locarno_codes == []


def test_the_upload_page_imports_the_gbk_export_with_designs(client, django_capture_on_commit_callbacks):
    member = MembershipFactory(organisation=HolderFactory(), role=MembershipRole.MEMBER)
    client.force_login(member.user)
    upload = SimpleUploadedFile("专利清单.csv", cnipa_csv(), content_type="text/csv")

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("inventory_upload"), {"holder": member.organisation.slug, "file": upload})

    batch = InventoryBatch.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("batch_detail", args=[batch.pk])
    assert (batch.status, batch.created_count, batch.rejected_count) == (InventoryBatch.Status.SUCCEEDED, 6, 0), \
        batch.errors_preview
    assert client.get(reverse("batch_status", args=[batch.pk])).json()["created"] == 6
    assert Patent.objects.filter(holder=member.organisation, kind="design").count() == 3
    phone = Patent.objects.get(title="手机")
    page = client.get(reverse("patent_detail", args=[phone.pk])).content.decode()
    assert "<code>14-03</code>" in page and ("Locarno" in page or "洛迦诺" in page)
