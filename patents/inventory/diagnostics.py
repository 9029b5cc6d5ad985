"""The uploader's words for the number, IPC and Locarno parsers' diagnoses.

Those parsers are plain Python (no Django) and explain a bad value in English; the importer writes its errors
in the uploader's language, so each diagnosis is matched here and rewritten through gettext. A diagnosis no
pattern knows is kept as it is (the tests of each parser pin their messages)."""

import re

from django.utils.translation import gettext as _

# (pattern of the parser's message, its translation; named groups fill the placeholders)
_PATTERNS = [
    (r"missing patent number", lambda: _("missing patent number")),
    (r"empty patent number", lambda: _("empty patent number")),
    (r"patent number must be text, got (?P<got>.+)", lambda: _("patent number must be text, got %(got)s")),
    (r"expected 8 or 12 ASCII digits, got (?P<got>.+)", lambda: _("expected 8 or 12 ASCII digits, got %(got)s")),
    (r"check digit mismatch: expected (?P<expected>\S+), got (?P<got>\S+)",
     lambda: _("check digit mismatch: expected %(expected)s, got %(got)s")),
    (r"unknown Chinese kind code (?P<kind>.+)", lambda: _("unknown Chinese kind code %(kind)s")),
    (r"unknown kind code (?P<kind>\S+) for a US .+", lambda: _("unknown US kind code %(kind)s")),
    (r"unknown EP kind code (?P<kind>.+)", lambda: _("unknown EP kind code %(kind)s")),
    (r"unrecognised format: (?P<value>.+)", lambda: _("unrecognised format: %(value)s")),
    # IPC (patents.inventory.ipc)
    (r"empty IPC code", lambda: _("empty IPC code")),
    (r"section must be a letter A-H, got (?P<got>.+)", lambda: _("section must be a letter A-H, got %(got)s")),
    (r"class must be two digits after the section letter, got (?P<got>.+)",
     lambda: _("class must be two digits after the section letter, got %(got)s")),
    (r"subclass must be a letter after (?P<code>.+)", lambda: _("subclass must be a letter after %(code)s")),
    (r"(?P<code>.+) is a subclass without a group; .+",
     lambda: _("%(code)s is a subclass without a group; give the main group and subgroup, e.g. H01M 10/0525")),
    (r"expected main group and subgroup like '10/0525' after (?P<code>\S+), got (?P<got>.+)",
     lambda: _("expected a main group and subgroup such as 10/0525 after %(code)s, got %(got)s")),
    (r"main group must be 1-4 digits, got (?P<got>.+)", lambda: _("main group must be 1-4 digits, got %(got)s")),
    (r"subgroup must be 2-6 digits, got (?P<got>.+)", lambda: _("subgroup must be 2-6 digits, got %(got)s")),
    (r"unrecognised IPC format: (?P<code>.+)", lambda: _("unrecognised IPC format: %(code)s")),
    (r"main group must not be 0 in (?P<code>.+)", lambda: _("main group must not be 0 in %(code)s")),
    # Locarno (patents.inventory.locarno)
    (r"(?P<code>.+) looks like an IPC symbol; .+",
     lambda: _("%(code)s looks like an IPC symbol; a design is classified by its Locarno class, e.g. 14-03")),
    (r"expected a Locarno class such as 14-03 \(class-subclass\), got (?P<got>.+)",
     lambda: _("expected a Locarno class such as 14-03 (class-subclass), got %(got)s")),
    (r"(?P<code>.+) has a class but no subclass; .+",
     lambda: _("%(code)s has a class but no subclass; write class and subclass, e.g. 14-03")),
    (r"expected class and subclass such as 14-03 or 1403, got (?P<got>.+)",
     lambda: _("expected class and subclass such as 14-03 or 1403, got %(got)s")),
    (r"unrecognised Locarno format: (?P<code>.+?) \(.+\)",
     lambda: _("unrecognised Locarno format: %(code)s (write class-subclass, e.g. 14-03)")),
    (r"class must be 01-32 or 99, got (?P<got>.+)", lambda: _("class must be 01-32 or 99, got %(got)s")),
    (r"subclass must be two digits \(00-99\), got (?P<got>.+)",
     lambda: _("subclass must be two digits (00-99), got %(got)s")),
]
_COMPILED = [(re.compile(pattern), message) for pattern, message in _PATTERNS]
_ITEM = re.compile(r"item (?P<position>\d+) \((?P<item>.*?)\): (?P<rest>.+)")


def translate_diagnosis(text: str) -> str:
    """A parser's diagnosis in the active language (a list's "item N (...): ..." prefix included)."""
    item = _ITEM.fullmatch(text)
    if item:
        return _("item %(position)s (%(item)s): %(error)s") % {
            "position": item["position"], "item": item["item"], "error": translate_diagnosis(item["rest"])}
    for pattern, message in _COMPILED:
        match = pattern.fullmatch(text)
        if match:
            return message() % match.groupdict() if match.groupdict() else message()
    return text
