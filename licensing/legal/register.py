"""The register of rules: every rule the platform enforces on declarations, licences, fees, recording and vouchers,
with its code, its plain statement (Chinese and English through gettext), its source and its severity.

Plain data, no database: the refusal a user sees is built from the entry (licensing/declarations/rules.py
``failure``), ``manage.py legal_rules`` prints it, and docs/legal-rules.md is generated from it (a test keeps the
file equal to the register). A rule no law sets says so: its source is the platform's own rule, and if it only
guards against a likely mistake it is a warning, never a refusal.

Instruments cited (short names as shown beside each refusal):
- Patent Law of the PRC (2020 amendment).
- Implementing Regulations of the Patent Law (2023 revision, State Council Decree No. 769).
- Patent Examination Guidelines (2023), Part V chapter 11 "open licensing" (专利开放许可).
- CNIPA Announcement No. 594 (2024) on the open-licence annual-fee reduction.
- CNIPA notice on open-licence fee standards (2024): the fee caps.
- Measures for the Recording of Patent Licence Contracts (专利实施许可合同备案办法, CNIPA Order No. 62, 2011).
- Civil Code of the PRC (2020) arts. 202-203 (how periods are counted).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

REFUSAL = "refusal"  # the act is refused, naming the rule
WARNING = "warning"  # shown to the person; the act goes ahead
CALCULATION = "calculation"  # a figure the platform computes by the rule (nothing to refuse)
SEVERITIES = {REFUSAL: _("refusal"), WARNING: _("warning"), CALCULATION: _("calculation")}

# Areas, in the order the register lists them.
AREAS = {
    "declaration": _("Declaring a patent"),
    "content": _("What a declaration says"),
    "withdrawal": _("Withdrawing a declaration"),
    "licence": _("Taking a licence"),
    "fees": _("Fees"),
    "recording": _("Recording a licence"),
    "voucher": _("Innovation vouchers"),
}


@dataclass(frozen=True)
class Instrument:
    key: str
    name_en: str
    name_zh: str
    kind: str  # "statute": counted in articles/paragraphs/items; "guidelines": parts/chapters/sections; "notice"

    def name(self, language: str) -> str:
        return self.name_zh if language.startswith("zh") else self.name_en


PATENT_LAW = Instrument("patent_law", "Patent Law (2020)", "《专利法》（2020年修正）", "statute")
REGULATIONS = Instrument("regulations", "Implementing Regulations (2023)", "《专利法实施细则》（2023年修订）", "statute")
GUIDELINES = Instrument("guidelines", "Patent Examination Guidelines (2023)", "《专利审查指南》（2023）", "guidelines")
ANNOUNCEMENT_594 = Instrument("cnipa_594", "CNIPA Announcement No. 594 (2024)", "国家知识产权局公告第594号（2024年）",
                              "notice")
FEE_NOTICE_2024 = Instrument("cnipa_fee_notice_2024", "CNIPA notice on open-licence fee standards (2024)",
                             "国家知识产权局关于专利开放许可使用费标准的通知（2024年）", "notice")
FEE_SCHEDULE = Instrument("cnipa_fee_schedule", "CNIPA patent fee schedule (2017), design years 11-15 by NDRC/MOF notice (2022)",
                          "国家知识产权局《专利收费标准》（2017年修订）；发改价格〔2022〕465号", "notice")
SMALL_ENTITY_MEASURES = Instrument("small_entity_measures",
                                   "Measures on the Reduction of Patent Fees (2016), extended by MOF/NDRC notice (2019)",
                                   "《专利收费减缴办法》（财税〔2016〕78号）；财税〔2019〕45号", "notice")
TERM_COMPENSATION_NOTICE = Instrument("term_compensation_notice",
                                      "NDRC/MOF notice on the annual fee of the term-compensation period (2023)",
                                      "《国家发展改革委 财政部关于专利权补偿期年费标准等有关事项的通知》（2023年）",
                                      "notice")
RECORDING_MEASURES = Instrument("recording_measures", "Measures for the Recording of Patent Licence Contracts (2011)",
                                "《专利实施许可合同备案办法》（2011年）", "statute")
CIVIL_CODE = Instrument("civil_code", "Civil Code (2020)", "《民法典》", "statute")
PLATFORM = Instrument("platform", "Platform rule (no statutory source)", "平台规则（无法定依据）", "notice")

INSTRUMENTS = (PATENT_LAW, REGULATIONS, GUIDELINES, ANNOUNCEMENT_594, FEE_NOTICE_2024, FEE_SCHEDULE,
               SMALL_ENTITY_MEASURES, TERM_COMPENSATION_NOTICE, RECORDING_MEASURES, CIVIL_CODE, PLATFORM)

_DIGITS = "零一二三四五六七八九"


def chinese_number(n: int) -> str:
    """1-999 in Chinese numerals as laws number their articles: 50 → 五十, 86 → 八十六, 103 → 一百零三."""
    if n < 10:
        return _DIGITS[n]
    hundreds, rest = divmod(n, 100)
    tens, units = divmod(rest, 10)
    out = ""
    if hundreds:
        out += _DIGITS[hundreds] + "百"
        if rest and tens == 0:
            return out + "零" + _DIGITS[units]
    if tens:
        out += ("" if tens == 1 and not hundreds else _DIGITS[tens]) + "十"
    if units:
        out += _DIGITS[units]
    return out


@dataclass(frozen=True)
class Source:
    """One provision: an instrument and where in it (article, paragraph, item for a statute; part, chapter and
    section for the Guidelines; nothing more for a notice)."""

    instrument: Instrument
    article: int | None = None
    paragraph: int | None = None
    item: int | None = None
    part: int | None = None
    chapter: int | None = None
    section: str = ""

    def cite(self, language: str | None = None) -> str:
        language = language or translation.get_language() or "en"
        zh = language.startswith("zh")
        name = self.instrument.name(language)
        if self.instrument.kind == "guidelines":
            if zh:
                roman = {1: "一", 2: "二", 3: "三", 4: "四", 5: "五"}
                return (f"{name}第{roman.get(self.part, self.part)}部分第{chinese_number(self.chapter)}章"
                        f"第{self.section}节")
            return f"{name} Part {_roman(self.part)} ch. {self.chapter} section {self.section}"
        if self.article is None:
            return name
        if zh:
            out = f"{name}第{chinese_number(self.article)}条"
            if self.paragraph:
                out += f"第{chinese_number(self.paragraph)}款"
            if self.item:
                out += f"第（{chinese_number(self.item)}）项"
            return out
        out = f"{name} art. {self.article}"
        if self.paragraph:
            out += f" para. {self.paragraph}"
        if self.item:
            out += f" item ({self.item})"
        return out

    def as_dict(self) -> dict:
        return {"instrument": self.instrument.key, "article": self.article, "paragraph": self.paragraph,
                "item": self.item, "part": self.part, "chapter": self.chapter, "section": self.section or None}


def _roman(n: int | None) -> str:
    return {1: "I", 2: "II", 3: "III", 4: "IV", 5: "V"}.get(n, str(n))


def law(article, paragraph=None, item=None) -> Source:
    return Source(PATENT_LAW, article, paragraph, item)


def regs(article, paragraph=None, item=None) -> Source:
    return Source(REGULATIONS, article, paragraph, item)


def guidelines(section: str) -> Source:
    return Source(GUIDELINES, part=5, chapter=11, section=section)


@dataclass(frozen=True)
class Rule:
    code: str
    area: str
    severity: str
    statement: Promise  # gettext_lazy: read in the active language
    sources: tuple[Source, ...]

    @property
    def is_refusal(self) -> bool:
        return self.severity == REFUSAL

    def citation(self, language: str | None = None) -> str:
        """Every source of the rule, in the given (default: active) language."""
        language = language or translation.get_language() or "en"
        return ("；" if language.startswith("zh") else "; ").join(s.cite(language) for s in self.sources)

    def statement_in(self, language: str) -> str:
        with translation.override(language):
            return str(self.statement)


def _rule(code, area, severity, statement, *sources) -> Rule:
    return Rule(code, area, severity, statement, tuple(sources))


PLATFORM_RULE = Source(PLATFORM)

RULES: tuple[Rule, ...] = (
    # Declaring a patent: who may, which patents may (Patent Law art. 50; Regulations arts. 85-86, 103-104;
    # Guidelines Part V ch. 11 section 3.1).
    _rule("not_patentee", "declaration", REFUSAL, _("Only the patentee may declare its patent open for licensing."),
          law(50, 1)),
    _rule("already_declared", "declaration", REFUSAL,
          _("A patent has at most one standing declaration (filed, announced or with a withdrawal pending)."),
          law(50, 1)),
    _rule("not_granted", "declaration", REFUSAL,
          _("A declaration is made after the grant is announced, for a patent in force."), regs(85, 1), law(50, 1)),
    _rule("expired", "declaration", REFUSAL, _("An expired patent cannot be declared."), law(42, 1)),
    _rule("fees_unknown", "declaration", REFUSAL,
          _("The date up to which the annual fees are paid must be recorded before declaring."), regs(86, item=3)),
    _rule("fees_unpaid", "declaration", REFUSAL,
          _("A patent whose annual fees are not paid as required cannot be declared."), regs(86, item=3)),
    _rule("evaluation_report", "declaration", REFUSAL,
          _("A utility model or design is declared with a patent evaluation report (专利权评价报告)."), law(50, 1)),
    _rule("evaluation_report_fails", "declaration", REFUSAL,
          _("A utility model or design whose evaluation report concludes that it does not meet the grant "
            "conditions cannot be declared."), guidelines("3.1"), regs(86, item=5)),
    _rule("evaluation_report_partial", "declaration", WARNING,
          _("The evaluation report concludes that only some claims meet the grant conditions: licensees will see "
            "it; consider declaring only what the report supports."), guidelines("3.1")),
    _rule("exclusive_licence", "declaration", REFUSAL,
          _("A patent under an exclusive or sole licence in force cannot be declared."), regs(86, item=1), law(51, 3)),
    _rule("procedure_suspended", "declaration", REFUSAL,
          _("A patent whose procedures are suspended (ownership dispute or court preservation order) cannot be "
            "declared."), regs(86, item=2), regs(103), regs(104)),
    _rule("co_owner_consent", "declaration", REFUSAL,
          _("Every co-owner consents in writing to the declaration, unless the co-owners' agreement allows one to "
            "declare alone."), guidelines("3.1")),
    _rule("pledgee_consent", "declaration", REFUSAL,
          _("A pledged patent is declared only with the pledgee's consent."), regs(86, item=4)),
    # What a declaration says (Regulations art. 85; Guidelines section 3.3).
    _rule("payment_method", "content", REFUSAL, _("The declaration states the way of paying the licence fee."),
          law(50, 1), regs(85, 2, 3)),
    _rule("conditions_commitment", "content", REFUSAL,
          _("The patentee commits that the conditions for open licensing are met."), guidelines("3.3"), regs(85, 2, 5)),
    _rule("fee_basis_statement", "content", REFUSAL,
          _("The declaration states how the fee was calculated, in at most 2,000 characters."), guidelines("3.3")),
    _rule("contact_details", "content", REFUSAL,
          _("The declaration gives a contact person and an e-mail address or telephone number."), guidelines("3.3"),
          regs(85, 2, 5)),
    _rule("promotional_wording", "content", REFUSAL,
          _("The declaration is accurate and clear, without commercial promotional wording (superlatives, "
            "guarantees of returns)."), regs(85, 3), guidelines("3.3")),
    _rule("duration_min", "content", WARNING,
          _("The licence duration is shorter than one year: no law sets a minimum, but check it is what you mean."),
          PLATFORM_RULE),
    _rule("duration_past_expiry", "content", REFUSAL,
          _("A licence taken today under the declaration may not run past the patent's expiry."), regs(85, 2, 4),
          law(42, 1)),
    # Withdrawing (Patent Law art. 50 para. 2; Regulations art. 86 for situations arising after declaring).
    _rule("withdrawal_reason", "withdrawal", REFUSAL, _("A withdrawal is made in writing and states its reason."),
          law(50, 2)),
    _rule("withdrawal_co_owner_consent", "withdrawal", REFUSAL,
          _("Every co-owner consents in writing to the withdrawal, as to the declaration, unless their agreement "
            "allows one to act alone."), guidelines("3.1")),
    _rule("art86_situation", "withdrawal", WARNING,
          _("A situation barring open licensing arose on a declared patent (exclusive licence, suspension, unpaid "
            "annual fees, pledge without consent): the holder is asked to withdraw or cure it, and licensees are "
            "told."), regs(86)),
    # Taking a licence (Patent Law art. 51).
    _rule("licence_not_open", "licence", REFUSAL,
          _("A licence is taken only under a declaration that stands (filed, announced or with a withdrawal "
            "pending)."), law(51, 1)),
    _rule("licence_own_patent", "licence", REFUSAL, _("A patentee cannot take a licence of its own patent."),
          PLATFORM_RULE),
    _rule("licence_one_active", "licence", REFUSAL,
          _("A licensee holds at most one active licence under one declaration."), PLATFORM_RULE),
    _rule("licence_terms_accepted", "licence", REFUSAL,
          _("The licensee accepts the declaration's terms as published (the written notice)."), law(51, 1)),
    _rule("no_exclusive_under_open_licence", "licence", REFUSAL,
          _("While a declaration stands no exclusive or sole licence of the patent is granted."), law(51, 3)),
    _rule("licence_notice_identity", "licence", REFUSAL,
          _("The written notice names the licensee as registered: its unified social credit code is the "
            "organisation's own."), law(51, 1)),
    _rule("licence_cancel_unpaid", "licence", REFUSAL,
          _("A licensee may abandon its notice only while nothing has been paid under it."), PLATFORM_RULE),
    _rule("payment_open", "licence", REFUSAL,
          _("A payment cancelled or replaced can no longer be made; the licensee pays the one the page shows."),
          PLATFORM_RULE),
    # Royalties reported under a royalty licence (Patent Law art. 51 para. 1: the fee is paid as declared).
    _rule("royalty_licence", "licence", REFUSAL,
          _("Royalties are reported only on an active licence whose declaration asks for a royalty."), law(51, 1)),
    _rule("royalty_period", "licence", REFUSAL,
          _("Royalty periods follow each other without gap or overlap inside one licence year and the licence "
            "term, are reported once over, and a year has at most a set number of reports."), PLATFORM_RULE),
    _rule("royalty_base", "licence", REFUSAL,
          _("Net sales or profit are reported as a whole number of fen, zero or more."), PLATFORM_RULE),
    _rule("refund_terms", "licence", REFUSAL,
          _("A refund states its reason and returns at most what is left of a payment that went through."),
          PLATFORM_RULE),
    _rule("termination_non_payment", "licence", REFUSAL,
          _("An active licence is terminated for non-payment only when one of its royalty payments is unpaid more "
            "than 60 days after it fell due."), PLATFORM_RULE),
    # Fees.
    _rule("fixed_fee_cap", "fees", REFUSAL, _("A fixed fee (lump sum or entry fee) is at most RMB 20,000,000."),
          Source(FEE_NOTICE_2024)),
    _rule("royalty_cap", "fees", REFUSAL,
          _("A royalty is at most 20 per cent of net sales or 40 per cent of profit."), Source(FEE_NOTICE_2024)),
    _rule("annual_fee_reduction", "fees", CALCULATION,
          _("The 15 per cent open-licence reduction applies only to annual fees due while the declaration and a recorded "
            "licence under it stand, and is not combined with other reductions."),
          Source(ANNOUNCEMENT_594), law(51, 2)),
    # The rules licensing/declarations/fees.py applies per patent year (FeeRule names these codes).
    _rule("annual_fee_standard", "fees", CALCULATION,
          _("The annual fee of each patent year follows the official fee schedule for the patent's kind."),
          Source(FEE_SCHEDULE)),
    _rule("small_entity_fee_reduction", "fees", CALCULATION,
          _("A patentee granted the small-entity reduction pays 15 per cent of the annual fee (30 per cent with "
            "co-owners) for ten years from the grant; where the open-licence reduction also applies, the more "
            "favourable one is applied, never both."),
          Source(SMALL_ENTITY_MEASURES), Source(TERM_COMPENSATION_NOTICE)),
    _rule("term_compensation_fee", "fees", CALCULATION,
          _("Each full year of patent-term compensation costs RMB 8,000 in annual fees; a part year costs nothing."),
          Source(TERM_COMPENSATION_NOTICE)),
    # Recording.
    _rule("recording_deadline", "recording", WARNING,
          _("A licence contract is recorded with CNIPA within three months of taking effect."),
          Source(RECORDING_MEASURES, 5)),
    _rule("recording_period_count", "recording", CALCULATION,
          _("A period of months ends on the corresponding day of the last month (its last day when there is no "
            "such day), moved to the next working day when it falls on a holiday."),
          Source(CIVIL_CODE, 202), Source(CIVIL_CODE, 203)),
    _rule("recording_details", "recording", REFUSAL,
          _("A recording is noted with CNIPA's number and a date neither in the future nor before the licence took "
            "effect."), PLATFORM_RULE),
    _rule("recording_once", "recording", REFUSAL,
          _("A licence is recorded once: a recording already noted with another number or date is not "
            "overwritten."), PLATFORM_RULE),
    # Innovation vouchers (the city's scheme, administered by the IP office).
    _rule("voucher_issuer", "voucher", REFUSAL, _("Only the IP office issues innovation vouchers, never to itself."),
          PLATFORM_RULE),
    _rule("voucher_holder", "voucher", REFUSAL, _("A voucher pays only for its own organisation."), PLATFORM_RULE),
    _rule("voucher_use", "voucher", REFUSAL, _("A voucher pays only for the uses it was issued for."), PLATFORM_RULE),
    _rule("voucher_expiry", "voucher", REFUSAL, _("A voucher pays nothing after its expiry date."), PLATFORM_RULE),
    _rule("voucher_balance", "voucher", REFUSAL, _("A voucher pays at most its remaining balance."), PLATFORM_RULE),
)

RULES_BY_CODE: dict[str, Rule] = {r.code: r for r in RULES}
assert len(RULES_BY_CODE) == len(RULES), "duplicate rule code"


def rule(code: str) -> Rule:
    """The rule with this code (KeyError for an unknown code: a refusal must name a registered rule)."""
    return RULES_BY_CODE[code]


def cite(code: str, message: str) -> str:
    """A refusal's text naming its rule: "message (rule code: source)", in the active language."""
    from django.utils.translation import gettext

    return gettext("%(message)s (rule %(code)s: %(source)s)") % {"message": message, "code": code,
                                                               "source": rule(code).citation()}


def rows(language: str) -> list[dict]:
    """The register as plain rows in one language (for the command, the docs and exports)."""
    with translation.override(language):
        return [{"code": r.code, "area": str(AREAS[r.area]), "severity": str(SEVERITIES[r.severity]),
                 "statement": str(r.statement), "source": r.citation(language)} for r in RULES]


# Rendering ---------------------------------------------------------------------------------------------------

FORMATS = ("table", "csv", "json", "markdown")
DOCS_PATH = "docs/legal-rules.md"


def _bilingual_rows() -> list[dict]:
    zh, en = rows("zh-hans"), rows("en")
    return [{"code": r.code, "area": r.area, "severity": r.severity, "statement_zh": z["statement"],
             "statement_en": e["statement"], "source_zh": z["source"], "source_en": e["source"],
             "sources": [s.as_dict() for s in r.sources]} for r, z, e in zip(RULES, zh, en, strict=True)]


def render(fmt: str, *, language: str = "en") -> str:
    """The register as text: a plain table or CSV in one language; JSON and Markdown carry both languages."""
    import csv
    import io
    import json

    if fmt == "json":
        return json.dumps(_bilingual_rows(), ensure_ascii=False, indent=2) + "\n"
    if fmt == "markdown":
        return _markdown()
    data = rows(language)
    columns = ("code", "area", "severity", "statement", "source")
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(data)
        return out.getvalue()
    if fmt == "table":
        widths = {c: max(len(c), *(len(r[c]) for r in data)) for c in columns[:3]}
        lines = ["  ".join(c.ljust(widths[c]) for c in columns[:3]) + "  statement  [source]"]
        for r in data:
            lines.append("  ".join(r[c].ljust(widths[c]) for c in columns[:3]) + f"  {r['statement']}  [{r['source']}]")
        return "\n".join(lines) + "\n"
    raise ValueError(f"unknown format {fmt!r} (use one of {', '.join(FORMATS)})")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _markdown() -> str:
    lines = [
        "# Legal rules register / 规则登记册",
        "",
        "Generated from `licensing/legal/register.py` by `manage.py legal_rules --write`; do not edit by hand "
        "(tests/licensing/test_legal_register.py keeps this file equal to the register).",
        "",
        "Severity: **refusal** — the act is refused and the refusal names the rule; **warning** — shown, the act "
        "goes ahead; **calculation** — a figure the platform computes by the rule.",
        "",
    ]
    rows_ = _bilingual_rows()
    for area, label in AREAS.items():
        with translation.override("en"):
            title_en = str(label)
        with translation.override("zh-hans"):
            title_zh = str(label)
        lines += [f"## {title_en} / {title_zh}", "", "| Code | Severity | Rule | 规则 | Source | 依据 |",
                  "|---|---|---|---|---|---|"]
        for r in rows_:
            if r["area"] == area:
                lines.append("| `{code}` | {severity} | {statement_en} | {statement_zh} | {source_en} | {source_zh} |"
                             .format(**{k: _cell(v) if isinstance(v, str) else v for k, v in r.items()}))
        lines.append("")
    return "\n".join(lines)
