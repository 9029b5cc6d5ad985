"""The bilingual term bridge: known pairs both ways, normalisation, function words left alone, and the
generated corpus' technical words covered both ways (fails on a drop)."""

import re
from datetime import date

import jieba
import pytest

from marketplace.demo.synthetic import generate_inventory
from marketplace.listings.bilingual import FUNCTION_WORDS, bridge, counterparts, coverage


@pytest.mark.parametrize(
    ("chinese", "english"),
    [
        ("电池", "battery"),
        ("传感器", "sensor"),
        ("逆变器", "inverter"),
        ("齿轮", "gear"),
        ("机器人", "robot"),
        ("光伏", "photovoltaic"),
        ("正极", "cathode"),
    ],
)
def test_known_pairs_cross_both_ways(chinese, english):
    assert english in counterparts(chinese)
    assert chinese in counterparts(english)


def test_terms_are_normalised_before_and_after():
    assert counterparts("Battery") == counterparts("battery")
    assert "电池" in counterparts("batteries")  # plural to the glossary's singular
    assert "battery" in counterparts("電池")  # traditional to simplified (CC-CEDICT's pairs)
    assert all(c == c.lower() for c in counterparts("电池"))


def test_function_words_and_unknown_terms_have_no_counterparts():
    assert counterparts("的") == counterparts("for") == counterparts("xqzv") == ()


def test_bridge_gives_the_terms_then_their_counterparts_once():
    assert bridge(["电池", "Battery"]) == ["电池", "battery"]
    assert bridge(["的"]) == ["的"]


def test_the_generated_corpus_technical_words_are_covered_both_ways():
    frame = generate_inventory(1000, seed=3, today=date(2026, 1, 1))
    chinese, english = set(), set()
    for title in frame["title"]:
        for word in jieba.cut(title):
            if re.search(r"[\u4e00-\u9fff]", word):
                chinese.add(word)
            elif re.fullmatch(r"[A-Za-z]{3,}", word):
                english.add(word.lower())
    # Single characters are jieba's leftovers inside words it does not know, not terms.
    chinese = {w for w in chinese if len(w) > 1 and w not in FUNCTION_WORDS}
    zh, en = coverage(chinese, english)
    assert zh >= 0.97 and en >= 0.97, (zh, en)
