"""The register of rules (licensing/legal/register.py): every rule has a code, a statement in both languages, a
source and a severity; `manage.py legal_rules` prints it in every format; docs/legal-rules.md is the register."""

import csv
import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import translation

from licensing.legal import register
from licensing.legal.register import chinese_number

ROOT = Path(__file__).resolve().parent.parent.parent


def run(*args) -> str:
    out = io.StringIO()
    call_command("legal_rules", *args, stdout=out)
    return out.getvalue()


def test_every_rule_has_a_statement_in_both_languages_and_a_source():
    for rule in register.RULES:
        assert rule.severity in register.SEVERITIES and rule.area in register.AREAS and rule.sources, rule.code
        zh, en = rule.statement_in("zh-hans"), rule.statement_in("en")
        assert zh and en and zh != en, f"{rule.code} has no Chinese statement"
        assert any("\u4e00" <= ch <= "\u9fff" for ch in zh), rule.code


def test_sources_are_cited_by_article_paragraph_and_item_in_each_language():
    fees = register.rule("fees_unpaid")
    assert fees.citation("en") == "Implementing Regulations (2023) art. 86 item (3)"
    assert fees.citation("zh-hans") == "《专利法实施细则》（2023年修订）第八十六条第（三）项"
    assert register.rule("payment_method").citation("en") == (
        "Patent Law (2020) art. 50 para. 1; Implementing Regulations (2023) art. 85 para. 2 item (3)")
    assert register.rule("co_owner_consent").citation("en") == (
        "Patent Examination Guidelines (2023) Part V ch. 11 section 3.1")
    assert register.rule("co_owner_consent").citation("zh-hans") == "《专利审查指南》（2023）第五部分第十一章第3.1节"
    assert register.rule("procedure_suspended").citation("zh-hans").endswith(
        "第一百零三条；《专利法实施细则》（2023年修订）第一百零四条")
    assert register.rule("duration_min").citation("en") == "Platform rule (no statutory source)"
    assert register.rule("duration_min").severity == register.WARNING


@pytest.mark.parametrize("n, text", [(1, "一"), (10, "十"), (14, "十四"), (42, "四十二"), (50, "五十"),
                                     (86, "八十六"), (100, "一百"), (103, "一百零三"), (110, "一百一十"),
                                     (202, "二百零二")])
def test_articles_are_numbered_in_chinese_numerals(n, text):
    assert chinese_number(n) == text


def test_co_owner_consent_no_longer_cites_patent_law_art_14():
    # Art. 14 lets a co-owner license alone; the consent rule is the Guidelines'.
    assert all(s.article != 14 for s in register.rule("co_owner_consent").sources)


def test_the_command_prints_every_rule_as_a_table_with_its_source():
    out = run()
    for rule in register.RULES:
        assert rule.code in out
    assert "[Implementing Regulations (2023) art. 86 item (4)]" in out  # pledgee_consent
    zh = run("--language", "zh-hans")
    assert "《专利法实施细则》（2023年修订）第八十六条第（四）项" in zh
    assert "质押" in zh  # the statement reads in Chinese too


def test_the_command_prints_csv_and_json():
    rows = list(csv.DictReader(io.StringIO(run("--format", "csv"))))
    assert [r["code"] for r in rows] == [r.code for r in register.RULES]
    assert rows[0].keys() == {"code", "area", "severity", "statement", "source"}
    by_code = {r["code"]: r for r in rows}
    assert by_code["evaluation_report_partial"]["severity"] == "warning"
    assert by_code["evaluation_report_fails"]["severity"] == "refusal"
    data = {r["code"]: r for r in json.loads(run("--format", "json"))}
    assert len(data) == len(register.RULES)
    assert data["procedure_suspended"]["sources"][0] == {
        "instrument": "regulations", "article": 86, "paragraph": None, "item": 2, "part": None, "chapter": None,
        "section": None}
    assert data["recording_deadline"]["source_en"].startswith(
        "Measures for the Recording of Patent Licence Contracts (2011) art. 5")
    assert data["fee_basis_statement"]["statement_zh"] != data["fee_basis_statement"]["statement_en"]


def test_docs_legal_rules_md_is_the_register():
    """Regenerate with `manage.py legal_rules --write` after changing the register."""
    with translation.override("en"):
        assert (ROOT / "docs/legal-rules.md").read_text(encoding="utf-8") == register.render("markdown")


def test_write_regenerates_the_docs(tmp_path, settings):
    settings.BASE_DIR = tmp_path
    (tmp_path / "docs").mkdir()
    run("--write")
    assert (tmp_path / "docs/legal-rules.md").read_text(encoding="utf-8") == register.render("markdown")


@pytest.mark.django_db
def test_a_voucher_refusal_names_its_rule():
    from datetime import date

    from licensing.exceptions import NotAllowed
    from licensing.vouchers.services import voucher_issue
    from tests.parties.factories import OrganisationFactory, UserFactory

    with translation.override("en"), pytest.raises(NotAllowed) as refused:
        voucher_issue(organisation=OrganisationFactory(), amount_fen=100_00, expires_on=date(2099, 1, 1),
                      eligible_uses=["licence_fees"], by=UserFactory())
    assert str(refused.value) == ("Only the IP office issues innovation vouchers. "
                                  "(rule voucher_issuer: Platform rule (no statutory source))")


def test_every_rule_code_the_fee_schedule_applies_is_in_the_register():
    from licensing.declarations.fees import FeeRule
    from licensing.legal import register

    codes = {v for k, v in vars(FeeRule).items() if k.isupper()}
    assert codes == {"annual_fee_standard", "annual_fee_reduction", "small_entity_fee_reduction"}
    for code in codes:
        assert register.rule(code).sources, code
