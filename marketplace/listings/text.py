"""Text segmentation of listings, for the search index and for queries: one rule on both sides, so a query
finds what the index holds. Imports no model, so the listing page model can use it."""

import logging
import re

import jieba

jieba.setLogLevel(logging.WARNING)

_WORD = re.compile(r"\w")


def segment(text: str) -> str:
    """Words of ``text`` separated by spaces: Chinese cut by jieba's search mode (which also emits the shorter
    words inside long ones, so "电池" matches "锂电池"), everything else kept as written. Punctuation is dropped."""
    return " ".join(w for w in jieba.cut_for_search(text or "") if _WORD.search(w))
