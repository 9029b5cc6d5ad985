"""Writes listings.json and needs.json from topics.py (deterministic: the same topics give the same files).

    .venv/bin/python tests/data/matching/generate.py

Each topic gives 12 Chinese and 6 English listings of its subject (an English listing stands for an
English-original patent: its title is the English title), each near-miss subject 5 Chinese and 2 English ones.
A listing's IPC codes are its main code and, one time in two, a second code of the same topic (so subclasses
of one topic are co-classified, as real filings are); its field is WIPO's for the main code. Relevance is not
written here: the test's loader judges it by RULES.md."""

import json
import random
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[2]))

from topics import TOPICS  # noqa: E402

PER_TOPIC = {"zh": 12, "en": 6}
PER_NEAR = {"zh": 5, "en": 2}
GENERIC_ZH = ["结构简单，成本低。", "提高了可靠性和使用寿命。", "便于工业化推广。", "工艺稳定，适合批量生产。"]
GENERIC_EN = [
    "It is simple and cheap to make.",
    "Reliability and service life are improved.",
    "It suits industrial production.",
    "The process is stable for volume production.",
]


def _pick_codes(rng, ipc):
    codes, weights = zip(*ipc, strict=True)
    main = rng.choices(codes, weights)[0]
    others = [c for c in codes if c != main]
    if others and rng.random() < 0.5:
        return [main, rng.choice(others)]
    return [main]


def _listing(rng, lang, subject, topic_key):
    phrase = rng.choice(subject[lang])
    aspect = rng.choice(subject[f"aspects_{lang}"])
    settings = subject[f"settings_{lang}"]
    setting = rng.choice(settings) if settings and rng.random() < 0.6 else ""
    details = rng.sample(subject[f"details_{lang}"], min(2, len(subject[f"details_{lang}"])))
    generic = rng.choice(GENERIC_ZH if lang == "zh" else GENERIC_EN)
    if lang == "zh":
        title = f"一种{'用于' + setting + '的' if setting else ''}{phrase}{aspect}"
        abstract = (
            f"本发明公开了一种{phrase}{aspect}{'，适用于' + setting if setting else ''}。" + "；".join(details) + "。" + generic
        )
    else:
        core = f"{phrase} {aspect}".strip()
        title = (core[0].upper() + core[1:]) + (f" for {setting}" if setting else "")
        abstract = f"A {core}{' for ' + setting if setting else ''} is disclosed. " + ". ".join(details) + ". " + generic
    codes = _pick_codes(rng, subject["ipc"])
    return {
        "topic": topic_key,
        "lang": lang,
        "title": title,
        "abstract": abstract,
        "ipc_codes": codes,
        "grade_score": rng.randint(30, 90),
        "filing_year": rng.randint(2014, 2023),
    }


def generate():
    from patents.inventory.fields import classify_ipc

    rng = random.Random(23)
    listings, needs = [], []
    for topic in TOPICS:
        for lang, count in PER_TOPIC.items():
            listings += [_listing(rng, lang, topic, topic["key"]) for _ in range(count)]
        for n, near in enumerate(topic["near"]):
            for lang, count in PER_NEAR.items():
                listings += [_listing(rng, lang, near, f"{topic['key']}~near{n}") for _ in range(count)]
        for k, (lang, title, description, tech_field, ipc_prefix) in enumerate(topic["needs"]):
            needs.append(
                {
                    "key": f"{topic['key']}-{k}",
                    "topic": topic["key"],
                    "lang": lang,
                    "title": title,
                    "description": description,
                    "technology_field": tech_field,
                    "ipc_prefix": ipc_prefix or "",
                    "subject_terms": topic["terms"],
                    "excluded_terms": topic.get("excluded_terms", []),
                }
            )
    for i, listing in enumerate(listings):
        listing["key"] = f"L{i:04d}"
        field = classify_ipc(listing["ipc_codes"][0])
        listing["technology_field"] = field.number if field else None
    for name, rows in (("listings.json", listings), ("needs.json", needs)):  # one row a line: diffs stay readable
        lines = ",\n".join(json.dumps(row, ensure_ascii=False) for row in rows)
        (HERE / name).write_text(f"[\n{lines}\n]\n", encoding="utf-8")
    return len(listings), len(needs)


if __name__ == "__main__":
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings.test")
    django.setup()
    print("listings, needs:", generate())
