"""The IP office builds a securitization pool in the browser on the market of tests/marketplace/test_pools.py,
freezes it and downloads its tape in the three formats."""

import io
import re
import zipfile

import openpyxl
import pyarrow.parquet as pq
import pytest

from marketplace.models.pools import Pool
from marketplace.pools.exports import PoolTapeExporter
from marketplace.pools.services import pool_frozen_tape
from tests.browser.flows import log_in
from tests.marketplace.factories_pools import build_pool_market
from tests.parties.factories import IPOfficeFactory, MembershipFactory


@pytest.fixture
def officer(site):
    build_pool_market()
    return MembershipFactory(organisation=IPOfficeFactory()).user


def test_the_ip_office_builds_freezes_and_downloads_a_pool_tape(site, page_en, officer, tmp_path):
    page = page_en
    log_in(page, site, officer)
    page.click("text=Build a securitization pool")
    page.wait_for_url(re.compile(r"/en/office/pools/$"))
    page.click("main a.button:has-text('New pool')")
    page.fill("#id_name", "Browser pilot pool")
    page.fill("#id_cut_off_date", "2025-07-30")
    page.fill("#id_discount_rate", "10")
    page.fill("#id_max_licensee_share", "52")
    page.click("main form.pool-form button[type=submit]")
    page.wait_for_url(re.compile(r"/en/office/pools/\d+/$"))
    # The licensee cap leaves out E, so A, B and D remain: 3,650,000 + 1,000,000 + 2,560,000 fen.
    assert page.locator("[data-figure=exposures]").inner_text() == "3"
    assert page.locator("[data-figure=scheduled]").inner_text() == "¥72,100.00"
    assert "Over the licensee concentration cap" in page.locator("#excluded").inner_text()

    page.click("#freeze")
    page.wait_for_selector("#content-hash")
    pool = Pool.objects.get(name="Browser pilot pool")
    assert pool.is_frozen and page.locator("#content-hash").inner_text() == pool.content_sha256
    expected = PoolTapeExporter(pool_frozen_tape(pool=pool))

    for fmt in ("csv", "xlsx", "parquet"):
        page.click(f"#downloads button[data-format={fmt}]")
        page.wait_for_selector("#export-status[data-state=done]")
        with page.expect_download() as info:
            page.click("#download")
        path = tmp_path / info.value.suggested_filename
        info.value.save_as(path)
        assert path.name.startswith(pool.code) and path.read_bytes() == expected.render(fmt).content, fmt
        page.click(f"text={pool.code} Browser pilot pool")
        page.wait_for_selector("#downloads")

    content = (tmp_path / expected.filename("parquet")).read_bytes()
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert pq.read_table(io.BytesIO(archive.read("tape.parquet"))).num_rows == 3
    workbook = openpyxl.load_workbook(tmp_path / expected.filename("xlsx"))
    assert workbook.sheetnames == ["tape", "cash_flows", "summary"]
