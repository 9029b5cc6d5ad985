"""Commercial promotional wording in a declaration's text (Implementing Regulations art. 85 para. 3). The word list
is data, with its sources, in promotional_words.txt beside this module."""

import re
from functools import lru_cache
from pathlib import Path

WORD_LIST = Path(__file__).with_name("promotional_words.txt")


@lru_cache(maxsize=1)
def _word_list() -> tuple[tuple[str, ...], tuple[str, ...]]:
    terms, allowed = [], []
    for line in WORD_LIST.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip() if not line.lstrip().startswith("#") else ""
        if not line:
            continue
        if line.startswith("allow:"):
            allowed.append(line.removeprefix("allow:").strip().lower())
        else:
            terms.append(line)
    return tuple(terms), tuple(allowed)


def promotional_terms() -> tuple[str, ...]:
    return _word_list()[0]


@lru_cache(maxsize=256)
def _pattern(term: str) -> re.Pattern:
    escaped = re.escape(term.lower())
    # Latin-letter terms match whole words only ("best" not in "asbestos"); others anywhere.
    if re.fullmatch(r"[a-z][a-z .'-]*[a-z.]", term.lower()):
        return re.compile(rf"(?<![a-z]){escaped}(?![a-z])")
    return re.compile(escaped)


def promotional_words_in(text: str) -> list[str]:
    """The listed terms found in ``text``, in list order, each once (empty when there are none)."""
    if not text:
        return []
    terms, allowed = _word_list()
    lowered = text.lower()
    for phrase in allowed:
        lowered = lowered.replace(phrase, " ")
    found = [t for t in terms if _pattern(t).search(lowered)]
    # A longer term found makes its parts redundant (稳赚不赔 already says 稳赚).
    return [t for t in found if not any(t != other and t.lower() in other.lower() for other in found)]
