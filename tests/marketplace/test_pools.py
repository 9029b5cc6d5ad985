"""The securitization pool builder on a small market whose every figure is computed by hand below.

Cut-off 2025-07-30, discount rate 10% a year. Licence years end on the day before each anniversary; a
year's royalties are paid 30 days after it ends; only years paid after the cut-off are scheduled.

    A  holder H1, licensee L1, field 1, grade A, royalty 5%, 2024-07-01 .. 2027-06-30, no minimum
       reports 2024-07..12 (184 d) 18,400,000 and 2025-01..06 (181 d) 18,100,000: 100,000 fen a day; both paid
       year 1 paid 2025-07-30 = cut-off: not scheduled
       year 2 (2025-07-01..2026-06-30, 365 d) 100,000 × 365 × 5% = 1,825,000, paid 2026-07-30 (365 d)
       year 3 (2026-07-01..2027-06-30, 365 d) 1,825,000, paid 2027-07-30 (730 d)
       DCF 1,825,000 / 1.1 = 1,659,090.91 → 1,659,091; 1,825,000 / 1.21 = 1,508,264.46 → 1,508,264; 3,167,355
       collected 920,000 + 905,000 = 1,825,000
    B  holder H1, licensee L3, field 1, grade B, entry 1,000,000 + 2% royalty, minimum 500,000, no reports;
       patent filed 2006-03-01 expires 2026-02-28 (term end, before the licence's 2026-08-31), pledged
       year 1 (to 2025-08-31): max(0, 500,000) = 500,000; year 2 cut short at 2026-02-28: 500,000 → 1,000,000
    C  lump sum 3,000,000 paid up front: nothing left to receive (excluded)
    D  holder H2, licensee L2, field 6, grade C, royalty 4%, minimum 200,000 paid at notice (credit)
       report 2025-01..03 (90 d) 9,000,000: 100,000 a day; royalty 360,000 − credit 200,000 = 160,000
       invoiced, due 2025-04-30, unpaid → arrears 160,000, 91 days past due
       year 1: 360,000 + 275 d × 100,000 × 4% (1,100,000) = 1,460,000 − credit 200,000 − invoiced 160,000
       = 1,100,000; year 2: 365 × 4,000 = 1,460,000 → 2,560,000
    E  holder H2, licensee L1, field 6, grade B, royalty 5%, report 2025-01..06 (181 d) 3,620,000: 20,000 a
       day, royalty 181,000 paid; year 1: 181,000 + 184 × 1,000 − 181,000 = 184,000; year 2: 365,000 → 549,000

    pool (no caps): A, B, D, E; total 7,759,000
    by licensee L1 4,199,000, L2 2,560,000, L3 1,000,000: HHI = (4199² + 2560² + 1000²) / 7759² × 10,000
        = 25,185,201 / 60,202,081 × 10,000 = 4,183.44
    by holder H1 4,650,000, H2 3,109,000: HHI = 5,197.23 (fields 1 and 6 split the same way)
    remaining term at cut-off: A 23 months, B 7 (the 30th's anniversary in February is the 28th), D 17, E 17
        WAL = (3,650,000×23 + 1,000,000×7 + 2,560,000×17 + 549,000×17) / 7,759,000 / 12 = 1.5445 → 1.54 years
    licensee cap 52%: L1 holds 54.12% → gives up its smallest exposure, E; then L1 50.62%, L2 35.51%: A, B, D
    holder cap 55%: H1 holds 59.93% → gives up B; then H1 54.00%: A, D, E
"""

import csv
import io
import zipfile
from datetime import date, timedelta
from decimal import Decimal

import openpyxl
import pyarrow.parquet as pq
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

from licensing.models.licences import Licence
from marketplace.exceptions import TamperedPool
from marketplace.models.pools import Pool, PoolExport
from marketplace.pools import services as pools
from marketplace.pools.exports import PoolTapeExporter, tape_filename
from tests.marketplace.factories_pools import active_licence, build_pool_market, report
from tests.parties.factories import HolderFactory, IPOfficeFactory, MembershipFactory, OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db
CUT_OFF = date(2025, 7, 30)


@pytest.fixture
def market():
    return build_pool_market()


@pytest.fixture
def officer():
    return MembershipFactory(organisation=IPOfficeFactory()).user


def make_pool(officer, **criteria):
    criteria.setdefault("discount_rate", Decimal("10"))
    return pools.pool_create(by=officer, name="2025 试点池", cut_off_date=CUT_OFF, **criteria)


def by_letter(tape, licences):
    ids = {lic.pk: letter for letter, lic in licences.items()}
    return {ids[row["licence_id"]]: row for row in tape.tape}


def test_the_tape_of_the_hand_computed_market(officer, market):
    licences, parties = market
    tape = pools.pool_preview(pool=make_pool(officer))
    rows = by_letter(tape, licences)
    assert sorted(rows) == ["A", "B", "D", "E"]
    assert [(f.licence_id, reason) for f, reason in tape.excluded] == [(licences["C"].pk, "nothing_to_receive")]
    assert {k: r["scheduled_receivables_fen"] for k, r in rows.items()} == {
        "A": 3_650_000, "B": 1_000_000, "D": 2_560_000, "E": 549_000}
    flows = [(f["period_number"], f["scheduled_fen"], f["days_from_cut_off"], f["present_value_fen"])
             for f in tape.schedule if f["licence_id"] == licences["A"].pk]
    assert flows == [(2, 1_825_000, 365, 1_659_091), (3, 1_825_000, 730, 1_508_264)]
    assert rows["A"]["dcf_value_fen"] == 3_167_355
    assert [(f["period_end"], f["scheduled_fen"]) for f in tape.schedule if f["licence_id"] == licences["B"].pk] == [
        ("2025-08-31", 500_000), ("2026-02-28", 500_000)]
    assert (rows["A"]["collected_to_date_fen"], rows["D"]["collected_to_date_fen"]) == (1_825_000, 200_000)
    assert (rows["D"]["arrears_fen"], rows["D"]["days_past_due"]) == (160_000, 91)
    assert (rows["A"]["arrears_fen"], rows["A"]["days_past_due"]) == (0, 0)
    assert rows["B"]["term_end_date"] == "2026-02-28" and rows["B"]["pledged"] and not rows["A"]["pledged"]
    assert rows["A"]["recorded"] and not rows["B"]["recorded"] and rows["A"]["open_licence_declared"]
    assert rows["A"]["licensee_region"] == "江苏省" and rows["A"]["licensee_size"] == "ND1"
    assert rows["A"]["projected_daily_base_fen"] == "100000.00" and rows["A"]["royalty_rate_percent"] == "5.00"
    assert rows["A"]["exposure_id"] == f"{tape.pool_code}-000001"

    summary = tape.summary()
    assert (summary.exposures, summary.licensees, summary.holders, summary.scheduled_fen) == (4, 3, 2, 7_759_000)
    assert summary.hhi == {"licensee": Decimal("4183.44"), "holder": Decimal("5197.23"),
                           "technology_field": Decimal("5197.23")}
    assert summary.wal_years == Decimal("1.54")
    assert rows["B"]["remaining_term_months"] == 7 and rows["A"]["remaining_term_months"] == 23
    assert summary.arrears_fen == 160_000
    assert [t["exposure_fen"] for t in summary.top] == [3_650_000, 2_560_000, 1_000_000, 549_000]
    assert summary.top[0]["share_percent"] == Decimal("47.04")  # 3,650,000 / 7,759,000


def test_the_discount_factor_and_the_hhi_on_round_numbers():
    assert pools.discount_factor(365, Decimal(10)) == Decimal("0.9090909091")
    assert pools.discount_factor(730, Decimal(10)) == Decimal("0.8264462810")
    assert pools.discount_factor(0, Decimal(10)) == Decimal(1)
    assert pools.hhi([50, 50]) == Decimal("5000.00") and pools.hhi([7]) == Decimal("10000.00")


def test_criteria_select_by_grade_field_remaining_life_and_payment_history(officer, market):
    licences, parties = market
    f = active_licence(holder=parties["H2"], licensee=OrganisationFactory(), starts_on=date(2025, 1, 1),
                       ends_on=date(2026, 12, 31), royalty_rate=Decimal("3.00"), annual_minimum_fen=None)

    def chosen(**criteria):
        tape = pools.pool_preview(pool=make_pool(officer, **criteria))
        reasons = {x.licence_id: r for x, r in tape.excluded}
        return sorted(by_letter(tape, licences)), reasons

    selected, reasons = chosen()
    assert selected == ["A", "B", "D", "E"] and reasons[f.pk] == "no_payment_history"
    selected, reasons = chosen(require_payment_history=False)
    assert reasons[f.pk] == "nothing_to_receive"  # no report and no minimum: nothing can be projected
    selected, reasons = chosen(grades=["A"])
    assert selected == ["A"] and reasons[licences["B"].pk] == "grade"
    selected, reasons = chosen(technology_fields=[6])
    assert selected == ["D", "E"] and reasons[licences["A"].pk] == "technology_field"
    selected, reasons = chosen(min_remaining_life_years=1)
    assert selected == ["A", "D", "E"] and reasons[licences["B"].pk] == "remaining_life"


def test_concentration_caps_drop_the_smallest_exposure_of_the_group_furthest_over(officer, market):
    licences, _parties = market
    tape = pools.pool_preview(pool=make_pool(officer, max_licensee_share=Decimal("52")))
    assert sorted(by_letter(tape, licences)) == ["A", "B", "D"]
    assert (licences["E"].pk, "licensee_cap") in [(f.licence_id, r) for f, r in tape.excluded]
    tape = pools.pool_preview(pool=make_pool(officer, max_holder_share=Decimal("55")))
    assert sorted(by_letter(tape, licences)) == ["A", "D", "E"]
    assert tape.excluded_counts == {"nothing_to_receive": 1, "holder_cap": 1}
    # A cap nobody can meet with three licensees empties the pool rather than breaking the rule.
    tape = pools.pool_preview(pool=make_pool(officer, max_licensee_share=Decimal("30")))
    assert tape.tape == []


def test_freezing_snapshots_the_rows_seals_them_and_is_harmless_to_repeat(officer, market):
    licences, _parties = market
    pool = make_pool(officer)
    live = pools.pool_preview(pool=pool)
    frozen = pools.pool_freeze(pool=pool, by=officer)
    assert frozen.is_frozen and len(frozen.content_sha256) == 64 and frozen.exposures.count() == 4
    again = pools.pool_freeze(pool=frozen, by=officer)
    assert again.content_sha256 == frozen.content_sha256 and again.exposures.count() == 4
    # Later data (a new report on E) changes the live computation but not the frozen pool.
    report(licences["E"], start=date(2025, 7, 1), end=date(2025, 9, 30), base_fen=9_200_000, royalty_fen=460_000,
           due_fen=460_000, due_on=date(2025, 10, 30), paid_on=date(2025, 10, 20))
    sealed = pools.pool_preview(pool=frozen)
    assert [r["scheduled_receivables_fen"] for r in sealed.tape] == [r["scheduled_receivables_fen"] for r in live.tape]
    with pytest.raises(ValidationError):
        pools.pool_update_criteria(pool=frozen, by=officer, grades=["A"])
    # Tampering with a stored row is detected by the content hash.
    exposure = frozen.exposures.first()
    exposure.tape = {**exposure.tape, "dcf_value_fen": 1}
    exposure.save()
    with pytest.raises(TamperedPool):
        pools.pool_frozen_tape(pool=frozen)


def test_bad_criteria_and_other_users_are_refused(officer, market):
    with pytest.raises(ValidationError) as error:
        make_pool(officer, grades=["E"])
    assert "grades" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        pools.pool_create(by=officer, name="x", cut_off_date=date.today() + timedelta(days=2))
    assert "cut_off_date" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        make_pool(officer, max_licensee_share=Decimal("120"))
    assert "max_licensee_share" in error.value.message_dict
    with pytest.raises(PermissionDenied):
        pools.pool_create(by=MembershipFactory().user, name="x", cut_off_date=CUT_OFF)
    empty = make_pool(officer, technology_fields=[35])
    with pytest.raises(ValidationError):
        pools.pool_freeze(pool=empty, by=officer)
    assert Pool.objects.get(pk=empty.pk).state == Pool.State.DRAFT


def _archive(content: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_a_frozen_pool_exports_identical_bytes_twice_in_every_format(officer, market):
    pool = pools.pool_freeze(pool=make_pool(officer), by=officer)
    for fmt in ("csv", "xlsx", "parquet"):
        first = PoolTapeExporter(pools.pool_frozen_tape(pool=pool)).render(fmt).content
        second = PoolTapeExporter(pools.pool_frozen_tape(pool=Pool.objects.get(pk=pool.pk))).render(fmt).content
        assert first == second, fmt
    parts = _archive(PoolTapeExporter(pools.pool_frozen_tape(pool=pool)).render("parquet").content)
    assert sorted(parts) == ["cash_flows.parquet", "summary.parquet", "tape.parquet"]
    table = pq.read_table(io.BytesIO(parts["tape.parquet"]))
    assert table.num_rows == 4 and str(table.schema.field("dcf_value_fen").type) == "int64"
    assert str(table.schema.field("expiry_date").type) == "date32[day]"
    assert sum(table.column("scheduled_receivables_fen").to_pylist()) == 7_759_000
    assert pq.read_table(io.BytesIO(parts["cash_flows.parquet"])).num_rows == 8
    csv_parts = _archive(PoolTapeExporter(pools.pool_frozen_tape(pool=pool)).render("csv").content)
    summary = {(r["section"], r["item"]): r["value"]
               for r in csv.DictReader(io.StringIO(csv_parts["summary.csv"].decode("utf-8-sig")))}
    assert summary[("hhi", "licensee")] == "4183.44" and summary[("pool", "content_sha256")] == pool.content_sha256
    tape_rows = list(csv.DictReader(io.StringIO(csv_parts["tape.csv"].decode("utf-8-sig"))))
    assert [int(r["scheduled_receivables_fen"]) for r in tape_rows] == [3_650_000, 1_000_000, 2_560_000, 549_000]
    assert tape_rows[0]["technology_field"] == "1" and tape_rows[0]["expiry_date"] == "2035-02-28"
    workbook = openpyxl.load_workbook(io.BytesIO(PoolTapeExporter(pools.pool_frozen_tape(pool=pool)).render("xlsx").content))
    assert workbook.sheetnames == ["tape", "cash_flows", "summary"]
    assert workbook["tape"].max_row == 5 and workbook["cash_flows"].max_row == 9


def test_formula_cells_are_neutralised_in_csv_and_xlsx(officer, market):
    licences, _parties = market
    Licence.objects.filter(pk=licences["A"].pk).update(notice_field_of_use='=HYPERLINK("http://x.test","y")')
    pool = pools.pool_freeze(pool=make_pool(officer), by=officer)
    exporter = PoolTapeExporter(pools.pool_frozen_tape(pool=pool))
    tape_csv = list(csv.DictReader(io.StringIO(_archive(exporter.render("csv").content)["tape.csv"].decode("utf-8-sig"))))
    assert tape_csv[0]["licensee_industry"] == """'=HYPERLINK("http://x.test","y")"""
    sheet = openpyxl.load_workbook(io.BytesIO(exporter.render("xlsx").content))["tape"]
    column = [c.value for c in sheet[1]].index("licensee_industry") + 1
    assert sheet.cell(row=2, column=column).value.startswith("'=")
    assert sheet.cell(row=2, column=column).data_type == "s"


def test_the_export_command_writes_each_format(officer, market, tmp_path):
    pool = pools.pool_freeze(pool=make_pool(officer), by=officer)
    for fmt in ("csv", "xlsx", "parquet"):
        out = tmp_path / f"tape.{fmt}"
        stdout = io.StringIO()
        call_command("export_pool", pool.code, "--format", fmt, "--out", str(out), "--no-progress", stdout=stdout)
        assert "4 exposures, 8 cash-flow rows" in stdout.getvalue()
        assert out.read_bytes() == PoolTapeExporter(pools.pool_frozen_tape(pool=pool)).render(fmt).content
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="no pool"):
        call_command("export_pool", "999999", "--format", "csv", "--out", str(tmp_path / "x.csv"))


# --- through HTTP ---------------------------------------------------------------------------------------

def _url(name, *args):
    with translation.override("en"):
        return reverse(name, args=args)


def test_only_the_ip_office_reaches_the_pool_pages(client, officer, market):
    licences, parties = market
    pool = make_pool(officer)
    pages = [_url("pool_list"), _url("pool_new"), _url("pool_detail", pool.pk)]
    for page in pages:
        assert client.get(page).status_code == 302  # anonymous: to the login page
    holder_user = MembershipFactory(organisation=parties["H1"]).user
    licensee_user = MembershipFactory(organisation=parties["L1"]).user
    for user in (holder_user, licensee_user):
        client.force_login(user)
        for page in pages:
            assert client.get(page).status_code == 404
        assert client.post(_url("pool_freeze", pool.pk)).status_code == 404
        assert client.post(_url("pool_export", pool.pk, "csv")).status_code == 404
    assert Pool.objects.get(pk=pool.pk).state == Pool.State.DRAFT
    client.force_login(officer)
    for page in pages:
        assert client.get(page).status_code == 200


def test_the_ip_office_builds_freezes_and_downloads_a_pool(client, officer, market, django_capture_on_commit_callbacks):
    client.force_login(officer)
    response = client.post(_url("pool_new"), {"name": "", "cut_off_date": "2025-07-30", "discount_rate": "10"})
    assert response.status_code == 400 and "This field is required" in response.content.decode()
    response = client.post(_url("pool_new"), {
        "name": "江苏试点", "cut_off_date": "2025-07-30", "discount_rate": "10", "grades": ["A", "B", "C"],
        "min_remaining_life_years": "0", "require_payment_history": "on", "max_licensee_share": "",
        "max_holder_share": ""})
    pool = Pool.objects.get(name="江苏试点")
    assert response.status_code == 302 and response["Location"] == _url("pool_detail", pool.pk)
    body = client.get(_url("pool_detail", pool.pk)).content.decode()
    assert 'data-figure="exposures">4<' in body and 'data-figure="hhi_licensee">4183.44<' in body
    assert "Nothing left to receive" in body
    client.post(_url("pool_freeze", pool.pk))
    pool.refresh_from_db()
    assert pool.is_frozen and pool.content_sha256 in client.get(_url("pool_detail", pool.pk)).content.decode()
    for fmt in ("csv", "xlsx", "parquet"):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(_url("pool_export", pool.pk, fmt))
        export = PoolExport.objects.get(pool=pool, fmt=fmt)
        assert response["Location"] == _url("pool_export_status", export.pk)
        status = client.get(response["Location"]).content.decode()
        assert export.sha256 and "Ready" in status
        download = client.get(_url("pool_export_download", export.pk))
        content = b"".join(download.streaming_content)
        assert content == PoolTapeExporter(pools.pool_frozen_tape(pool=pool)).render(fmt).content
        assert tape_filename(pool.code, pool.content_sha256, fmt) in download["Content-Disposition"]
    # Asking again serves the finished file: a frozen pool's bytes never change.
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        client.post(_url("pool_export", pool.pk, "csv"))
    assert callbacks == [] and PoolExport.objects.filter(pool=pool).count() == 3
    # A licensee cannot download an export it knows the address of.
    client.force_login(MembershipFactory(organisation=HolderFactory()).user)
    assert client.get(_url("pool_export_download", export.pk)).status_code == 404
    client.force_login(UserFactory())
    assert client.get(_url("pool_export_status", export.pk)).status_code == 404


def test_a_failed_export_is_recorded_and_shown_and_can_be_asked_again(client, officer, market,
                                                                        django_capture_on_commit_callbacks):
    pool = pools.pool_freeze(pool=make_pool(officer), by=officer)
    exposure = pool.exposures.first()
    exposure.tape = {**exposure.tape, "arrears_fen": 999}
    exposure.save()
    client.force_login(officer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_url("pool_export", pool.pk, "parquet"))
    export = PoolExport.objects.get(pool=pool, fmt="parquet")
    assert export.state == PoolExport.State.FAILED and "TamperedPool" in export.error
    assert "Writing the file failed" in client.get(response["Location"]).content.decode()
    assert client.get(_url("pool_export_download", export.pk)).status_code == 404
    exposure.tape = {**exposure.tape, "arrears_fen": 0}
    exposure.save()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(_url("pool_export", pool.pk, "parquet"))
    export.refresh_from_db()
    assert export.state == PoolExport.State.DONE and export.error == ""


def test_parquet_types_rates_and_factors_as_decimals_with_their_documented_precision(officer, market):
    from decimal import Decimal

    pool = pools.pool_freeze(pool=make_pool(officer), by=officer)
    parts = _archive(PoolTapeExporter(pools.pool_frozen_tape(pool=pool)).render("parquet").content)
    tape = pq.read_table(io.BytesIO(parts["tape.parquet"]))
    assert str(tape.schema.field("royalty_rate_percent").type) == "decimal128(5, 2)"
    assert str(tape.schema.field("discount_rate_percent").type) == "decimal128(5, 2)"
    assert str(tape.schema.field("projected_daily_base_fen").type) == "decimal128(20, 2)"
    assert set(tape.column("discount_rate_percent").to_pylist()) == {Decimal("10.00")}
    flows = pq.read_table(io.BytesIO(parts["cash_flows.parquet"]))
    assert str(flows.schema.field("discount_factor").type) == "decimal128(11, 10)"
    stored = [row["discount_factor"] for e in pool.exposures.order_by("position") for row in e.schedule]
    assert [str(f) for f in flows.column("discount_factor").to_pylist()] == stored  # exact, as frozen
    summary = pq.read_table(io.BytesIO(parts["summary.parquet"]))
    shares = [s for s in summary.column("share_percent").to_pylist() if s is not None]
    assert str(summary.schema.field("share_percent").type) == "decimal128(5, 2)" and sum(shares) == Decimal("100.00")


def test_the_tape_alone_as_one_csv_file_through_the_command_and_the_web(client, officer, market, tmp_path,
                                                                        django_capture_on_commit_callbacks):
    pool = pools.pool_freeze(pool=make_pool(officer), by=officer)
    zipped = _archive(PoolTapeExporter(pools.pool_frozen_tape(pool=pool)).render("csv").content)["tape.csv"]
    single = PoolTapeExporter(pools.pool_frozen_tape(pool=pool)).render("tape_csv")
    assert single.content == zipped and single.content_type.startswith("text/csv")
    assert len(list(csv.DictReader(io.StringIO(single.content.decode("utf-8-sig"))))) == 4
    out = tmp_path / "tape.csv"
    call_command("export_pool", pool.code, "--format", "tape_csv", "--out", str(out), "--no-progress",
                 stdout=io.StringIO())
    assert out.read_bytes() == zipped
    client.force_login(officer)
    assert 'data-format="tape_csv"' in client.get(_url("pool_detail", pool.pk)).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_url("pool_export", pool.pk, "tape_csv"))
    export = PoolExport.objects.get(pool=pool, fmt="tape_csv")
    with translation.override("en"):
        assert "CSV, tape only (one file)" in client.get(response["Location"]).content.decode()
    download = client.get(_url("pool_export_download", export.pk))
    assert b"".join(download.streaming_content) == zipped
    assert f'{tape_filename(pool.code, pool.content_sha256, "tape_csv")}' in download["Content-Disposition"]
    assert tape_filename(pool.code, pool.content_sha256, "tape_csv").endswith(".tape.csv")
