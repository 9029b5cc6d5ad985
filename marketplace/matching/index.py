"""The stored matching index: the listings' TF-IDF fitted once, kept in step with the listings, and held in
memory by every process as one sparse matrix (models: marketplace.models.matching).

Tokens (``tokenize``): Chinese runs cut by jieba's search mode, other text as lowercase words, stop words
dropped, and (settings.MATCHING_BILINGUAL_TERMS, on by default) every English word or phrase replaced by its
*concept*: the tokens of its first Chinese counterpart in the bilingual bridge (marketplace.listings.bilingual:
our technical glossary first, then CC-CEDICT; the first counterpart longer than one character), phrases of up to
three words looked up before single words ("heat pump" is 热泵). So a need and a listing are represented in one
space whatever their language: "battery" and 电池 are one feature, weighted once, with one document frequency over
both languages, and an explanation shows it once with its counterpart (``term_label``: "电池 / battery"). Chinese
is the meeting point because most listings are written in it and jieba's words are what a Chinese text is cut
into; an English word whose counterpart is a single character (pump -> 泵, which no Chinese text is cut into) or
that the bridge does not know (CRISPR, alginate) stays itself. A listing's text includes the holder's English
title and abstract where given; the IPC is the language-neutral bridge the engine scores apart (field and IPC
signal). A Chinese run also yields, once, each glossary term it names that jieba did not emit, the longest where
terms overlap (``_cut_run``: 厌氧氨氧化, which jieba cuts into 厌氧 and 氧化), in both languages' texts alike (a concept
is cut the same way).

Measured on the labelled set (tests/data/matching, 44 Chinese and 21 English needs; p@5 / p@10 / r@20 /
cross-language hit rate@10, per language of the need, zh | en):
  words only (no bridge)                      0.918/0.880/0.731/0.091 | 0.924/0.767/0.686/0.762
  English words + glossary counterpart added  0.923/0.877/0.780/0.227 | 0.924/0.886/0.781/0.905
  concepts, glossary only                     0.914/0.882/0.791/0.386 | 0.962/0.919/0.837/0.905
  concepts, glossary + CC-CEDICT (chosen)     0.918/0.884/0.809/0.545 | 0.981/0.919/0.850/0.952
  same, counterpart by jieba frequency        0.918/0.884/0.811/0.523 | 0.981/0.914/0.853/0.905
  same, CC-CEDICT only where the word is among
    the headword's first two senses           0.918/0.884/0.806/0.500 | 0.981/0.910/0.853/0.905
  same, all (up to three) counterparts        0.923/0.882/0.801/0.409 | 0.990/0.919/0.850/0.952
  chosen, with the boilerplate of needs and
    patents dropped (寻求, 专利, 适用, patent...) 0.923/0.886/0.815/0.545 | 0.981/0.919/0.853/0.952
Adding counterparts beside the words (the first version, behind the setting) counts a word and its counterpart as
two features, so two texts in one language share both and the explanation shows both (half of the five shared
words shown were translations of the other half); replacing them makes them one. More counterparts per word add
recall for English needs and cost Chinese needs their crossing (each added sense dilutes an English listing with
words no Chinese need has); fewer (a stricter filter, the glossary alone) leave more English words untranslated.
What is left: Chinese needs reach English listings in their top 10 only about half the time,
because a dictionary loses part of the overlap that two Chinese texts on one subject share, so the Chinese
listings on the subject outrank the English ones. Measured, not adopted: multiplying the text similarity of a
pair in different languages by a calibration factor (the listing's language from its title) gives zh cross@10
0.750 at 1.25 (zh p@5 0.914, en p@5 0.962) and 0.818 at 1.5 (zh p@5 0.905, en p@5 0.952): it trades precision for
crossing, its factor would be chosen on the very set it is judged on, and the index keeps no listing language.

Session 32 (tokens "concepts-2"): the misses, printed per need, were mostly wrong senses, not missing overlap.
CC-CEDICT's first sense of a technical English word is usually a general one (error -> 谬误, compensation -> 代偿,
capture -> 占领, gate -> 栅门, current -> 本届, vision -> 视力, management -> 资方, plants -> 花木), and the boilerplate
of English abstracts became noise (suits -> 一套, sit, gives). So an English listing carried few of its subject's
concepts and many stray ones, and scored below every Chinese listing on the subject. Fixed in the representation:
219 glossary rows giving the technical sense (bilingual_glossary.csv, source "editor: technical sense..."; the
words are those of the labelled set's English texts whose concept was wrong or missing, so the set is no longer
blind to them: the needs added after this change, with their rules first, are the check), the first
counterpart of more than one character (gripper -> 爪 was dropped, 夹爪 is used), a few verbs stopped, and the
glossary's terms as words (above). Same columns, before -> after:
  concepts-1 (the state above)                0.923/0.886/0.815/0.545 | 0.981/0.919/0.853/0.952
  technical senses + stop verbs               0.923/0.895/0.853/0.977 | 0.971/0.967/0.919/1.000
  same, phrases from the glossary only        0.918/0.895/0.855/0.932 | 0.971/0.971/0.921/1.000
  same, with every glossary term named        0.945/0.927/0.877/0.955 | 0.962/0.967/0.934/1.000
  same, the longest glossary term (chosen)    0.950/0.925/0.871/0.955 | 0.981/0.976/0.932/1.000
  technical senses, a need's word that only occurs inside a longer word of the need (毫米 in 毫米波)
    weighted 0.5 / 0.3                        0.945/0.907/0.843/0.955 | 0.971/0.971/0.916/1.000 (0.5)
                                              0.945/0.909/0.836/0.955 | 0.971/0.967/0.913/1.000 (0.3)
    the same at 0.5 with every glossary term  0.950/0.923/0.856/0.932 | 0.981/0.976/0.926/1.000
The sub-word weights trade recall and crossing for a little precision and are not adopted.
Then 16 needs were added (49 Chinese and 32 English in all), written after the glossary rows and before their
rankings were seen. On those 16 alone, concepts-1 -> concepts-2: en 0.891/0.855/0.798/0.909 ->
0.964/0.964/0.884/1.000, zh (5 needs) 1.000/1.000/0.989/0.800 -> 1.000/1.000/1.000/0.800. On all 81:
  concepts-1                                  0.931/0.898/0.832/0.571 | 0.950/0.897/0.834/0.938
  concepts-2                                  0.955/0.933/0.884/0.939 | 0.975/0.972/0.915/1.000
  + the field/IPC signal in proportion to the text (engine.signal_share, chosen)
                                              0.963/0.947/0.926/0.939 | 0.975/0.975/0.943/1.000
  + a need's sub-words weighted 0.5 / 0.3     0.967/0.949/0.919/0.939 | 0.994/0.978/0.939/1.000 (0.5)
                                              0.976/0.941/0.910/0.939 | 0.994/0.963/0.934/1.000 (0.3)
What is left, by the printed misses: jieba's search mode cuts one word into several overlapping features
(二氧化碳 gives five, 毫米波 three), so a near-miss sharing one long word can outweigh a listing sharing two
distinct subject words (the sub-word weights above are the measured remedy: more precision, less recall, not
adopted); Chinese synonyms stay apart (追溯 / 溯源); a need's object that is also a near-miss's subject
(垃圾渗滤液 for an anammox need) is not a setting word; and senses the glossary still lacks (of the 16 new needs,
"infant formula" became 婴幼儿 + 公式, formula's general sense: left as found, since fixing it from that need would
fit the check).

Session 33 (tokens "concepts-3"): Chinese synonyms as one feature, and the claim format's words stopped. A table
of Chinese technical terms that name one thing (marketplace/listings/zh_synonyms.csv, a source per row; 11 rows, 3
of them named in the labelled set: 追溯/溯源, 波束赋形/波束成形, 无人驾驶/自动驾驶): a variant stands for its
preferred term, found in a run like a glossary term (jieba cuts 波束赋形 into 波束 and 赋形). Not derived from the
bridge: Chinese terms that share an English counterpart in the glossary or CC-CEDICT are often not synonyms (改性 /
修形 for "modification", 盾构 / 护罩 for "shield", 功率 / 电力 for "power"). Same columns:
  concepts-2 (the state above)                0.963/0.947/0.926/0.939 | 0.975/0.975/0.943/1.000
  synonym table                               0.963/0.955/0.926/0.939 | 0.975/0.975/0.943/1.000
  + the claim format's and design filings' words stopped (设备, 存储介质, 外观设计, 设计要点, 要点; chosen)
                                              0.963/0.955/0.929/0.939 | 0.975/0.975/0.944/1.000
  same, 介质 stopped too                      0.963/0.955/0.929/0.939 | 0.975/0.975/0.944/1.000
  synonyms, a search-mode piece that jieba's dictionary counts fewer than 4 times (米波, 化碳, 二氧, 气轮机) dropped
    where a longer word of the run holds it, in every text
                                              0.967/0.959/0.927/0.939 | 0.981/0.966/0.936/1.000
    the same below 50 times (also 织品, 轮机)     0.963/0.959/0.916/0.939 | 0.981/0.966/0.931/1.000
    below 4 times, in needs only              0.967/0.959/0.928/0.939 | 0.975/0.975/0.941/1.000
    below 4 times, in needs only, with the stop words above
                                              0.967/0.959/0.932/0.939 | 0.975/0.975/0.943/1.000
  synonyms, a title counted twice (need and listing)
                                              0.967/0.955/0.928/0.939 | 0.975/0.969/0.941/1.000
Dropping the pieces in every text costs English needs (a listing's norm changes with its pieces); in needs only it
is the best row, but a need's words would then be cut otherwise than the same text in a listing (the reference
ranking and a listing's candidate needs tokenize both alike), for +0.004 on zh p@10: not adopted, nor the title
counted twice (en p@10 drops). On the bench corpus (bench/match_bench.py, precision_on_generated_subjects: 20,000
patents, 7,616 listings, 500 needs; subject p@5/p@10 | domain p@5/p@10, all needs) the synonyms change nothing (its
vocabulary has none of the table's variants): 0.907/0.859 | 0.974/0.964; the stop words 0.911/0.863 |
0.978/0.966; the title counted twice 0.924/0.877 | 0.979/0.966; the needs' pieces 0.907/0.859 | 0.975/0.963. What
limits the subject figure there is the generator: a need's description is its row's abstract, whose steps and
effects are its domain's (电动汽车能量管理 shares 感知, 周围, 环境, 轨迹 with 自动泊车), so only the subject's own
phrase tells two topics of one domain apart.

Session 33, second part (tokens "concepts-4"): weighting the terms that name the subject, measured on both sets
(labelled: same columns; bench: subject p@5/p@10 zh | en, 339 and 161 needs):
  concepts-3 (the state above)                0.963/0.955/0.929/0.939 | 0.975/0.975/0.944/1.000
                                              bench 0.935/0.889 | 0.861/0.809
  a need's title tokens counted 1.5 times (need side only)
                                              0.963/0.955/0.929/0.939 | 0.969/0.975/0.941/1.000
                                              bench 0.937/0.891 | 0.868/0.812
  a need's title counted twice (need side only)
                                              0.963/0.955/0.929/0.939 | 0.969/0.969/0.939/1.000
                                              bench 0.937/0.895 | 0.872/0.817
  a need's word weighted by min(1, c0/s), s the largest share of one field's listings (fields of 20 or more)
  that have the word (a field's own steps and effects as setting words), c0 = 0.3
                                              0.943/0.931/0.901/0.939 | 0.969/0.966/0.905/1.000
                                              bench 0.932/0.891 | 0.871/0.803 (c0 0.15: 0.923/0.891 | 0.865/0.807)
  a listing's title counted twice (listing side only, ``TITLE_TIMES``; chosen)
                                              0.967/0.957/0.930/0.939 | 0.981/0.975/0.950/1.000
                                              bench 0.942/0.901 | 0.881/0.825 (all 0.922/0.877,
                                              domain p@5/p@10 0.980/0.966; before 0.911/0.863, 0.978/0.966)
  a listing's title counted three times      0.967/0.955/0.929/0.939 | 0.981/0.975/0.948/1.000
                                              bench 0.945/0.905 | 0.888/0.833 (zh p@10 and r@20 drop)
  twice, and the need's title twice            bench 0.943/0.904 | 0.892/0.832 (costs en p@5 on the labelled set,
                                              as the need's title alone does)
The title as a field weighted twice over the abstract is what BM25F gives a title: a patent's title states what
the invention is, its abstract adds steps and effects shared by its whole field. On the listing side it raises
or keeps every labelled figure; weighting the need's title costs English needs p@5 on the labelled set (a buyer's
title is often shorter and more general than its description), so the need's text is counted as written.
The field-share discount punishes a subject word of a field with few topics (the labelled corpus has about 18
listings per topic), so it is not a measure of setting. What is left on the bench corpus (subject p@10 0.877 of a
possible 0.978, domain p@10 0.966): the generated need shares its whole abstract with its domain's listings, a
setting no general weight can tell from a subject.

Fit: term counts of every published listing are stored per listing (``ListingTerms``); the fit
(``MatchingIndex``) is the append-only vocabulary and the document frequencies over the listings.
``matching_index_rebuild`` re-segments only listings whose text hash changed, then refits;
``matching_index_refit`` recomputes the frequencies from the stored counts (no jieba).

Fold: publishing, editing or withdrawing a listing (``listing_sync``) and editing a patent (the patent-change
listener) rewrite that listing's row with the stored vocabulary (new words are appended with frequency 0) in
the same transaction (marketplace.matching.services.matching_index_sync). Refit rule: once the listings folded
since the fit exceed ``REFIT_SHARE`` of those fitted on, or the words added since the fit exceed
``REFIT_SHARE`` of the fitted vocabulary, a refit is enqueued after the commit (``manage.py
build_matching_index`` and ``refresh_matches`` fit anew every time).

Weights, as scikit-learn's ``TfidfVectorizer(sublinear_tf=True)`` fitted on the listings *and the need* would
give them, which is what the engine did per need before: with n listings in the fit, a listing's weight of term
t is (1 + ln tf) · (ln((n+2)/(df+1)) + 1), L2-normalised; a need's weight is (1 + ln tf) · (ln((n+2)/(df+2)) + 1)
(the need itself counts in df), normalised over all of its words (also those no listing has). The need's
vector is multiplied by idf_need/idf_listing term by term, so that the one product gives exactly the old dot
product's numerator; what differs by construction is a listing's norm, which the old fit computed with the
need's words one document more frequent (and without the buyer's own or licensed listings in the corpus).
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import logging
import math
import re
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

import jieba
import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from scipy import sparse
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from licensing.models import LICENSABLE_DECLARATION_STATES, Declaration
from marketplace.listings.bilingual import counterparts, glossary_terms_zh, zh_synonyms
from marketplace.models import ListingTerms, MatchingIndex

jieba.setLogLevel(logging.WARNING)

REFIT_SHARE = 0.05
# Rows loaded into memory as a separate block before the blocks are merged again into one matrix.
MERGE_SHARE = 0.05
_CHUNK = 2000
# The advisory lock key that serialises rebuilds of the index on PostgreSQL (matching_index_rebuild).
REBUILD_LOCK = 22_002


_CJK_RUN = re.compile(r"[\u3400-\u9fff]+")
_WORD = re.compile(r"[a-z0-9]{2,}")
_STOP_ZH = {"一种", "本发明", "发明", "公开", "提供", "方法", "及其", "制备", "制备方法", "装置", "系统", "所述",
            "包括", "用于", "我们", "需要", "技术", "产品", "一个", "进行", "通过", "可以", "以及", "实现",
            "寻求", "专利", "适用",
            # The claim format's and the design filing's words, named by every software or design patent whatever
            # its subject ("...方法、装置、设备及存储介质", "外观设计要点"): shared, they outweighed the subject.
            "设备", "存储介质", "外观设计", "设计要点", "要点"}
_STOP_EN = set(ENGLISH_STOP_WORDS) | {"method", "methods", "invention", "discloses", "disclosed", "provides",
                                      "thereof", "need", "needs", "looking", "product", "products", "using", "used",
                                      "based", "device", "system", "technology", "preparation", "patent", "patents",
                                      "seek", "seeking", "suitable", "suits", "sit", "sits", "gives", "carries",
                                      "carry", "keeps", "finds", "come", "comes", "runs", "per", "cent", "written"}


# Part of every stored text hash while the concepts are on: needs and listings whose tokens were made otherwise
# are segmented anew (``build_matching_index`` after deploying; a need when next matched).
TOKENS_VERSION = "concepts-4"
# A listing's title is counted this many times in its text (``listing_text``): a field weight, as BM25F gives
# the title, on the listing side only (the need's title and description stay counted once: measured worse).
TITLE_TIMES = 2
# Phrases of up to this many English words are looked up in the bridge before single words ("heat pump" is 热泵,
# where "heat" and "pump" alone are single characters that no Chinese text is cut into).
_PHRASE_WORDS = 3


def _own_tokens(text: str, cut: Callable[[str], Iterable[str]] | None = None) -> list[str]:
    text = (text or "").lower()
    cut = cut or jieba.cut_for_search
    tokens = [w for run in _CJK_RUN.findall(text) for w in cut(run)
              if len(w) >= 2 and w not in _STOP_ZH]
    latin = _CJK_RUN.sub(" ", text)
    tokens += [w for w in _WORD.findall(latin) if w not in _STOP_EN and not w.isdigit()]
    return tokens


@functools.lru_cache(maxsize=1)
def _glossary_by_start() -> dict[str, tuple[str, ...]]:
    by_start: dict[str, list[str]] = {}
    for term in glossary_terms_zh() | zh_synonyms().keys():
        by_start.setdefault(term[:2], []).append(term)
    return {k: tuple(sorted(v, key=len, reverse=True)) for k, v in by_start.items()}


def _cut_run(run: str, cut: Callable[[str], Iterable[str]]) -> list[str]:
    """A Chinese run's words (two characters or more, stop words dropped) and, once each, the glossary's terms
    the run names that the segmenter did not emit: jieba cuts 厌氧氨氧化 into 厌氧 and 氧化 and 纳滤膜 into 纳 and
    滤膜, so the technical term itself, the most specific evidence of the subject, would never be a feature. A
    word of the synonym table (``zh_synonyms``: 追溯, 波束赋形) is found like a glossary term and stands for its
    preferred term (溯源, 波束成形): two names of one thing are one feature, as a word and its English counterpart
    are."""
    words = [w for w in cut(run) if len(w) >= 2 and w not in _STOP_ZH]
    starts = _glossary_by_start()
    seen = set(words) | _STOP_ZH
    end = 0  # where the last term found ends: a term inside it (渗滤液 in 垃圾渗滤液) would count that word twice
    for i in range(len(run) - 1):
        for term in starts.get(run[i:i + 2], ()):  # longest first
            if run.startswith(term, i):
                if i + len(term) > end:
                    end = i + len(term)
                    if term not in seen:
                        seen.add(term)
                        words.append(term)
                break
    preferred = zh_synonyms()
    return [preferred.get(w, w) for w in words]


def bilingual_terms() -> bool:
    """Whether English words are represented by their concepts (settings.MATCHING_BILINGUAL_TERMS, on by
    default; off, every word stands for itself and the languages do not meet)."""
    return bool(getattr(settings, "MATCHING_BILINGUAL_TERMS", True))


@functools.lru_cache(maxsize=200_000)
def concept_tokens(words: tuple[str, ...]) -> tuple[str, ...] | None:
    """The concept an English word or phrase (lower-case words) stands for, as the tokens the matching cuts its
    Chinese counterpart into (superalloy -> 高温合金 -> 高温, 合金, 高温合金): the bridge's first counterpart of
    two characters or more (our glossary wins over CC-CEDICT, marketplace.listings.bilingual). None when the
    bridge has none, or only single characters (泵: Chinese text is never cut into those, so the English word is
    kept); () when the counterpart is one of the words the matching drops (装置, 方法)."""
    if len(words) == 1 and (words[0] in _STOP_EN or words[0].isdigit()):
        return None
    keys = [" ".join(words)] + (["-".join(words)] if len(words) > 1 else [])
    for key in keys:
        for found in counterparts(key):
            if len(found) >= 2 and _CJK_RUN.fullmatch(found):  # the first a Chinese text can be cut into (爪 never is)
                return tuple(_cut_run(found, jieba.cut_for_search))
    return None


def _concepts(words: list[str]) -> list[str]:
    """English words as concepts: the longest phrase the bridge knows first, a word without a concept as
    itself (stop words and numbers dropped)."""
    tokens: list[str] = []
    i = 0
    while i < len(words):
        for n in range(min(_PHRASE_WORDS, len(words) - i), 0, -1):
            found = concept_tokens(tuple(words[i:i + n]))
            if found is not None:
                tokens += found
                i += n
                break
        else:
            if words[i] not in _STOP_EN and not words[i].isdigit():
                tokens.append(words[i])
            i += 1
    return tokens


def tokenize(text: str, *, cut: Callable[[str], Iterable[str]] | None = None) -> list[str]:
    """Tokens for TF-IDF: jieba words (two characters or more) for Chinese, then the English words as their
    concepts (``bilingual_terms``; ``concept_tokens``), so that 电池 and "battery" are one feature in both
    texts, shown once in an explanation (``term_label``: "电池 / battery"). ``cut`` replaces
    ``jieba.cut_for_search`` on each Chinese run (a caching cutter giving the same words)."""
    if not bilingual_terms():
        return _own_tokens(text, cut)
    text = (text or "").lower()
    cut = cut or jieba.cut_for_search
    tokens = [w for run in _CJK_RUN.findall(text) for w in _cut_run(run, cut)]
    return tokens + _concepts(_WORD.findall(_CJK_RUN.sub(" ", text)))


def term_label(token: str) -> str:
    """How a matched token is shown: a Chinese token with its English counterpart when an English word of the
    bridge stands for it ("电池 / battery"; a word and its counterpart are one feature, so shown once), any
    other token as it is."""
    return _label(token) if bilingual_terms() else token


@functools.lru_cache(maxsize=20_000)
def _label(token: str) -> str:
    if token.isascii():
        return token
    for english in counterparts(token):
        words = tuple(_WORD.findall(english))
        if token in (concept_tokens(words) or ()):
            return f"{token} / {english}"
    return token


def listing_text(title: str, abstract: str, title_en: str = "", abstract_en: str = "") -> str:
    """A listing's text as it is segmented: its title counted twice, in each language (``TITLE_TIMES``), then its
    abstract. A patent's title states what the invention is; its abstract adds the steps and effects its whole
    field shares, which outweighed the one phrase that names the subject (module docstring, session 33)."""
    titles = [t for t in (title, title_en) if t]
    english = " ".join(part for part in (title_en, abstract_en) if part)
    text = f"{title} {abstract} {english}" if english else f"{title} {abstract}"
    return " ".join([*(t for t in titles for _ in range(TITLE_TIMES - 1)), text])


def need_text(title: str, description: str) -> str:
    return f"{title} {description}"


def need_terms(*, title: str, description: str) -> dict:
    """What ``Need.match_terms`` stores: the hash of the need's text and its words with their counts, in order of
    first occurrence (the order the weights are summed in, so a stored need scores exactly as a segmented one)."""
    text = need_text(title, description)
    counted: dict[str, int] = {}
    for token in tokenize(text):
        counted[token] = counted.get(token, 0) + 1
    return {"text_hash": _text_hash(text), "tokens": [[t, n] for t, n in counted.items()]}


def need_token_counts(need) -> list:
    """The need's [word, count] pairs: the stored ones while they belong to its current text, else segmented now
    (a need written around the services, e.g. by a bulk load)."""
    stored = need.match_terms
    if stored and stored.get("text_hash") == _text_hash(need_text(need.title, need.description)):
        return stored["tokens"]
    return need_terms(title=need.title, description=need.description)["tokens"]


def _norm_ipc(code: str) -> str:
    return "".join((code or "").split()).upper()


def _subclasses(ipc_subclass: str, ipc_codes) -> list[str]:
    subs = {_norm_ipc(c)[:4] for c in (ipc_codes or []) if c}
    if ipc_subclass:
        subs.add(ipc_subclass.upper())
    return sorted(s for s in subs if s)


def _text_hash(text: str) -> str:
    # Without the counterparts the tokens are what they were: the hashes too, so stored words stay valid.
    if bilingual_terms():
        text = f"{TOKENS_VERSION}\n{text}"
    return hashlib.sha1(text.encode("utf-8"), usedforsecurity=False).hexdigest()


# ---------------------------------------------------------------------------------------------- writing

_FIELDS = ("pk", "holder_id", "patent__title", "patent__abstract", "patent__title_en", "patent__abstract_en",
           "patent__technology_field", "patent__ipc_subclass", "patent__ipc_codes", "patent__grade_score",
           "patent__expiry_date")


def _counts(tokens: list[str], vocabulary: dict[str, int], terms: list[str]) -> tuple[bytes, bytes]:
    counted: dict[int, int] = {}
    for token in tokens:
        term = vocabulary.get(token)
        if term is None:
            term = vocabulary[token] = len(terms)
            terms.append(token)
        counted[term] = counted.get(term, 0) + 1
    ids = np.fromiter(counted.keys(), dtype="<i4", count=len(counted))
    counts = np.fromiter((min(c, 65535) for c in counted.values()), dtype="<u2", count=len(counted))
    return ids.tobytes(), counts.tobytes()


def _row(values: tuple, *, vocabulary, terms, version: int, reuse: dict | None = None,
         segmented: Mapping[int, Sequence[str]] | None = None) -> ListingTerms:
    (pk, holder_id, title, abstract, title_en, abstract_en, tech_field, ipc_subclass, ipc_codes, grade_score,
     expiry) = values
    text = listing_text(title, abstract, title_en, abstract_en)
    digest = _text_hash(text)
    old = (reuse or {}).get(pk)
    if old is not None and old[0] == digest:  # same text: the counts (term ids of the append-only vocabulary) hold
        ids, counts = old[1], old[2]
    else:
        words = segmented.get(pk) if segmented is not None else None
        ids, counts = _counts(tokenize(text) if words is None else words, vocabulary, terms)
    return ListingTerms(declaration_id=pk, listed=True, text_hash=digest, term_ids=ids, term_counts=counts,
                        holder_id=holder_id, technology_field=tech_field, ipc_subclass=(ipc_subclass or "").upper(),
                        ipc_subclasses=_subclasses(ipc_subclass, ipc_codes), grade_score=grade_score or 0,
                        expiry_date=expiry, changed_in=version)


def _published():
    return Declaration.objects.filter(state__in=LICENSABLE_DECLARATION_STATES)


def _fit(index: MatchingIndex) -> None:
    """Document frequencies over the listed rows' stored counts, and the co-classification of their IPC
    subclasses; no segmentation."""
    df = np.zeros(len(index.terms), dtype=np.int64)
    listed, pairs = 0, []
    subclasses: Counter = Counter()
    together: Counter = Counter()
    rows = ListingTerms.objects.filter(listed=True).order_by("pk").values_list("pk", "text_hash", "term_ids",
                                                                              "ipc_subclasses")
    for pk, digest, ids, subs in rows.iterator(chunk_size=_CHUNK):
        df[np.frombuffer(bytes(ids), dtype="<i4")] += 1
        listed += 1
        pairs.append(f"{pk}:{digest}")
        subclasses.update(subs)
        if len(subs) > 1:
            together.update(itertools.combinations(sorted(subs), 2))
    index.coclassified = _coclassified(subclasses, together)
    index.document_frequencies = df.astype("<i4").tobytes()
    index.fitted_terms = len(index.terms)
    index.fitted_listings = listed
    index.content_hash = _text_hash("\n".join(pairs))
    index.fitted_at = timezone.now()
    index.key = uuid.uuid4()
    index.folded_since_fit = 0


def _coclassified(subclasses: Counter, together: Counter) -> dict:
    """What ``MatchingIndex.coclassified`` stores: listings per subclass and, per subclass, the others it shares
    listings with (both directions; a pair seen once is left out as noise)."""
    pairs: dict[str, dict[str, int]] = {}
    for (a, b), n in together.items():
        if n >= 2:
            pairs.setdefault(a, {})[b] = n
            pairs.setdefault(b, {})[a] = n
    return {"listings": dict(subclasses), "pairs": pairs}


@transaction.atomic
def matching_index_rebuild(*, progress: Callable[[int, int], None] | None = None,
                           segmented: Mapping[int, Sequence[str]] | None = None) -> MatchingIndex:
    """Bring every published listing's terms in step (re-segmenting only those whose text changed since they
    were stored) and fit the index on them. One transaction: matching goes on reading the old index until it
    commits. ``progress(done, total)`` is called after each chunk of listings. ``segmented`` (declaration pk ->
    what ``tokenize`` gives for that listing's text now) spares segmenting those listings again: the benchmark
    generator cuts them while it writes their search documents."""
    if connection.vendor == "postgresql":
        # One rebuild at a time: before the first index row exists there is nothing for select_for_update to lock,
        # and two workers building it at once (the first need and listing after a deploy) collided on the terms'
        # keys (tests/reliability/test_scale_out.py). The second waits, then rebuilds on what the first stored.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [REBUILD_LOCK])
    index = MatchingIndex.objects.select_for_update().first()
    if index is None:
        index = MatchingIndex(terms=[], document_frequencies=b"", content_hash="", fitted_at=timezone.now(),
                              version=0)
    terms = list(index.terms)
    vocabulary = {t: i for i, t in enumerate(terms)}
    version = index.version + 1
    published = _published().order_by("pk").values_list(*_FIELDS)
    total = published.count() if progress else 0
    done = last = 0
    while True:  # chunk by chunk, so that memory stays bounded at a million listings
        chunk = list(published.filter(pk__gt=last)[:_CHUNK])
        if not chunk:
            break
        pks = [values[0] for values in chunk]
        stored = ListingTerms.objects.filter(pk__in=pks)
        reuse = {pk: (digest, bytes(ids), bytes(counts)) for pk, digest, ids, counts in
                 stored.values_list("pk", "text_hash", "term_ids", "term_counts")}
        stored.delete()
        ListingTerms.objects.bulk_create(
            [_row(v, vocabulary=vocabulary, terms=terms, version=version, reuse=reuse, segmented=segmented)
             for v in chunk])
        last, done = pks[-1], done + len(chunk)
        if progress:
            progress(done, total)
    ListingTerms.objects.filter(changed_in__lt=version).delete()  # no longer published
    index.terms, index.version = terms, version
    _fit(index)
    index.save()
    return index


@transaction.atomic
def matching_index_refit() -> MatchingIndex | None:
    """Fit the document frequencies again over the listings now stored (after many folds). No segmentation."""
    index = MatchingIndex.objects.select_for_update().first()
    if index is None:
        return None
    _fit(index)  # a new key: every process loads the refitted matrix whole
    index.version += 1
    index.save()
    return index


def refit_due(index: MatchingIndex) -> bool:
    """The refit rule (see the module's docstring)."""
    added_terms = len(index.terms) - index.fitted_terms
    return (index.folded_since_fit > REFIT_SHARE * max(index.fitted_listings, 1)
            or added_terms > REFIT_SHARE * max(index.fitted_terms, 1))


@transaction.atomic
def matching_index_fold(*, declaration_ids: Iterable[int]) -> int:
    """Fold these declarations into the stored index in the caller's transaction: a published one gets its terms
    (with the stored vocabulary) and facts rewritten, any other is marked as no longer listed. Nothing happens
    before the index is first built (its build reads every listing anyway). Returns the rows written
    (marketplace.matching.services.matching_index_sync also enqueues the refit the rule asks for)."""
    ids = sorted(set(declaration_ids))
    index = MatchingIndex.objects.select_for_update().first() if ids else None
    if index is None:
        return 0
    terms = list(index.terms)
    vocabulary = {t: i for i, t in enumerate(terms)}
    version = index.version + 1
    rows = [_row(v, vocabulary=vocabulary, terms=terms, version=version)
            for v in _published().filter(pk__in=ids).order_by("pk").values_list(*_FIELDS)]
    listed = {r.declaration_id for r in rows}
    ListingTerms.objects.filter(pk__in=listed).delete()
    ListingTerms.objects.bulk_create(rows)
    gone = ListingTerms.objects.filter(pk__in=[i for i in ids if i not in listed], listed=True).update(
        listed=False, changed_in=version)
    if not rows and not gone:
        return 0
    index.terms, index.version = terms, version
    index.folded_since_fit += len(rows) + gone
    index.save(update_fields=["terms", "version", "folded_since_fit"])
    return len(rows) + gone


def matching_index_refit_due() -> bool:
    index = MatchingIndex.objects.only("terms", "fitted_terms", "fitted_listings", "folded_since_fit").first()
    return index is not None and refit_due(index)


# ---------------------------------------------------------------------------------------------- reading


def _idf(df: np.ndarray, n: int, *, with_need: bool) -> np.ndarray:
    return np.log((n + 2) / (df + (2.0 if with_need else 1.0))) + 1.0


@dataclass
class NeedVectors:
    """A batch of needs in the market's term space: ``matrix`` (needs x terms) multiplied by the listing matrix
    gives the cosine similarities."""

    matrix: sparse.csr_matrix

    def row(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """The need's known word ids (ascending) and their weights."""
        lo, hi = self.matrix.indptr[i], self.matrix.indptr[i + 1]
        return self.matrix.indices[lo:hi].astype(np.int64), self.matrix.data[lo:hi]


@dataclass
class MarketMatrix:
    """The listings' TF-IDF as one process holds it (``market_matrix()``), with the per-row facts that choose
    candidates. Rows are appended as listings are folded; a replaced or withdrawn listing's old row is dead."""

    key: str
    version: int
    listings: int
    terms: list[str]
    vocabulary: dict[str, int]
    df: np.ndarray
    blocks: list[sparse.csc_matrix] = field(default_factory=list)
    declaration_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    holder_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    fields: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int16))
    main_subclass: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    grade: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float64))
    expiry: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    alive: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    subclass_ids: dict[str, int] = field(default_factory=dict)
    subclass_rows: dict[int, list[int]] = field(default_factory=dict)
    row_of: dict[int, int] = field(default_factory=dict)
    idf_listing: np.ndarray = field(default_factory=lambda: np.zeros(0))
    idf_need: np.ndarray = field(default_factory=lambda: np.zeros(0))
    # The fit's co-classification statistics (``MatchingIndex.coclassified``): the engine reads related
    # subclasses from them.
    coclassified: dict = field(default_factory=dict)
    _subclass_hits: dict = field(default_factory=dict)
    _groups: dict = field(default_factory=dict)
    _derived: dict = field(default_factory=dict)

    @property
    def size(self) -> int:
        return len(self.declaration_ids)

    def _extend_idf(self) -> None:
        df = np.zeros(len(self.terms), dtype=np.float64)
        df[:len(self.df)] = self.df
        self.idf_listing = _idf(df, self.listings, with_need=False)
        self.idf_need = _idf(df, self.listings, with_need=True)

    def _append(self, rows: list[tuple]) -> None:
        """Append listed rows (as loaded) as one new block; earlier rows of the same listings die."""
        if not rows:
            return
        start = self.size
        # The weights of every row at once (a million listings load in seconds, not a Python pass per row).
        ids_bytes = [bytes(r[1]) for r in rows]
        term_ids = np.frombuffer(b"".join(ids_bytes), dtype="<i4").astype(np.int32)
        tf = np.frombuffer(b"".join(bytes(r[2]) for r in rows), dtype="<u2").astype(np.float64)
        lengths = np.fromiter((len(b) // 4 for b in ids_bytes), dtype=np.int64, count=len(rows))
        indptr = np.concatenate([[0], np.cumsum(lengths)])
        weights = (1.0 + np.log(tf)) * self.idf_listing[term_ids]
        norms = np.ones(len(rows))
        filled = lengths > 0
        if len(weights):
            norms[filled] = np.sqrt(np.add.reduceat(weights * weights, indptr[:-1][filled]))
        norms[norms == 0] = 1.0
        data = weights / np.repeat(norms, lengths)
        meta = {"decl": [], "holder": [], "field": [], "main": [], "grade": [], "expiry": []}
        for offset, (pk, _ids, _counts, holder, tech_field, main, subs, grade, expiry) in enumerate(rows):
            old = self.row_of.get(pk)
            if old is not None:
                self.alive[old] = False
            self.row_of[pk] = start + offset
            meta["decl"].append(pk)
            meta["holder"].append(holder)
            meta["field"].append(-1 if tech_field is None else tech_field)
            meta["main"].append(self._subclass_id(main) if main else -1)
            meta["grade"].append(min(grade, 100) / 100)
            meta["expiry"].append(expiry.toordinal() if expiry else 0)
            for sub in subs:
                self.subclass_rows.setdefault(self._subclass_id(sub), []).append(start + offset)
        block = sparse.csr_matrix((data.astype(np.float32), term_ids, indptr),
                                  shape=(len(rows), len(self.terms))).tocsc()
        block.sort_indices()
        self.blocks.append(block)
        self.declaration_ids = np.concatenate([self.declaration_ids, np.array(meta["decl"], np.int64)])
        self.holder_ids = np.concatenate([self.holder_ids, np.array(meta["holder"], np.int64)])
        self.fields = np.concatenate([self.fields, np.array(meta["field"], np.int16)])
        self.main_subclass = np.concatenate([self.main_subclass, np.array(meta["main"], np.int32)])
        self.grade = np.concatenate([self.grade, np.array(meta["grade"], np.float64)])
        self.expiry = np.concatenate([self.expiry, np.array(meta["expiry"], np.int64)])
        self.alive = np.concatenate([self.alive, np.ones(len(rows), bool)])

    def _subclass_id(self, subclass: str) -> int:
        return self.subclass_ids.setdefault(subclass, len(self.subclass_ids))

    def _merge(self) -> None:
        if len(self.blocks) > 1:
            width = len(self.terms)
            for block in self.blocks:
                block.resize((block.shape[0], width))  # earlier blocks predate the words appended since
            self.blocks = [sparse.vstack(self.blocks, format="csc")]
            self.blocks[0].sort_indices()

    # --------------------------------------------------------------------- needs

    def need_vectors(self, token_counts: list[list]) -> NeedVectors:
        """The needs' vectors from their [word, count] pairs (``need_token_counts``; see the module's docstring for
        the weights), every need of a batch at once."""
        oov_idf = math.log((self.listings + 2) / 2.0) + 1.0
        vocabulary = self.vocabulary
        lengths = [len(counted) for counted in token_counts]
        terms = np.array([vocabulary.get(token, -1) for counted in token_counts for token, _ in counted], np.int64)
        tf = np.array([n for counted in token_counts for _, n in counted], np.float64)
        owner = np.repeat(np.arange(len(token_counts)), lengths)
        sub = 1.0 + np.log(tf)
        norm2 = np.zeros(len(token_counts))
        oov = terms < 0
        np.add.at(norm2, owner[oov], (sub[oov] * oov_idf) ** 2)  # words no listing has count in the norm
        known = np.flatnonzero(~oov)
        known = known[np.lexsort((terms[known], owner[known]))]
        ids, owner, sub = terms[known], owner[known], sub[known]
        idf_q = self.idf_need[ids]
        weights = sub * idf_q
        np.add.at(norm2, owner, weights * weights)
        norm = np.sqrt(norm2)
        weights = weights * idf_q / self.idf_listing[ids] / np.where(norm > 0, norm, 1.0)[owner]
        indptr = np.searchsorted(owner, np.arange(len(token_counts) + 1))
        matrix = sparse.csr_matrix((weights, ids, indptr), shape=(len(token_counts), len(self.terms)))
        return NeedVectors(matrix=matrix)

    def products(self, needs: sparse.csr_matrix) -> sparse.csr_matrix:
        """Cosine similarity of each need (rows of ``needs``) with every row of the market, as the sparse product
        (needs x rows; a row sharing no word with a need has no entry): one product per block (one block almost
        always). Left sparse: a need's candidates are taken from its entries (engine._pick), and a dense copy of
        a batch's product cost more than the product itself."""
        parts = []
        for block in self.blocks:
            width = block.shape[1]
            parts.append((needs[:, :width] @ block.T).tocsr() if needs.shape[0] > 1 else
                         sparse.csr_matrix(self._one(needs, block, width)))
        if not parts:
            return sparse.csr_matrix((needs.shape[0], 0))
        return sparse.hstack(parts, format="csr") if len(parts) > 1 else parts[0]

    @staticmethod
    def _one(need: sparse.csr_matrix, block: sparse.csc_matrix, width: int) -> np.ndarray:
        # One need: only the columns of its words are read (their posting lists).
        ids, weights = need.indices, need.data
        keep = ids < width
        ids, weights = ids[keep], weights[keep]
        if not len(ids):
            return np.zeros((1, block.shape[0]))
        return np.asarray(block[:, ids] @ weights, dtype=np.float64).reshape(1, -1)

    def term_weights(self, need: tuple[np.ndarray, np.ndarray], rows: np.ndarray) -> np.ndarray:
        """The listing weights of the need's words in these rows (len(rows) x the need's known words)."""
        ids = need[0]
        values = np.zeros((len(rows), len(ids)))
        base = 0
        for block in self.blocks:
            height = block.shape[0]
            inside = (rows >= base) & (rows < base + height)
            known = ids[ids < block.shape[1]]
            if inside.any() and len(known):
                local, where = rows[inside] - base, np.flatnonzero(inside)
                bounds = zip(block.indptr[known].tolist(), block.indptr[known + 1].tolist(), strict=True)
                for j, (lo, hi) in enumerate(bounds):
                    postings = block.indices[lo:hi]
                    at = np.searchsorted(postings, local)
                    np.minimum(at, len(postings) - 1, out=at)
                    hit = postings[at] == local if hi > lo else np.zeros(len(local), bool)
                    values[where[hit], j] = block.data[lo + at[hit]]
            base += height
        return values

    def _cached(self, name: str, make: Callable[[], object]):
        # Derived once per shape of the matrix (rows appended or words added make it again).
        key = (self.size, len(self.terms), len(self.blocks))
        hit = self._derived.get(name)
        if hit is None or hit[0] != key:
            hit = self._derived[name] = (key, make())
        return hit[1]

    def rows_csr(self) -> sparse.csr_matrix:
        """Every row (live or dead) as one CSR matrix over the whole vocabulary: a batch reads its candidates'
        rows from it in one gather."""
        def make():
            width = len(self.terms)
            parts = []
            for block in self.blocks:
                rows = block.tocsr()
                rows.resize((rows.shape[0], width))
                parts.append(rows)
            matrix = sparse.vstack(parts, format="csr") if len(parts) > 1 else parts[0]
            matrix.sort_indices()
            return matrix
        return self._cached("csr", make)

    def stretch(self) -> np.ndarray:
        """Per word, what sharing it with a need adds to a row's squared norm: the per-need fit
        counted the need's words one document more frequent (see the module's docstring)."""
        return self._cached("stretch", lambda: (self.idf_need / self.idf_listing) ** 2 - 1.0)

    def term_order(self) -> np.ndarray:
        """Each word's position in the sorted vocabulary (the tie order of ``shared_terms``)."""
        def make():
            order = np.empty(len(self.terms), np.int64)
            order[sorted(range(len(self.terms)), key=self.terms.__getitem__)] = np.arange(len(self.terms))
            return order
        return self._cached("term_order", make)

    def rows_where(self, column: str, value: int) -> np.ndarray:
        """Rows (live or dead) whose ``column`` (fields, main_subclass, holder_ids) equals ``value``, from a
        grouping made once per change of the matrix: a need's block costs its own size, not the market's."""
        groups = self._groups.get(column)
        if groups is None or groups[0] != self.size:
            values = getattr(self, column)
            order = np.argsort(values, kind="stable")
            keys, starts = np.unique(values[order], return_index=True)
            ends = np.append(starts[1:], len(order))
            groups = (self.size, {int(k): order[a:b] for k, a, b in zip(keys, starts, ends, strict=True)})
            self._groups[column] = groups
        return groups[1].get(int(value), np.zeros(0, np.int64))

    def remaining_life(self, today: date, rows: np.ndarray) -> np.ndarray:
        """Years of protection left (as Patent.remaining_life_years, from the stored expiry) of these rows."""
        expiry = self.expiry[rows]
        days = np.maximum(expiry - today.toordinal(), 0)
        return np.where(expiry > 0, np.round(days / 365.25, 1), 0.0)

    def subclass_match(self, prefix: str) -> np.ndarray:
        """Rows with an IPC code in the subclass of ``prefix`` (or, for a prefix shorter than a subclass, under
        it): an upper bound of the IPC part of the score."""
        key = (prefix[:4], self.size)
        hit = self._subclass_hits.get(key)
        if hit is None:
            hit = np.zeros(self.size, bool)
            for sub, sub_id in self.subclass_ids.items():
                if prefix and (sub == prefix[:4] or (len(prefix) < 4 and sub.startswith(prefix))):
                    hit[self.subclass_rows.get(sub_id, [])] = True
            if len(self._subclass_hits) > 1000:  # a batch sees a few hundred subclasses at most
                self._subclass_hits.clear()
            self._subclass_hits[key] = hit
        return hit


_LOADED: dict[str, MarketMatrix] = {}
_LOCK = threading.Lock()
_ROW_FIELDS = ("pk", "term_ids", "term_counts", "holder_id", "technology_field", "ipc_subclass", "ipc_subclasses",
               "grade_score", "expiry_date")


def _load(index: MatchingIndex) -> MarketMatrix:
    market = MarketMatrix(key=str(index.key), version=index.version, listings=index.fitted_listings,
                          terms=list(index.terms), vocabulary={t: i for i, t in enumerate(index.terms)},
                          df=np.frombuffer(bytes(index.document_frequencies), dtype="<i4").astype(np.float64),
                          coclassified=index.coclassified or {})
    market._extend_idf()
    rows = ListingTerms.objects.filter(listed=True).order_by("pk").values_list(*_ROW_FIELDS)
    batch: list[tuple] = []
    for row in rows.iterator(chunk_size=_CHUNK):
        batch.append(row)
    market._append(batch)
    return market


def _catch_up(market: MarketMatrix, index_version: int) -> None:
    """Apply the rows folded since the market's version: new rows appended, old ones dead."""
    changed = list(ListingTerms.objects.filter(changed_in__gt=market.version).order_by("pk")
                   .values_list("listed", *_ROW_FIELDS))
    if any(np.frombuffer(bytes(r[2]), dtype="<i4").max(initial=-1) >= len(market.terms) for r in changed if r[0]):
        terms = MatchingIndex.objects.values_list("terms", flat=True).first() or []
        for t in terms[len(market.terms):]:
            market.vocabulary[t] = len(market.terms)
            market.terms.append(t)
        market._extend_idf()
    for listed, pk, *_ in changed:
        if not listed and pk in market.row_of:
            market.alive[market.row_of.pop(pk)] = False
    market._append([r[1:] for r in changed if r[0]])
    if sum(b.shape[0] for b in market.blocks[1:]) > MERGE_SHARE * max(market.size, 1):
        market._merge()
    market.version = index_version


def market_matrix() -> MarketMatrix:
    """The current index in memory: built on first use when none is stored yet, loaded once per process and
    fit, and brought up to date with the rows folded since (one small query when nothing changed)."""
    state = MatchingIndex.objects.values_list("key", "version").first()
    if state is None:
        matching_index_rebuild()
        state = MatchingIndex.objects.values_list("key", "version").first()
    key, version = str(state[0]), state[1]
    with _LOCK:
        market = _LOADED.get("market")
        if market is None or market.key != key or market.version > version:
            market = _LOADED["market"] = _load(MatchingIndex.objects.get())
        elif market.version < version:
            _catch_up(market, version)
        return market


def market_matrix_forget() -> None:
    """Drop this process's copy (tests, and the bench between databases)."""
    with _LOCK:
        _LOADED.clear()
