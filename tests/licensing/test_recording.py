"""Contract recording (备案): the three-month deadline, who follows which licences, the status buckets, noting
a recording, and the recording packs as a page, CSV and XLSX."""

import csv
import io
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from licensing.exceptions import NotAllowed
from licensing.models import DeclarationState, FeeForm, RoyaltyBase
from licensing.models.licences import Licence, LicenceState
from licensing.recording.exports import RecordingPackExporter
from licensing.recording.services import (
    RecordingStatus,
    add_months,
    licence_mark_recorded,
    recording_due_on,
    recording_pack,
    recording_status,
    recordings_for,
)
from patents.models import PatentCoOwner, PatentKind
from tests.licensing.factories import DeclarationFactory, LicenceFactory, eligible_patent
from tests.parties.factories import HolderFactory, IPOfficeFactory, MembershipFactory, OrganisationFactory, member

pytestmark = pytest.mark.django_db

_serial = iter(range(1, 10_000))


def at_noon(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(12)))


def make_licence(*, licensor=None, licensee=None, activated_on=date(2025, 1, 15), state=LicenceState.ACTIVE,
                 declaration=None, **overrides) -> Licence:
    """An active licence written straight to the database, as licence_activate leaves one."""
    if declaration is None:
        patent = eligible_patent(**({"holder": licensor} if licensor else {}))
        declaration = DeclarationFactory(patent=patent, state=DeclarationState.ANNOUNCED, announced_on=date(2024, 12, 2),
                                         cnipa_number=f"KFXK2024{next(_serial):06d}")
    licensee = licensee or OrganisationFactory()
    n = next(_serial)
    fields = dict(declaration=declaration, licensee=licensee, state=state, notice_field_of_use="动力电池",
                  notice_submitted_at=at_noon(activated_on),
                  # Taken under CNIPA's announcement of 2024-12-02 (licence_notice_submit would freeze this).
                  basis="statutory" if declaration.announced_on else "platform")
    if state == LicenceState.ACTIVE:
        fields.update(activated_at=at_noon(activated_on), starts_on=activated_on,
                      ends_on=add_months(activated_on, 12 * declaration.duration_years) - timedelta(days=1),
                      certificate_number=f"OL{activated_on:%Y}{n:08d}")
    fields.update(overrides)
    return LicenceFactory(**fields)


def member_of(org):
    return member(org)


@pytest.fixture
def parties():
    """A holder, a licensee, a third licensee and the IP office, with one member each."""
    holder, licensee, third, office = HolderFactory(), OrganisationFactory(), OrganisationFactory(), IPOfficeFactory()
    return {name: (org, member_of(org)) for name, org in
            {"holder": holder, "licensee": licensee, "third": third, "office": office}.items()}


def listed(user, **params):
    return [row.licence for row in recordings_for(user, today=date(2025, 2, 1), params=params)]


# The deadline rule ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("activated", "due"), [
    (date(2025, 1, 15), date(2025, 4, 15)),
    (date(2024, 11, 30), date(2025, 2, 28)),  # no 30 February: the last day of the month
    (date(2023, 11, 30), date(2024, 2, 29)),  # leap year
    (date(2025, 1, 31), date(2025, 4, 30)),
    (date(2025, 10, 31), date(2026, 2, 2)),  # across the year end; 31 January 2026 is a Saturday (art. 203)
    (date(2025, 7, 1), date(2025, 10, 9)),  # 1 October 2025 opens the National Day holiday (1-8 October)
    (date(2025, 11, 16), date(2026, 2, 24)),  # 16 February 2026 is in the Spring Festival holiday (15-23 Feb)
    (date(2025, 10, 4), date(2026, 1, 4)),  # Sunday 4 January 2026 is an adjusted working day: it stays
    (date(2025, 11, 14), date(2026, 2, 14)),  # so is Saturday 14 February 2026
])
def test_a_licence_is_due_for_recording_three_months_after_it_took_effect(activated, due):
    # 专利实施许可合同备案办法 (2011) art. 5: three months from taking effect, counted per Civil Code arts. 202-203.
    assert recording_due_on(make_licence(activated_on=activated)) == due


def test_the_activation_day_is_taken_in_the_sites_time_zone():
    # 17:30 UTC on 14 January is 01:30 on 15 January in Beijing.
    licence = make_licence(activated_at=datetime(2025, 1, 14, 17, 30, tzinfo=UTC))
    assert recording_due_on(licence) == date(2025, 4, 15)


def test_a_licence_that_has_not_taken_effect_has_no_deadline():
    with pytest.raises(ValueError):
        recording_due_on(make_licence(state=LicenceState.PAYMENT_PENDING))


def test_status_buckets_are_overdue_due_soon_open_and_recorded():
    # Issue 19 changes the deadline (Civil Code art. 203): 1 June 2025 was a Sunday inside the Dragon Boat
    # holiday (31 May - 2 June), so a licence that took effect on 1 March is due on Tuesday 3 June.
    today = date(2025, 6, 3)
    overdue = make_licence(activated_on=date(2025, 2, 28))  # due 28 May (a Wednesday)
    due_today = make_licence(activated_on=date(2025, 3, 1))  # 1 June, a holiday: due 3 June, still on time
    due_in_30_days = make_licence(activated_on=date(2025, 4, 3))  # due 3 July
    open_ = make_licence(activated_on=date(2025, 4, 4))  # due 4 July
    recorded = make_licence(activated_on=date(2025, 1, 2), recording_number="2025990000123",
                            recorded_on=date(2025, 3, 1))
    expected = {overdue: RecordingStatus.OVERDUE, due_today: RecordingStatus.DUE_SOON,
                due_in_30_days: RecordingStatus.DUE_SOON, open_: RecordingStatus.OPEN,
                recorded: RecordingStatus.RECORDED}
    assert {licence: recording_status(licence, today=today) for licence in expected} == expected

    office = member_of(IPOfficeFactory())
    result = recordings_for(office, today=today)
    assert {row.licence: row.status for row in result} == expected
    assert [row.licence for row in result] == [overdue, due_today, due_in_30_days, open_, recorded]  # most urgent first
    assert result.counts == {"overdue": 1, "due_soon": 2, "open": 1, "recorded": 1}
    rows = {row.licence: row for row in result}
    assert (rows[overdue].days_overdue, rows[due_today].days_left, rows[due_in_30_days].days_left) == (6, 0, 30)
    assert [row.licence for row in recordings_for(office, today=today, params={"status": "due_soon"})] == [
        due_today, due_in_30_days]


def test_the_database_buckets_agree_with_the_rule_around_month_ends():
    days = [date(2024, 11, 28), date(2024, 11, 29), date(2024, 11, 30), date(2024, 12, 1), date(2024, 12, 31),
            date(2025, 1, 1), date(2025, 1, 30), date(2025, 1, 31), date(2025, 2, 1)]
    licences = [make_licence(activated_on=day) for day in days]
    office = member_of(IPOfficeFactory())
    today = date(2025, 1, 20)
    while today <= date(2025, 5, 10):
        by_db = {row.licence.pk: row.status for row in recordings_for(office, today=today)}
        assert by_db == {licence.pk: recording_status(licence, today=today) for licence in licences}, today
        today += timedelta(days=1)


# Who sees which licences ----------------------------------------------------------------------------------

def test_each_party_sees_its_licences_the_ip_office_all_and_a_third_organisation_none(parties):
    holder, holder_user = parties["holder"]
    licensee, licensee_user = parties["licensee"]
    ours = make_licence(licensor=holder, licensee=licensee)
    elsewhere = make_licence()
    make_licence(licensor=holder, licensee=licensee, state=LicenceState.PAYMENT_PENDING)  # not in effect: no deadline

    assert listed(holder_user) == [ours]
    assert listed(licensee_user) == [ours]
    assert set(listed(parties["office"][1])) == {ours, elsewhere}
    assert listed(parties["third"][1]) == []


def test_a_third_organisation_gets_not_found_for_a_licences_recording(client, parties):
    licence = make_licence(licensor=parties["holder"][0], licensee=parties["licensee"][0])
    client.force_login(parties["third"][1])
    assert client.get(reverse("licence_recording", args=[licence.pk])).status_code == 404
    assert client.get(reverse("licence_recording_export", kwargs={"pk": licence.pk, "fmt": "csv"})).status_code == 404
    response = client.post(reverse("licence_recording", args=[licence.pk]),
                           {"recording_number": "X1", "recorded_on": "2025-02-01"})
    assert response.status_code == 404
    licence.refresh_from_db()
    assert licence.recorded_on is None


def test_the_side_filter_separates_licences_granted_from_licences_taken(parties):
    holder, user = parties["holder"]
    also_licensee = parties["third"][0]
    MembershipFactory(user=user, organisation=also_licensee)
    granted = make_licence(licensor=holder)
    taken = make_licence(licensee=also_licensee)
    assert set(listed(user)) == {granted, taken}
    assert listed(user, side="granted") == [granted]
    assert listed(user, side="taken") == [taken]


def test_the_list_page_shows_deadlines_and_filters_by_status(client, parties):
    holder, user = parties["holder"]
    today = timezone.localdate()
    late = make_licence(licensor=holder, activated_on=today - timedelta(days=120))
    fresh = make_licence(licensor=holder, activated_on=today)
    client.force_login(user)
    response = client.get(reverse("recording_list"))
    assert response.status_code == 200
    assert [row.licence for row in response.context["rows"]] == [late, fresh]
    content = response.content.decode()
    assert late.certificate_number in content and "Overdue" in content
    assert recording_due_on(fresh).isoformat() in content
    response = client.get(reverse("recording_list"), {"status": "overdue"})
    assert [row.licence for row in response.context["rows"]] == [late]


def test_the_recording_pages_need_a_login(client):
    response = client.get(reverse("recording_list"))
    assert response.status_code == 302 and "login" in response["Location"]


# Marking a licence recorded -------------------------------------------------------------------------------

def test_a_member_of_the_licensee_marks_the_licence_recorded_and_it_shows_as_recorded(client, parties):
    licence = make_licence(licensor=parties["holder"][0], licensee=parties["licensee"][0],
                           activated_on=timezone.localdate() - timedelta(days=10))
    user = parties["licensee"][1]
    client.force_login(user)
    url = reverse("licence_recording", args=[licence.pk])
    day = timezone.localdate() - timedelta(days=1)
    response = client.post(url, {"recording_number": " 2025990000456 ", "recorded_on": day.isoformat()})
    assert response.status_code == 302 and response["Location"] == url
    licence.refresh_from_db()
    assert (licence.recording_number, licence.recorded_on, licence.recorded_by) == ("2025990000456", day, user)
    page = client.get(url)
    assert page.context["row"].status == RecordingStatus.RECORDED
    assert "2025990000456" in page.content.decode()
    assert [row.status for row in recordings_for(parties["holder"][1])] == [RecordingStatus.RECORDED]


def test_a_member_of_the_licensor_may_mark_it_recorded_too(parties):
    licence = make_licence(licensor=parties["holder"][0], activated_on=date(2025, 1, 15))
    licence_mark_recorded(licence=licence, recording_number="2025990000789", recorded_on=date(2025, 2, 3),
                          by=parties["holder"][1])
    licence.refresh_from_db()
    assert licence.recorded_on == date(2025, 2, 3)


def test_only_members_of_the_parties_may_mark_a_licence_recorded(client, parties):
    licence = make_licence(licensor=parties["holder"][0], licensee=parties["licensee"][0])
    for name in ("office", "third"):
        with pytest.raises(NotAllowed):
            licence_mark_recorded(licence=licence, recording_number="1", recorded_on=date(2025, 2, 1),
                                  by=parties[name][1])
    client.force_login(parties["office"][1])
    url = reverse("licence_recording", args=[licence.pk])
    page = client.get(url)
    assert page.status_code == 200 and page.context["can_record"] is False  # the IP office reads the pack
    assert client.post(url, {"recording_number": "1", "recorded_on": "2025-02-01"}).status_code == 403
    licence.refresh_from_db()
    assert licence.recorded_on is None


@pytest.mark.parametrize(("number", "recorded_on", "field"), [
    ("", date(2025, 2, 1), "recording_number"),
    ("   ", date(2025, 2, 1), "recording_number"),
    ("2025990000001", date(2025, 1, 14), "recorded_on"),  # the day before the licence took effect
    ("2025990000001", None, "recorded_on"),
])
def test_a_recording_needs_a_number_and_a_date_since_the_licence_took_effect(parties, number, recorded_on, field):
    licence = make_licence(licensor=parties["holder"][0], activated_on=date(2025, 1, 15))
    with pytest.raises(ValidationError) as exc:
        licence_mark_recorded(licence=licence, recording_number=number, recorded_on=recorded_on,
                              by=parties["holder"][1])
    assert field in exc.value.message_dict
    licence.refresh_from_db()
    assert licence.recorded_on is None and licence.recording_number == ""


def test_a_recording_date_in_the_future_is_refused(client, parties):
    licence = make_licence(licensor=parties["holder"][0], activated_on=timezone.localdate() - timedelta(days=5))
    tomorrow = timezone.localdate() + timedelta(days=1)
    with pytest.raises(ValidationError) as exc:
        licence_mark_recorded(licence=licence, recording_number="1", recorded_on=tomorrow, by=parties["holder"][1])
    assert "recorded_on" in exc.value.message_dict
    client.force_login(parties["holder"][1])
    response = client.post(reverse("licence_recording", args=[licence.pk]),
                           {"recording_number": "1", "recorded_on": tomorrow.isoformat()})
    assert response.status_code == 200
    # Issue 19: the refusal names its rule and source (the platform's own rule).
    assert response.context["form"].errors["recorded_on"] == [
        "The recording date cannot be in the future. (rule recording_details: Platform rule (no statutory source))"]


def test_marking_again_with_the_same_values_changes_nothing_and_other_values_are_refused(parties):
    licence = make_licence(licensor=parties["holder"][0], licensee=parties["licensee"][0],
                           activated_on=date(2025, 1, 15))
    first = parties["holder"][1]
    licence_mark_recorded(licence=licence, recording_number="2025990000001", recorded_on=date(2025, 2, 1), by=first)
    again = licence_mark_recorded(licence=licence, recording_number="2025990000001", recorded_on=date(2025, 2, 1),
                                  by=parties["licensee"][1])
    assert again.recorded_by == first
    with pytest.raises(ValidationError):
        licence_mark_recorded(licence=licence, recording_number="2025990000002", recorded_on=date(2025, 2, 1),
                              by=first)
    licence.refresh_from_db()
    assert (licence.recording_number, licence.recorded_by) == ("2025990000001", first)


# The recording pack and its exports -----------------------------------------------------------------------

def test_the_pack_holds_what_the_recording_form_asks_for(parties):
    holder, licensee = parties["holder"][0], parties["licensee"][0]
    patent = eligible_patent(holder=holder, kind=PatentKind.INVENTION)
    PatentCoOwner.objects.create(patent=patent, name="某某研究院")
    declaration = DeclarationFactory(patent=patent, state=DeclarationState.ANNOUNCED, announced_on=date(2024, 12, 2),
                                     cnipa_number="KFXK2024000042", fee_form=FeeForm.ENTRY_PLUS_ROYALTY,
                                     lump_sum_fen=None, entry_fee_fen=1_234_567, royalty_rate=Decimal("3.50"),
                                     royalty_base=RoyaltyBase.NET_SALES, annual_minimum_fen=100_000)
    licence = make_licence(declaration=declaration, licensee=licensee, activated_on=date(2025, 1, 15),
                           notice_submitted_at=at_noon(date(2025, 1, 14)))
    pack = recording_pack(licence)
    assert pack["patent_number"] == patent.number and pack["patent_title"] == patent.title
    assert pack["patent_kind"] == "Invention"
    assert (pack["patentee_name"], pack["patentee_uscc"]) == (holder.name_zh, holder.uscc)
    assert pack["co_patentees"] == "某某研究院"
    assert (pack["licensee_name"], pack["licensee_uscc"]) == (licensee.name_zh, licensee.uscc)
    assert pack["licence_type"] == "Non-exclusive licence (open licence)"
    assert (pack["licence_starts_on"], pack["licence_ends_on"]) == (date(2025, 1, 15), date(2028, 1, 14))
    assert pack["entry_fee_yuan"] == Decimal("12345.67") and pack["lump_sum_yuan"] is None
    assert (pack["royalty_rate_percent"], pack["annual_minimum_yuan"]) == (Decimal("3.50"), Decimal("1000.00"))
    assert pack["royalty_base"] == "net sales"
    assert pack["way_of_payment"] == declaration.payment_method
    assert pack["declaration_announcement_number"] == "KFXK2024000042"
    assert pack["certificate_number"] == licence.certificate_number
    assert (pack["contract_date"], pack["effective_date"]) == (date(2025, 1, 14), date(2025, 1, 15))


def test_the_pack_page_lists_the_form_data(client, parties):
    licence = make_licence(licensor=parties["holder"][0], licensee=parties["licensee"][0])
    client.force_login(parties["holder"][1])
    response = client.get(reverse("licence_recording", args=[licence.pk]))
    content = response.content.decode()
    assert response.status_code == 200 and response.context["can_record"] is True
    for text in (licence.patent.number, licence.licensor.uscc, licence.notice_uscc, "50000.00",
                 licence.declaration.cnipa_number, "Non-exclusive licence (open licence)"):
        assert text in content


def test_a_licence_not_yet_in_effect_has_no_recording_page(client, parties):
    licence = make_licence(licensor=parties["holder"][0], state=LicenceState.PAYMENT_PENDING)
    client.force_login(parties["holder"][1])
    assert client.get(reverse("licence_recording", args=[licence.pk])).status_code == 404


def read_csv(response):
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_the_csv_export_has_one_row_per_listed_licence(client, parties):
    holder, user = parties["holder"]
    first = make_licence(licensor=holder, activated_on=timezone.localdate() - timedelta(days=100))
    second = make_licence(licensor=holder, activated_on=timezone.localdate())
    make_licence()  # another holder's: not listed
    client.force_login(user)
    response = client.get(reverse("recording_export", kwargs={"fmt": "csv"}))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert f'filename="recordings-{timezone.localdate().isoformat()}.csv"' in response["Content-Disposition"]
    rows = read_csv(response)
    assert list(rows[0]) == list(RecordingPackExporter.header)
    assert list(rows[0])[:3] == ["patent_number", "patent_title", "patent_kind"]
    assert [r["certificate_number"] for r in rows] == [first.certificate_number, second.certificate_number]
    assert rows[0]["recording_status"] == "overdue" and rows[1]["recording_status"] == "open"
    assert rows[0]["lump_sum_yuan"] == "50000.00"
    assert rows[1]["recording_due_on"] == recording_due_on(second).isoformat()

    only_overdue = read_csv(client.get(reverse("recording_export", kwargs={"fmt": "csv"}), {"status": "overdue"}))
    assert [r["certificate_number"] for r in only_overdue] == [first.certificate_number]


def test_exports_neutralise_a_licensee_name_a_spreadsheet_would_run_as_a_formula(client, parties):
    evil = '=HYPERLINK("http://x.example","点我")'
    licence = make_licence(licensor=parties["holder"][0], notice_legal_name=evil)
    licence.declaration.payment_method = "@SUM(1+1)"
    licence.declaration.save()
    client.force_login(parties["holder"][1])
    rows = read_csv(client.get(reverse("recording_export", kwargs={"fmt": "csv"})))
    assert rows[0]["licensee_name"] == "'" + evil and rows[0]["way_of_payment"] == "'@SUM(1+1)"
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row.values())

    response = client.get(reverse("licence_recording_export", kwargs={"pk": licence.pk, "fmt": "xlsx"}))
    sheet = openpyxl.load_workbook(io.BytesIO(response.content))["recordings"]
    column = RecordingPackExporter.header.index("licensee_name") + 1
    cell = sheet.cell(row=2, column=column)
    assert cell.value == "'" + evil and cell.data_type == "s"  # text, not a formula


def test_one_licences_pack_downloads_as_xlsx_that_openpyxl_reads(client, parties):
    licence = make_licence(licensor=parties["holder"][0], licensee=parties["licensee"][0],
                           activated_on=date(2025, 1, 15))
    client.force_login(parties["licensee"][1])
    response = client.get(reverse("licence_recording_export", kwargs={"pk": licence.pk, "fmt": "xlsx"}))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert f'filename="recording-{licence.certificate_number}.xlsx"' in response["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["recordings", "columns"]
    values = list(book["recordings"].iter_rows(values_only=True))
    assert list(values[0]) == list(RecordingPackExporter.header) and len(values) == 2
    row = dict(zip(values[0], values[1], strict=True))
    assert row["patent_number"] == licence.patent.number
    assert row["lump_sum_yuan"] == 50000 and row["certificate_number"] == licence.certificate_number
    assert row["licence_starts_on"].date() == date(2025, 1, 15)
    assert row["recording_due_on"].date() == date(2025, 4, 15)
    legend = dict(book["columns"].iter_rows(min_row=2, values_only=True))
    assert legend["licensee_uscc"] == "Licensee's unified social credit code"

    csv_rows = read_csv(client.get(reverse("licence_recording_export", kwargs={"pk": licence.pk, "fmt": "csv"})))
    assert len(csv_rows) == 1 and csv_rows[0]["licensee_uscc"] == licence.notice_uscc


def test_an_invalid_filter_is_refused_for_export_and_an_unknown_format_is_not_found(client, parties):
    client.force_login(parties["holder"][1])
    assert client.get(reverse("recording_export", kwargs={"fmt": "csv"}), {"status": "bogus"}).status_code == 400
    assert client.get(reverse("recording_list") + "export.pdf").status_code == 404
