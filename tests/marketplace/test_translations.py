"""The Chinese catalog is complete and its committed compiled form matches it."""

import gettext
import re
from pathlib import Path

CATALOG = Path(__file__).resolve().parents[2] / "marketplace" / "locale" / "zh_Hans" / "LC_MESSAGES"


def _entries():
    text = (CATALOG / "django.po").read_text(encoding="utf-8")
    for block in text.split("\n\n"):
        if "msgid" not in block or 'msgid ""\nmsgstr ""\n"Project' in block:
            continue
        yield block


def _joined(block: str, key: str) -> str:
    match = re.search(rf'^{key} ((?:".*"\n?)+)', block, re.M)
    return "".join(re.findall(r'"(.*)"', match.group(1))) if match else ""


def test_every_message_has_a_chinese_translation_and_none_is_fuzzy():
    untranslated = [b for b in _entries() if "#, fuzzy" in b
                    or (_joined(b, "msgstr") == "" and _joined(b, r"msgstr\[0\]") == "")]
    assert untranslated == []


def test_the_compiled_catalog_matches_the_source():
    compiled = gettext.GNUTranslations((CATALOG / "django.mo").open("rb"))
    for block in _entries():
        if "msgctxt" in block or "msgid_plural" in block:
            continue
        msgid = _joined(block, "msgid").encode().decode("unicode_escape").encode("latin-1").decode("utf-8")
        msgstr = _joined(block, "msgstr").encode().decode("unicode_escape").encode("latin-1").decode("utf-8")
        assert compiled.gettext(msgid) == msgstr, msgid
