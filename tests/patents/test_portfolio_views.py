"""The holder's portfolio and web import, tested through HTTP as a person uses them."""

import pytest
from django.urls import reverse
from django.utils import translation

from marketplace.parties.models import MembershipRole
from patents.inventory.grading import FACTORS
from patents.inventory.selectors import grade_explanation
from patents.models import InventoryBatch, Patent, PatentChange
from tests.parties.factories import HolderFactory, IPOfficeFactory, MembershipFactory, OrganisationFactory
from tests.patents.factories import PatentFactory, cn_application_number, inventory_csv

pytestmark = pytest.mark.django_db


@pytest.fixture
def holder_member():
    return MembershipFactory(organisation=HolderFactory(), role=MembershipRole.MEMBER)


def good_rows(n=3, start=1):
    return [{"number": cn_application_number(start + i), "title": f"一种储能电池管理方法{i}", "kind": "发明",
             "filing_date": "2020-05-01", "grant_date": "2022.07.08", "ipc": "H01M 10/44;H02J 7/00",
             "claims_count": "12"} for i in range(n)]


@pytest.fixture(autouse=True)
def run_tasks_on_commit(client, django_capture_on_commit_callbacks, monkeypatch):
    """Views enqueue background tasks on commit; the test transaction never commits, so each request's
    on-commit callbacks run when the request ends, as they would in production."""
    post = client.post

    def post_and_commit(*args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return post(*args, **kwargs)

    monkeypatch.setattr(client, "post", post_and_commit)


def upload(client, holder, content, name="inventory.csv", partial=False):
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = {"holder": holder.slug, "file": SimpleUploadedFile(name, content, content_type="text/csv")}
    if partial:
        data["partial"] = "on"
    return client.post(reverse("inventory_upload"), data)


def test_a_holder_member_uploads_a_gbk_csv_and_sees_the_summary(client, holder_member):
    client.force_login(holder_member.user)
    response = upload(client, holder_member.organisation, inventory_csv(good_rows(), headers="zh", encoding="gbk"))
    batch = InventoryBatch.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("batch_detail", args=[batch.pk])
    assert batch.status == InventoryBatch.Status.SUCCEEDED and batch.created_count == 3
    status = client.get(reverse("batch_status", args=[batch.pk])).json()
    assert status["finished"] and status["created"] == 3 and status["percent"] == 100
    page = client.get(reverse("batch_detail", args=[batch.pk])).content.decode()
    assert "inventory.csv" in page
    assert Patent.objects.filter(holder=holder_member.organisation).count() == 3


def test_a_rejected_upload_lists_row_column_and_reason_and_writes_nothing(client, holder_member):
    client.force_login(holder_member.user)
    rows = good_rows()
    rows[1]["kind"] = "cosmic ray"
    rows[2]["grant_date"] = "2019-01-01"
    with_lang = client.get("/en/")  # noqa: F841 - the session is English from here on
    upload(client, holder_member.organisation, inventory_csv(rows))
    batch = InventoryBatch.objects.get()
    assert batch.status == InventoryBatch.Status.REJECTED and batch.rejected_count == 2
    assert not Patent.objects.exists()
    errors = {(e["row"], e["column"]) for e in batch.errors_preview}
    assert errors == {(3, "kind"), (4, "grant_date")}
    page = client.get(reverse("batch_detail", args=[batch.pk])).content.decode()
    assert "cosmic ray" in page
    report = client.get(reverse("batch_error_report", args=[batch.pk]))
    assert report.status_code == 200
    body = b"".join(report.streaming_content).decode("utf-8-sig")
    assert body.splitlines()[0] == "row,column,value,reason" and "cosmic ray" in body


def test_partial_upload_imports_the_valid_rows(client, holder_member):
    client.force_login(holder_member.user)
    rows = good_rows()
    rows[0]["ipc"] = "not-an-ipc"
    upload(client, holder_member.organisation, inventory_csv(rows), partial=True)
    batch = InventoryBatch.objects.get()
    assert (batch.created_count, batch.rejected_count) == (2, 1)


def test_an_upload_over_the_web_limit_is_refused_with_its_size(client, holder_member, settings):
    settings.INVENTORY_MAX_UPLOAD_MB = 0
    client.force_login(holder_member.user)
    response = upload(client, holder_member.organisation, inventory_csv(good_rows()))
    assert response.status_code == 200 and not InventoryBatch.objects.exists()


def test_another_holders_member_cannot_see_batches_reports_or_patents(client, holder_member):
    client.force_login(holder_member.user)
    upload(client, holder_member.organisation, inventory_csv([{**good_rows(1)[0], "kind": "?"}]))
    batch = InventoryBatch.objects.get()
    patent = PatentFactory(holder=holder_member.organisation)
    outsider = MembershipFactory(organisation=HolderFactory(), role=MembershipRole.ADMIN)
    client.force_login(outsider.user)
    assert client.get(reverse("batch_detail", args=[batch.pk])).status_code == 404
    assert client.get(reverse("batch_status", args=[batch.pk])).status_code == 404
    assert client.get(reverse("batch_error_report", args=[batch.pk])).status_code == 404
    assert client.get(reverse("patent_detail", args=[patent.pk])).status_code == 404
    assert client.get(reverse("portfolio") + f"?holder={holder_member.organisation.slug}").status_code == 403
    assert upload(client, holder_member.organisation, inventory_csv(good_rows())).status_code == 403
    assert client.post(reverse("patent_grade", args=[patent.pk]), {"grade": "A", "reason": "x"}).status_code == 404


def test_a_licensee_cannot_import(client):
    licensee = MembershipFactory(organisation=OrganisationFactory(), role=MembershipRole.ADMIN)
    client.force_login(licensee.user)
    assert client.get(reverse("inventory_upload")).status_code == 403


def test_anonymous_users_are_sent_to_login(client):
    response = client.get(reverse("portfolio"))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_the_ip_office_reads_a_portfolio_but_cannot_change_it(client, holder_member):
    patent = PatentFactory(holder=holder_member.organisation, title="可被审计的专利")
    staff = MembershipFactory(organisation=IPOfficeFactory())
    client.force_login(staff.user)
    assert "可被审计的专利" in client.get(reverse("portfolio") + f"?holder={holder_member.organisation.slug}").content.decode()
    assert client.get(reverse("patent_detail", args=[patent.pk])).status_code == 200
    assert client.post(reverse("patent_grade", args=[patent.pk]), {"grade": "A", "reason": "x"}).status_code == 404
    patent.refresh_from_db()
    assert patent.grade_override == ""


@pytest.mark.parametrize("value", ["10000", "8000", "-2026", "1e20", "31", "abc"])
def test_an_out_of_range_remaining_life_shows_a_form_error_instead_of_failing(client, holder_member, value):
    PatentFactory(holder=holder_member.organisation, title="固态电池电解质")
    client.force_login(holder_member.user)

    with translation.override("zh-hans"):
        response = client.get(reverse("portfolio"), {"min_remaining_years": value})

    assert response.status_code == 400
    assert list(response.context["filter"].errors) == ["min_remaining_years"]
    page = response.content.decode()
    assert 'class="errorlist' in page and "固态电池电解质" not in page  # a refused filter lists nothing


@pytest.mark.parametrize(("value", "listed"), [("", True), ("0", True), ("30", False)])
def test_an_empty_or_in_range_remaining_life_filters_the_portfolio(client, holder_member, value, listed):
    PatentFactory(holder=holder_member.organisation, title="固态电池电解质")
    client.force_login(holder_member.user)

    response = client.get(reverse("portfolio"), {"min_remaining_years": value})

    assert response.status_code == 200
    assert ("固态电池电解质" in response.content.decode()) is listed


def test_a_holder_slug_with_a_nul_character_is_a_404_not_a_server_error(client, holder_member):
    client.force_login(holder_member.user)

    assert client.get(reverse("portfolio"), {"holder": "demo\x00"}).status_code == 404


@pytest.mark.parametrize(("value", "status"), [("true", 200), ("1", 200), ("unknown", 200), ("abc", 400)])
def test_the_unclassified_filter_takes_yes_or_no_and_refuses_other_words(client, holder_member, value, status):
    PatentFactory(holder=holder_member.organisation, title="固态电池电解质")
    client.force_login(holder_member.user)

    response = client.get(reverse("portfolio"), {"unclassified": value})

    assert response.status_code == status
    assert (list(response.context["filter"].errors) == ["unclassified"]) is (status == 400)


def test_portfolio_filters_by_grade_and_text(client, holder_member):
    PatentFactory(holder=holder_member.organisation, title="固态电池电解质", grade_computed="A")
    PatentFactory(holder=holder_member.organisation, title="风力发电机叶片", grade_computed="D")
    client.force_login(holder_member.user)
    page = client.get(reverse("portfolio"), {"grade": "A"}).content.decode()
    assert "固态电池电解质" in page and "风力发电机叶片" not in page
    page = client.get(reverse("portfolio"), {"q": "风力"}).content.decode()
    assert "风力发电机叶片" in page and "固态电池电解质" not in page


def test_the_holder_overrides_a_grade_with_a_reason_and_it_is_audited(client, holder_member):
    patent = PatentFactory(holder=holder_member.organisation, grade_computed="C")
    client.force_login(holder_member.user)
    client.post(reverse("patent_grade", args=[patent.pk]), {"grade": "A", "reason": ""})
    patent.refresh_from_db()
    assert patent.grade_override == ""  # no reason, no override
    client.post(reverse("patent_grade", args=[patent.pk]), {"grade": "A", "reason": "Core patent of a licensed standard"})
    patent.refresh_from_db()
    assert patent.grade == "A" and patent.grade_computed == "C"
    change = PatentChange.objects.get(patent=patent, action=PatentChange.Action.GRADE_OVERRIDE)
    assert change.by == holder_member.user and change.changes["grade_override"] == ["", "A"]
    page = client.get(reverse("patent_detail", args=[patent.pk])).content.decode()
    assert "Core patent of a licensed standard" in page


def test_regrading_keeps_the_override_and_explains_the_computed_grade(client, holder_member):
    patent = PatentFactory(holder=holder_member.organisation, grade_override="A", grade_override_reason="strategic")
    client.force_login(holder_member.user)
    client.post(reverse("portfolio_regrade"), {"holder": holder_member.organisation.slug})
    patent.refresh_from_db()
    assert patent.grade_override == "A" and patent.graded_at is not None
    assert set(patent.grade_factors) >= {"remaining_life", "legal_status", "claims"}
    page = client.get(reverse("patent_detail", args=[patent.pk])).content.decode()
    assert str(patent.grade_score) in page


def test_the_grade_factors_are_explained_in_their_own_order_whatever_order_they_were_stored_in(db):
    # PostgreSQL's jsonb gives a dict's keys back in its own order (shorter keys first), not as they were written.
    stored = {f.key: {"value": 1.0, "weight": f.weight, "points": f.weight} for f in reversed(FACTORS)}
    patent = PatentFactory(grade_factors=stored)
    patent.refresh_from_db()
    with translation.override("zh-hans"):
        rows = grade_explanation(patent=patent)
    assert [row["key"] for row in rows] == [f.key for f in FACTORS]
    assert rows[0]["label"] == "剩余保护期"


def test_bulk_tagging_only_touches_the_holders_own_patents(client, holder_member):
    own = PatentFactory(holder=holder_member.organisation)
    foreign = PatentFactory()
    client.force_login(holder_member.user)
    client.post(reverse("portfolio"), {"holder": holder_member.organisation.slug, "selected": [own.pk, foreign.pk],
                                       "tag": "储能实验室"})
    assert list(own.tags.names()) == ["储能实验室"]
    assert list(foreign.tags.names()) == []


def test_the_dashboard_leads_a_new_holder_to_the_import(client, holder_member):
    client.force_login(holder_member.user)
    page = client.get(reverse("dashboard")).content.decode()
    assert reverse("inventory_upload") in page
    PatentFactory(holder=holder_member.organisation)
    page = client.get(reverse("dashboard")).content.decode()
    assert reverse("portfolio") in page
