"""Hostile input, through HTTP as an attacker or a careless user would send it (search queries that are
query-language syntax, control characters, essays or SQL: test_hostile_search.py); need forms with script, very long text, unicode
edge cases, negative and overflowing amounts; inventory files with control characters, markup and formulas.
Each gets a clear error naming the field (nothing written), or is stored as typed and shown escaped; never a
server error."""

import csv
import io

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from marketplace.listings import services as listings
from marketplace.models import Need
from marketplace.parties.models import MembershipRole
from patents.models import InventoryBatch, Patent
from tests.licensing.factories import DeclarationFactory, holder_admin
from tests.parties.factories import HolderFactory, MembershipFactory, OrganisationFactory
from tests.patents.factories import cn_application_number

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert('x')</script>"
UNICODE_EDGES = [
    "\u202e右到左覆盖 RTL override",  # right-to-left override
    "零\u200b宽\u200d字符",  # zero-width space and joiner
    "emoji 🔋⚡ and ZWJ family 👨‍👩‍👧",
    "e\u0301\u0301\u0301 combining marks",
    "𠀀𪚥 beyond the BMP",
    "tab\tand\u00a0nbsp",
]
@pytest.fixture
def market(demo_pages):
    draft = DeclarationFactory()
    return listings.declaration_file(declaration=draft, by=holder_admin(draft.holder))


@pytest.fixture
def buyer(client):
    membership = MembershipFactory(organisation=OrganisationFactory(), role=MembershipRole.ADMIN)
    client.force_login(membership.user)
    return membership


def _need(buyer, **overrides):
    data = {"organisation": buyer.organisation.pk, "title": "锂电池均衡管理", "description": "需要电池管理专利。",
            "technology_field": "1", "ipc_prefix": "H01M", "budget_min": "10000", "budget_max": "100000",
            "horizon_years": "3", "expected_annual_net_sales": "", "preferred_fee_form": "", "region": "广东省",
            "deadline": "", "public": "on"}
    data.update(overrides)
    return data


@pytest.mark.parametrize("field, value, complaint", [
    ("title", "长" * 201, "at most 200"),
    ("title", "", "required"),
    ("budget_min", "-1", "greater than or equal to 0"),
    ("budget_max", "-0.01", "greater than or equal to 0"),
    ("budget_max", "1" + "0" * 20, "no more than 14 digits"),
    ("budget_min", "1e400", "no more than 14 digits"),
    ("budget_max", "NaN", "Enter a number"),
    ("budget_max", "5000", "below its lower end"),
    ("horizon_years", "999999999999", "less than or equal to 20"),
    ("horizon_years", "-3", "greater than or equal to 1"),
    ("expected_annual_net_sales", "12.345", "no more than 2 decimal places"),
    ("deadline", "2026-02-30", "valid date"),
    ("technology_field", "999", "valid choice"),
    ("organisation", "99999999", "valid choice"),
])
def test_a_bad_need_field_is_named_and_nothing_is_written(client, buyer, field, value, complaint):
    with_lang = reverse("need_new").replace("/zh-hans/", "/en/")
    response = client.post(with_lang, _need(buyer, **{field: value}))
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert field in errors and complaint in " ".join(errors[field]), errors
    assert Need.objects.count() == 0


@pytest.mark.parametrize("text", [SCRIPT, "<img src=x onerror=alert(1)>", "\"><svg onload=alert(1)>", *UNICODE_EDGES])
def test_markup_and_unicode_in_a_need_are_stored_as_typed_and_shown_escaped(client, buyer, text):
    response = client.post(reverse("need_new"), _need(buyer, title=text[:200], description=text * 3, region=text[:40]))
    assert response.status_code == 302
    need = Need.objects.get()
    assert need.title == text[:200] and need.description == text * 3
    for url in (reverse("need_detail", args=[need.pk]), reverse("need_board"), reverse("need_mine")):
        body = client.get(url).content.decode()
        if "<" in text:
            assert text not in body, url
        else:
            assert text[:200] in body, url


def test_a_very_long_need_description_is_kept_whole_and_matching_still_runs(client, buyer, market):
    essay = "我们需要锂电池管理技术。" * 20_000  # 240k characters
    response = client.post(reverse("need_new"), _need(buyer, description=essay))
    assert response.status_code == 302
    need = Need.objects.get()
    assert len(need.description) == len(essay)
    assert client.get(reverse("need_matches", args=[need.pk])).status_code == 200


# --------------------------------------------------------------------------- inventory files through the upload page

@pytest.fixture
def holder_client(client, django_capture_on_commit_callbacks):
    holder = HolderFactory()
    client.force_login(holder_admin(holder))
    client.run_on_commit = django_capture_on_commit_callbacks  # the import task is enqueued on commit
    return client, holder


def _csv(rows: list[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def _row(serial, **values):
    return {"patent_number": cn_application_number(serial), "title": f"一种锂离子电池 {serial}", "kind": "invention",
            "filing_date": "2021-03-15", **values}


def _upload(client, holder, content: bytes, name="inventory.csv", partial=False):
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = {"file": SimpleUploadedFile(name, content), **({"partial": "on"} if partial else {})}
    with client.run_on_commit(execute=True):
        with translation.override("en"):  # the batch reports its reasons in the language it was uploaded in
            url = reverse("inventory_upload") + f"?holder={holder.slug}"
        response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:500]
    return InventoryBatch.objects.latest("pk")


def test_a_nul_character_deep_in_a_csv_rejects_its_row_by_row_and_column(holder_client):
    client, holder = holder_client
    filler = [_row(i) for i in range(1, 1200)]  # over 64 KB before the bad row
    content = _csv([*filler, _row(5000, title="一种电池\x00隐藏")])
    assert content.index(b"\x00") > 65_536
    batch = _upload(client, holder, content)
    assert batch.status == InventoryBatch.Status.REJECTED
    error = batch.errors_preview[0]
    assert (error["row"], error["column"]) == (1201, "title") and "control character" in error["reason"]
    assert Patent.objects.count() == 0


@pytest.mark.parametrize("cell", ["\x1b[31m红色", "响铃\x07", "退格\x08", "\x7f删除"])
def test_other_control_characters_are_rejected_with_row_and_column(holder_client, cell):
    client, holder = holder_client
    batch = _upload(client, holder, _csv([_row(1), _row(2, title=cell)]))
    error = batch.errors_preview[0]
    assert (error["row"], error["column"]) == (3, "title") and "control character" in error["reason"]
    assert Patent.objects.count() == 0


@pytest.mark.parametrize("title", [SCRIPT, "=HYPERLINK(\"http://evil\",\"x\")", "+cmd|' /C calc'!A0", "@SUM(1+1)",
                                   *UNICODE_EDGES])
def test_markup_and_formulas_in_an_inventory_are_stored_as_typed_and_shown_escaped(holder_client, title):
    client, holder = holder_client
    batch = _upload(client, holder, _csv([_row(1, title=title)]))
    assert batch.status == InventoryBatch.Status.SUCCEEDED, batch.errors_preview
    patent = Patent.objects.get()
    assert patent.title == title.strip()
    body = client.get(reverse("patent_detail", args=[patent.pk])).content.decode()
    assert escape(title.strip()) in body and (title not in body if "<" in title else True)
