"""Matching crosses languages (#23, first bullet): a need written in English reaches a listing written only in
Chinese and the other way round, because both are represented by concepts (marketplace.matching.index.tokenize:
an English word stands for its Chinese counterpart, so 电池 and "battery" are one feature), and the explanation
shows that feature once with its counterpart; a listing's English title counts as its own words."""

import csv
from datetime import date

import pytest

from licensing.models import DeclarationState
from marketplace.listings.bilingual import SYNONYMS, zh_synonyms
from marketplace.matching import engine as matching
from marketplace.matching.index import term_label, tokenize
from marketplace.models import Need
from tests.licensing.factories import DeclarationFactory, eligible_patent
from tests.marketplace.test_matching import LISTINGS
from tests.parties.factories import OrganisationFactory

pytestmark = pytest.mark.django_db


def test_words_of_both_languages_are_one_concept_and_a_phrase_is_looked_up_before_its_words():
    assert tokenize("battery") == ["电池"] == tokenize("电池")
    assert tokenize("heat pump") == ["热泵"] == tokenize("热泵")  # "heat" and "pump" alone are 热 and 泵
    # A word the bridge does not know stays itself; one whose counterpart is a single character too.
    assert tokenize("CRISPR pump") == ["crispr", "pump"]
    assert term_label("电池") == "电池 / battery" and term_label("crispr") == "crispr"


def test_an_english_word_stands_for_its_technical_sense_and_a_glossary_term_is_one_feature():
    # CC-CEDICT's first senses are 谬误 ("falsehood") and 代偿 (in medicine); the glossary gives the technical ones.
    assert tokenize("error compensation") == ["误差", "补偿"] == tokenize("误差补偿")
    assert tokenize("gate current") == ["栅极", "电流"]
    # The first counterpart longer than one character: gripper's first is 爪, which no Chinese text is cut into.
    assert tokenize("gripper") == ["夹爪"]
    # jieba cuts 厌氧氨氧化 into 厌氧 and 氧化: the glossary's term is added once, and "anammox" is cut alike.
    assert tokenize("厌氧氨氧化") == ["厌氧", "氧化", "厌氧氨氧化"] == tokenize("anammox")
    # The longest term where glossary terms overlap: 渗滤液 inside 垃圾渗滤液 would count one word twice.
    assert "渗滤液" not in tokenize("垃圾渗滤液") and "垃圾渗滤液" in tokenize("垃圾渗滤液")


def test_chinese_synonyms_are_one_feature_whether_segmented_or_named_and_in_english_too():
    # jieba emits 追溯 as a word; it is one feature with 溯源, and "traceability" (glossary: 溯源) is the same.
    assert tokenize("区块链追溯") == tokenize("区块链溯源") and "溯源" in tokenize("traceability")
    # jieba cuts 波束赋形 into 波束 and 赋形: the table's term is found in the run like a glossary term.
    assert "波束成形" in tokenize("波束赋形") and "波束赋形" not in tokenize("波束赋形")
    assert set(tokenize("波束赋形")) & set(tokenize("beamforming")) == {"波束", "波束成形"}


def test_every_synonym_has_a_source_and_points_at_a_term_that_is_itself_preferred():
    rows = list(csv.DictReader(SYNONYMS.open(encoding="utf-8")))
    assert rows and all(row["source"].strip() and row["en"].strip() for row in rows)
    preferred = zh_synonyms()
    assert all(p not in preferred and p != term for term, p in preferred.items())  # no chains, no loops


def test_without_the_concepts_the_words_stand_for_themselves(settings):
    settings.MATCHING_BILINGUAL_TERMS = False
    assert tokenize("Battery pack 电池") == ["电池", "battery", "pack"] and term_label("电池") == "电池"


def test_a_need_in_one_language_reaches_listings_in_the_other():
    declarations = {}
    for key in ("bms", "cathode", "fuelcell", "motor", "video", "lidar", "membrane", "radar", "gps", "drone"):
        title, abstract, ipc, tech_field, grade = LISTINGS[key]
        patent = eligible_patent(
            title=title,
            abstract=abstract,
            main_ipc=ipc,
            ipc_codes=[ipc],
            ipc_subclass=ipc[:4],
            technology_field=tech_field,
            grade_score=grade,
            filing_date=date(2022, 5, 1),
        )
        declarations[key] = DeclarationFactory(patent=patent, state=DeclarationState.FILED)
    patent = eligible_patent(
        title="一种车载摄像头支架",
        abstract="一种可调节角度的支架。",
        title_en="Obstacle detection camera mount",
        main_ipc="B60R 11/04",
        ipc_codes=["B60R 11/04"],
        ipc_subclass="B60R",
        technology_field=32,
        # Graded like the listings above (50-85): with every listing a candidate (#23), grade and life alone
        # order the listings that share no word, and this one must win on its (English) words, not on its grade.
        grade_score=60,
        filing_date=date(2022, 5, 1),
    )
    declarations["mount"] = DeclarationFactory(patent=patent, state=DeclarationState.FILED)
    buyer = OrganisationFactory(is_licensee=True)
    english = Need.objects.create(
        organisation=buyer,
        horizon_years=3,
        title="Battery pack thermal management",
        description="We build energy storage containers and need temperature control of "
        "lithium-ion battery packs with liquid cooling to prevent thermal runaway.",
    )
    chinese = Need.objects.create(
        organisation=buyer,
        horizon_years=3,
        title="激光雷达障碍物检测",
        description="我们的自动驾驶车辆需要激光雷达点云处理技术，检测障碍物和行人。",
    )
    best = matching.rank_listings_for_need(need=english, limit=1)
    assert [m.declaration for m in best] == [declarations["bms"]]
    # The English need and the Chinese listing share concepts: each shown once, with its counterpart.
    labels = best[0].explanation.subject_labels
    assert "电池 / battery" in labels and "battery" not in labels and len(labels) == len(set(labels))
    assert [m.declaration for m in matching.rank_listings_for_need(need=chinese, limit=1)] == [declarations["lidar"]]
    # The holder's English title is the listing's own text: 障碍物 meets "obstacle" in it.
    assert declarations["mount"] in [m.declaration for m in matching.rank_listings_for_need(need=chinese, limit=5)]
