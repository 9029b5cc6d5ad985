"""Every column the audit log records is labelled in the reader's language: a Chinese label on the zh-hans page
(the model's verbose name, else marketplace.audit.selectors' own), whatever model a new audited field is on."""

import re

from django.utils import translation

from marketplace.audit.recording import AUDITED
from marketplace.audit.selectors import _field_label

CJK = re.compile(r"[\u3400-\u9fff]")


def test_every_audited_column_has_a_chinese_label():
    unlabelled = []
    with translation.override("zh-hans"):
        for name, (model, excluded) in AUDITED.items():
            for field in model._meta.concrete_fields:
                if field.name in excluded or field.primary_key:  # the key shows as "ID" in both languages
                    continue
                if not CJK.search(_field_label(field, field.name)):
                    unlabelled.append(f"{name}.{field.name}: {_field_label(field, field.name)!r}")
    assert not unlabelled, unlabelled
