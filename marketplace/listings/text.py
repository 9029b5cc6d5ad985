"""Text segmentation of listings, for the search index and for queries: one rule on both sides, so a query
finds what the index holds. Imports no model, so the listing page model can use it."""

import logging
import re
from functools import lru_cache

import jieba

jieba.setLogLevel(logging.WARNING)

_WORD = re.compile(r"\w")
# jieba cuts a text by first splitting it into runs of Han characters, letters and digits (this pattern is
# jieba's own re_han_default) and cutting each run on its own; splitting the same way here gives exactly the
# words jieba gives for the whole text, while letting each run's words be remembered.
_RUNS = re.compile(r"([\u4E00-\u9FD5a-zA-Z0-9+#&\._%\-]+)", re.U)


@lru_cache(maxsize=200_000)
def _run_words(run: str) -> tuple[str, ...]:
    # Cached: listings repeat most of their runs (holders' names, IPC codes, the set phrases of patent
    # abstracts such as 本发明公开了一种), and jieba is nine tenths of building a search document.
    return tuple(w for w in jieba.cut_for_search(run) if _WORD.search(w))


def segment(text: str) -> str:
    """Words of ``text`` separated by spaces: Chinese cut by jieba's search mode (which also emits the shorter
    words inside long ones, so "电池" matches "锂电池"), everything else kept as written. Punctuation is dropped."""
    return " ".join(w for run in _RUNS.split(text or "") if run for w in _run_words(run))
