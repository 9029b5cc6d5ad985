"""Realistic, deterministic marketplace data at scale, loaded straight into the real schema (bench-only fixtures).

    python -m bench.generate --patents 100000 --licences 50000 --seed 1 [--needs 2000] [--listed-share 0.4]

Patents come from marketplace.demo.synthetic (the demo's and the tests' generator: kinds about 60/35/5 %, IPC and WIPO
fields spread like a real portfolio, Chinese and English titles and abstracts), checked by the importer's own
`validate` and graded by `grade_frame`, then written with PostgreSQL COPY or SQLite executemany. Around them:
holders of every kind (a few large universities hold most patents, as in real portfolios), licensees, co-owners,
open-licence declarations in all three fee forms (some withdrawn), a live Wagtail listing page per published
declaration indexed by the real search backend, licences in every state with their first payments and yearly
royalty reports, and buyer needs written from the same technology vocabulary.

Runs are additive: a second run appends new holders, patents and the rest after what is there (new serials,
new keys), so a benchmark can measure at a small size and then grow the same database. The same arguments on
the same starting database give the same data (numpy PCG64 seeded from `--seed` and the existing row count;
`--today` pins the reference date)."""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import numpy as np

PROVINCES = ["北京市", "上海市", "广东省", "江苏省", "浙江省", "湖北省", "四川省", "陕西省", "山东省", "辽宁省",
             "湖南省", "安徽省", "福建省", "天津市", "重庆市"]
CITIES = ["北京", "上海", "深圳", "南京", "杭州", "武汉", "成都", "西安", "济南", "沈阳", "长沙", "合肥", "厦门",
          "天津", "重庆"]
# kind, share of holders, Chinese name pattern, English pattern, credit-code category prefix
HOLDER_KINDS = [
    ("university", 0.40, "{city}第{n}理工大学", "{City} University of Technology No. {n}", "12"),
    ("institute", 0.25, "{city}先进技术研究院{n}所", "{City} Institute of Advanced Technology {n}", "12"),
    ("enterprise", 0.30, "{city}创新科技有限公司{n}", "{City} Innovation Technology Co., Ltd. {n}", "91"),
    ("individual", 0.05, "发明人{n}", "Inventor {n}", ""),
]
FEE_FORMS = (("lump_sum", 0.55), ("royalty", 0.25), ("entry_plus_royalty", 0.20))
LICENCE_STATES = (("active", 0.68), ("expired", 0.10), ("terminated", 0.04), ("payment_failed", 0.06),
                  ("cancelled", 0.04), ("payment_pending", 0.03), ("notice_submitted", 0.05))
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"  # treebeard's materialised-path alphabet (steplen 4)
PATENT_CHUNK = 200_000


def _log(message: str) -> None:
    print(f"[generate {time.strftime('%H:%M:%S', time.gmtime())}] {message}", file=sys.stderr, flush=True)


def _choice(rng, pairs, n):
    names, weights = zip(*pairs, strict=True)
    return np.array(names, dtype=object)[rng.choice(len(names), size=n, p=np.array(weights) / sum(weights))]


def _aware(days: np.ndarray, seconds: np.ndarray) -> list[datetime]:
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    return [epoch + timedelta(days=int(d), seconds=int(s)) for d, s in zip(days, seconds, strict=True)]


def _tree_step(i: int) -> str:
    out = ""
    for _ in range(4):
        i, r = divmod(i, 36)
        out = ALPHABET[r] + out
    return out


# ------------------------------------------------------------------------------------------- organisations

def _organisations(rng, *, holders: int, licensees: int, run: int):
    from bench.loading import load_rows, next_id
    from marketplace.demo.seed import demo_uscc
    from marketplace.parties.models import Organisation

    first = next_id(Organisation)
    rows, holder_ids, holder_names, licensee_ids = [], [], [], []
    kinds = _choice(rng, [(k[0], k[1]) for k in HOLDER_KINDS], holders)
    now = datetime.now(UTC)
    for i in range(holders + licensees):
        pk = first + i
        n = run * 100_000 + i + 1
        city_i = int(rng.integers(len(CITIES)))
        city, province = CITIES[city_i], PROVINCES[city_i]
        if i < holders:
            kind = kinds[i]
            _k, _s, zh, en, prefix = next(k for k in HOLDER_KINDS if k[0] == kind)
        else:
            kind, zh, en, prefix = "enterprise", "{city}应用制造有限公司{n}", "{City} Applied Manufacturing Co. {n}", "91"
        uscc = demo_uscc(f"{prefix}{440300 + city_i:06d}{pk:09d}") if prefix else None
        rows.append((pk, kind, f"bench-{pk}", zh.format(city=city, n=n), en.format(City=_pinyin_city(city), n=n),
                     uscc, province, city, i < holders, i >= holders, "", "", "", "", now))
        (holder_ids if i < holders else licensee_ids).append(pk)
        if i < holders:
            holder_names.append(rows[-1][3])
    load_rows(Organisation, ["id", "kind", "slug", "name_zh", "name_en", "uscc", "province", "city", "is_holder",
                             "is_licensee", "website", "contact_email", "contact_phone", "description", "created_at"],
              rows)
    provinces = {r[0]: r[6] for r in rows}
    kinds_by_id = {r[0]: r[1] for r in rows}
    return holder_ids, holder_names, licensee_ids, provinces, kinds_by_id


_PINYIN = {"北京": "Beijing", "上海": "Shanghai", "深圳": "Shenzhen", "南京": "Nanjing", "杭州": "Hangzhou",
           "武汉": "Wuhan", "成都": "Chengdu", "西安": "Xi'an", "济南": "Jinan", "沈阳": "Shenyang", "长沙": "Changsha",
           "合肥": "Hefei", "厦门": "Xiamen", "天津": "Tianjin", "重庆": "Chongqing"}


def _pinyin_city(city: str) -> str:
    return _PINYIN[city]


# ------------------------------------------------------------------------------------------------- patents

PATENT_NAMES = ["id", "holder", "number", "number_original", "country", "kind", "title", "abstract", "claims_count",
                "main_ipc", "ipc_codes", "ipc_subclass", "technology_field", "filing_date", "grant_date",
                "term_extension_days", "expiry_date", "legal_status", "annual_fees_paid_through", "inventors",
                "family_size", "forward_citations", "evaluation_report", "pledged", "exclusive_licence_in_force",
                "under_open_licence", "grade_score", "grade_computed", "grade_factors", "graded_at", "grade_override",
                "grade_override_reason", "created_at", "updated_at", "locarno_codes"]


def _none(value):
    """pandas missing values (NaN, NaT, <NA>) as None; numpy scalars as Python ones."""
    import pandas as pd

    if isinstance(value, list | dict | str | bool):
        return value
    if value is None or pd.isna(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def patent_rows(frame, *, first_id: int, holder_of_row: np.ndarray, today: date, now: datetime):
    """Validated, graded model rows for a synthetic inventory frame (the importer's own checks), plus the
    co-owners each row names. Raises ValueError if any generated row fails validation (a generator bug)."""
    from patents.inventory.grading import grade_frame
    from patents.inventory.importing import map_headers, validate

    checked = validate(map_headers(frame), today=today)
    if not checked.errors.empty:
        raise ValueError(f"generated rows failed validation: {checked.errors.head(5).to_dict('records')}")
    rows = checked.rows.reset_index(drop=True)
    graded = grade_frame(rows, today=today)
    columns = {name: rows[name].tolist() for name in (
        "number", "number_original", "country", "kind", "title", "abstract", "claims_count", "main_ipc",
        "ipc_codes", "ipc_subclass", "technology_field", "filing_date", "grant_date", "term_extension_days",
        "expiry_date", "legal_status", "inventors", "family_size", "forward_citations", "evaluation_report",
        "pledged", "co_owners", "locarno_codes")}
    fees_through = rows["annual_fees_paid_through"].tolist() if "annual_fees_paid_through" in rows else [None] * len(rows)
    out, owners = [], []
    for i in range(len(rows)):
        c = {k: _none(v[i]) for k, v in columns.items()}
        status, expiry = c["legal_status"], c["expiry_date"]
        paid = _none(fees_through[i])
        if paid is None and status == "granted" and expiry and expiry >= today:
            # Annual fees run a year ahead for patents in force; eligibility for declaring asks for it.
            paid = min(today + timedelta(days=365), expiry)
        pk = first_id + i
        out.append([pk, int(holder_of_row[i]), c["number"], c["number_original"], c["country"] or "CN", c["kind"],
                    c["title"][:500], c["abstract"] or "", c["claims_count"], c["main_ipc"] or "", c["ipc_codes"] or [],
                    c["ipc_subclass"] or "", c["technology_field"], c["filing_date"], c["grant_date"],
                    c["term_extension_days"] or 0, expiry, status, paid, c["inventors"] or [], c["family_size"],
                    c["forward_citations"], c["evaluation_report"] or "", bool(c["pledged"]), False, False,
                    int(graded["score"].iat[i]), graded["grade"].iat[i], graded["factors"].iat[i], now, "", "", now,
                    now, c["locarno_codes"] or []])  # last, so the positions the market builder reads stay put
        for name, share in c["co_owners"] or []:
            owners.append((pk, name[:200], share))
    return out, owners


# ---------------------------------------------------------------------------------------------- the market

def _money(rng, n, median_yuan, sigma=1.0):
    """Fen, rounded to 100 yuan, log-normally spread around `median_yuan`."""
    yuan = np.round(np.exp(rng.normal(np.log(median_yuan), sigma, n)) / 100) * 100
    return (np.maximum(yuan, 100) * 100).astype(np.int64)


def generate(*, patents: int, licences: int, needs: int | None = None, seed: int = 0, listed_share: float = 0.4,
             today: date | None = None) -> dict[str, int]:
    """Append a market of `patents` patents and `licences` licences (and `needs` buyer needs, default
    patents // 50) to the database. Returns the counts written. Needs a migrated database."""
    from django.db import connection, transaction
    from wagtail.models import Page

    from bench.loading import analyze, load_rows, next_id, reset_sequences
    from cms.models import HomePage
    from licensing.models import Declaration
    from licensing.models.licences import Licence, Payment, RoyaltyReport
    from marketplace.demo.seed import seed_pages, seed_terms
    from marketplace.demo.synthetic import generate_inventory
    from marketplace.listings.services import listing_index
    from marketplace.models import ListingIndexPage, Need, PatentListingPage
    from marketplace.parties.models import Organisation
    from patents.models import Patent, PatentCoOwner

    today = today or date.today()
    now = datetime.now(UTC)
    run = Organisation.objects.filter(slug__startswith="bench-").count() // 1000 + Patent.objects.count()
    rng = np.random.default_rng([seed, run])
    needs = patents // 50 if needs is None else needs
    counts: dict[str, int] = {}
    started = time.monotonic()

    with transaction.atomic():
        if not HomePage.objects.exists():
            seed_pages()
        terms = seed_terms()
        index: ListingIndexPage = listing_index()
    version = terms.versions.order_by("-number").first() if hasattr(terms, "versions") else None
    if version is None:
        from licensing.declarations.services import terms_version_current

        version = terms_version_current(terms=terms)

    holders_n = max(3, patents // 2000)
    licensees_n = max(10, licences // 40, needs // 5)
    with transaction.atomic():
        holder_ids, holder_names, licensee_ids, provinces, org_kinds = _organisations(
            rng, holders=holders_n, licensees=licensees_n, run=run)
    counts["holders"], counts["licensees"] = len(holder_ids), len(licensee_ids)
    _log(f"{len(holder_ids)} holders, {len(licensee_ids)} licensees")

    # A few big holders own most patents (Zipf-like), as in a city's portfolio.
    weights = 1.0 / np.arange(1, len(holder_ids) + 1) ** 0.9
    weights /= weights.sum()
    serial0 = Patent.objects.filter(country="CN").count() + run * 7
    first_patent = next_id(Patent)
    declared: dict[int, tuple] = {}
    for lo in range(0, patents, PATENT_CHUNK):
        n = min(PATENT_CHUNK, patents - lo)
        frame = generate_inventory(n, seed=int(rng.integers(2**31)), holder_names=holder_names[:50],
                                   start_serial=serial0 + lo, today=today)
        holder_of_row = np.array(holder_ids)[rng.choice(len(holder_ids), size=n, p=weights)]
        rows, owners = patent_rows(frame, first_id=first_patent + lo, holder_of_row=holder_of_row, today=today, now=now)
        # Declared: granted, in force, fees paid, not pledged, until the listed share is reached.
        eligible = [r for r in rows if r[17] == "granted" and r[16] and r[16] > today + timedelta(days=400)
                    and not r[23] and r[18]]
        take = rng.random(len(eligible)) < min(1.0, listed_share * len(rows) / max(len(eligible), 1))
        for r, t in zip(eligible, take, strict=True):
            if t:
                r[25] = True  # under_open_licence
                declared[r[0]] = (r[1], r[12], r[11], r[16])
        with transaction.atomic():
            load_rows(Patent, PATENT_NAMES, rows)
            load_rows(PatentCoOwner, ["patent", "name", "share_percent"],
                      [(p, name, Decimal(share) if share is not None else None) for p, name, share in
                       {(p, name): (p, name, s) for p, name, s in owners}.values()])
        _log(f"patents {lo + n}/{patents}")
    counts["patents"], counts["declared"] = patents, len(declared)

    # Declarations: all fee forms; 5 % withdrawn again (no live listing), the rest published with a page.
    first_decl = next_id(Declaration)
    patent_ids = np.array(sorted(declared), dtype=np.int64)
    m = len(patent_ids)
    fee = _choice(rng, FEE_FORMS, m)
    lump, entry, minimum = _money(rng, m, 50_000), _money(rng, m, 20_000), _money(rng, m, 10_000, 0.7)
    with_minimum = rng.random(m) < 0.4
    rate = np.round(rng.uniform(1.0, 8.0, m), 1)
    base = np.where(rng.random(m) < 0.8, "net_sales", "profit")
    withdrawn = rng.random(m) < 0.05
    published_days = (np.datetime64(today) - np.datetime64("1970-01-01")).astype(int) - rng.integers(1, 3 * 365, m)
    published_at = _aware(published_days, rng.integers(8 * 3600, 18 * 3600, m))
    decl_rows, pages = [], []
    for i, pid in enumerate(patent_ids.tolist()):
        holder, field, subclass, expiry = declared[pid]
        form = fee[i]
        pk = first_decl + i
        state = "withdrawn" if withdrawn[i] else "published"
        decl_rows.append((
            pk, pid, holder, version.pk, state, form,
            int(lump[i]) if form == "lump_sum" else None,
            int(entry[i]) if form == "entry_plus_royalty" else None,
            "" if form == "lump_sum" else base[i],
            None if form == "lump_sum" else Decimal(str(rate[i])),
            int(minimum[i]) if form != "lump_sum" and with_minimum[i] else None,
            "CNY", "通过平台在线支付。 / Paid online through the platform.", int(rng.choice([1, 3, 5])), "",
            "许可联系人", "licensing@bench.test", "", f"KF{pk:012d}", now, published_at[i],
            published_at[i] + timedelta(days=200) if withdrawn[i] else None,
            "许可策略调整 / change of licensing strategy" if withdrawn[i] else ""))
        if not withdrawn[i]:
            pages.append((pk, pid, published_at[i]))
    with transaction.atomic():
        load_rows(Declaration, [
            "id", "patent", "holder", "terms_version", "state", "fee_form", "lump_sum_fen", "entry_fee_fen",
            "royalty_base", "royalty_rate", "annual_minimum_fen", "currency", "payment_method", "duration_years",
            "field_of_use_note", "contact_name", "contact_email", "contact_phone", "announcement_number", "created_at",
            "published_at", "withdrawn_at", "withdrawal_reason"], decl_rows)
        if withdrawn.any():
            Patent.objects.filter(pk__in=[r[1] for r in decl_rows if r[4] == "withdrawn"]).update(
                under_open_licence=False)
    counts["declarations"], counts["listings"] = len(decl_rows), len(pages)
    _log(f"{len(decl_rows)} declarations")

    # Listing pages: Wagtail pages under the listing index, written as Wagtail's tree stores them.
    from django.contrib.contenttypes.models import ContentType

    listing_type = ContentType.objects.get_for_model(PatentListingPage)
    index.refresh_from_db()
    last_child = index.get_children().order_by("-path").values_list("path", flat=True).first()
    step0 = (int(last_child[-4:], 36) + 1) if last_child else 1
    template = PatentListingPage(title="x", slug="x", locale_id=index.locale_id)
    page_fields = list(Page._meta.local_concrete_fields)
    defaults = {f.attname: getattr(template, f.attname) for f in page_fields}
    first_page = next_id(Page)
    page_rows, child_rows = [], []
    for lo in range(0, len(pages), 20_000):
        chunk = pages[lo:lo + 20_000]
        ids = [p[1] for p in chunk]
        facts = {pk: (number, title) for pk, number, title in
                      Patent.objects.filter(pk__in=ids).values_list("pk", "number", "title")}
        for j, (decl, pid, when) in enumerate(chunk):
            k = lo + j
            number, title = facts[pid]
            slug = number.lower().replace(".", "-")
            values = dict(defaults, id=first_page + k, path=index.path + _tree_step(step0 + k), depth=index.depth + 1,
                          numchild=0, title=title[:255], draft_title=title[:255], slug=slug,
                          url_path=f"{index.url_path}{slug}/", content_type_id=listing_type.pk, live=True,
                          has_unpublished_changes=False, first_published_at=when, last_published_at=when,
                          latest_revision_created_at=None, live_revision_id=None, latest_revision_id=None,
                          translation_key=uuid.UUID(int=int(rng.integers(2**63)) << 64 | (first_page + k)),
                          locale_id=index.locale_id, alias_of_id=None, owner_id=None)
            page_rows.append(tuple(values[f.attname] for f in page_fields))
            child_rows.append((first_page + k, decl, "", "[]"))
    with transaction.atomic():
        load_rows(Page, [f.name for f in page_fields], page_rows)
        load_rows(PatentListingPage, ["page_ptr", "declaration", "summary", "body"], child_rows)
        Page.objects.filter(pk=index.pk).update(numchild=index.numchild + len(page_rows))
    _log(f"{len(page_rows)} listing pages")
    del page_rows

    del child_rows

    # Licences: popular listings draw more licensees; one live licence per licensee and declaration.
    live = [r for r in decl_rows if r[4] == "published"]
    counts.update(_licences(rng, licences=licences, declarations=live, licensee_ids=licensee_ids,
                            provinces=provinces, version=version, today=today, now=now,
                            models=(Licence, Payment, RoyaltyReport), load_rows=load_rows, next_id=next_id))
    _log(f"{counts['licences']} licences, {counts['payments']} payments, {counts['royalty_reports']} royalty reports")

    counts["needs"] = _needs(rng, needs=needs, licensee_ids=licensee_ids, provinces=provinces, seed=seed, run=run,
                             today=today, model=Need, load_rows=load_rows, next_id=next_id)
    reset_sequences(Organisation, Patent, PatentCoOwner, Declaration, Page, Licence, Payment, RoyaltyReport, Need)
    # The listings' search documents, as the product builds them (they also say whether a listing is licensed).
    from marketplace.search.documents import listing_documents_rebuild

    counts["search_documents"] = listing_documents_rebuild(
        progress=lambda done, total: _log(f"search documents {done}/{total}") if done % 20_000 < 2000 else None)
    if connection.vendor == "postgresql":
        analyze()
    else:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    _log(f"done in {time.monotonic() - started:.0f} s: {counts}")
    return counts


def _licences(rng, *, licences, declarations, licensee_ids, provinces, version, today, now, models, load_rows,
              next_id) -> dict[str, int]:
    from django.db import transaction

    Licence, Payment, RoyaltyReport = models
    if not declarations or not licences:
        return {"licences": 0, "payments": 0, "royalty_reports": 0}
    popularity = rng.pareto(1.3, len(declarations)) + 0.05
    popularity /= popularity.sum()
    d_idx = rng.choice(len(declarations), size=licences, p=popularity)
    l_idx = rng.integers(0, len(licensee_ids), licences)
    pairs = {}
    for d, lic in zip(d_idx.tolist(), l_idx.tolist(), strict=True):
        pairs.setdefault((d, lic), None)
    pairs = list(pairs)
    n = len(pairs)
    states = _choice(rng, LICENCE_STATES, n)
    terms_text = f"{version.clauses_zh}\n\n{version.clauses_en}"
    sha = version.sha256 or hashlib.sha256(terms_text.encode()).hexdigest()
    first_l, first_p, first_r = next_id(Licence), next_id(Payment), next_id(RoyaltyReport)
    lic_rows, pay_rows, report_rows = [], [], []
    for i, (d, lic) in enumerate(pairs):
        decl = declarations[d]
        (pk_d, patent, holder, _v, _s, form, lump, entry, base, rate, minimum, *_rest) = decl
        published = decl[20]
        licensee = licensee_ids[lic]
        state = states[i]
        pk = first_l + i
        age_days = max(1, (now - published).days)
        notice = min(published + timedelta(days=int(rng.integers(0, age_days)), seconds=int(rng.integers(0, 36000))),
                     now - timedelta(hours=1))
        first_amount = lump if form == "lump_sum" else entry if form == "entry_plus_royalty" else (minimum or 0)
        activated = starts = ends = certificate = terminated = None
        duration = decl[13]
        if state in ("active", "expired", "terminated"):
            # Most licences are taken within minutes of the notice (the quick-licence figure), some later.
            delay = timedelta(minutes=int(rng.integers(1, 30))) if rng.random() < 0.8 else \
                timedelta(days=int(rng.integers(1, 40)))
            activated = min(notice + delay, now - timedelta(minutes=1))  # nothing happens in the future
            starts = activated.date()
            ends = starts + timedelta(days=365 * duration)
            if state == "expired":
                starts = starts - timedelta(days=365 * duration)
                ends = min(starts + timedelta(days=365 * duration), today - timedelta(days=1))
            certificate = f"OL{pk:012d}"
            if state == "terminated":
                terminated = min(activated + timedelta(days=int(rng.integers(30, 300))), now)
        lic_rows.append((
            pk, pk_d, patent, holder, licensee, state, f"被许可企业{licensee}", "", "联系人", f"licensee{licensee}@bench.test",
            "", "产品开发 / product development", notice, version.pk, terms_text, sha, form, lump, entry, base, rate,
            minimum, duration, first_amount, "CNY", starts, ends, activated, certificate, "", None, terminated,
            "违约 / breach" if terminated else "", notice))
        if first_amount and state != "notice_submitted":
            paid = activated is not None
            pay_state = "succeeded" if paid else "failed" if state == "payment_failed" else \
                "cancelled" if state == "cancelled" else "requires_payment"
            pay_rows.append((first_p + len(pay_rows), pk, "first_amount", pay_state, first_amount, 0, first_amount, 0,
                             "CNY", "", None, activated, notice))
        if activated is not None and form != "lump_sum":
            # Royalty history: one report a year since the start, each invoiced and mostly paid.
            years = max(0, min(duration, (today - starts).days // 365))
            for y in range(years):
                period_start = starts + timedelta(days=365 * y)
                period_end = period_start + timedelta(days=364)
                sales = int(np.exp(rng.normal(np.log(2_000_000), 1.0))) * 100
                royalty = int(sales * float(rate) / 100)
                topup = max(0, (minimum or 0) - royalty)
                due = royalty + topup
                due_on = period_end + timedelta(days=30)
                submitted = min(datetime(period_end.year, period_end.month, period_end.day, 10, tzinfo=UTC)
                                + timedelta(days=10), now)
                pay_pk = None
                if due:
                    pay_pk = first_p + len(pay_rows)
                    paid_on = min(submitted + timedelta(days=int(rng.integers(1, 25))), now)
                    pay_rows.append((pay_pk, pk, "royalty", "succeeded", due, 0, due, 0, "CNY", "", due_on, paid_on,
                                     submitted))
                report_rows.append((first_r + len(report_rows), pk, period_start, period_end, sales, royalty, topup,
                                    due, due_on, pay_pk, None, submitted))
    with transaction.atomic():
        load_rows(Licence, [
            "id", "declaration", "patent", "licensor", "licensee", "state", "notice_legal_name", "notice_uscc",
            "notice_contact_name", "notice_contact_email", "notice_contact_phone", "notice_field_of_use",
            "notice_submitted_at", "terms_version", "terms_text", "terms_sha256", "fee_form", "lump_sum_fen",
            "entry_fee_fen", "royalty_base", "royalty_rate", "annual_minimum_fen", "duration_years",
            "first_amount_fen", "currency", "starts_on", "ends_on", "activated_at", "certificate_number",
            "recording_number", "recorded_on", "terminated_at", "termination_reason", "created_at"], lic_rows)
        load_rows(Payment, ["id", "licence", "purpose", "state", "amount_fen", "voucher_fen", "charge_fen",
                            "refunded_fen", "currency", "failure_message", "due_on", "succeeded_at", "created_at"],
                  pay_rows)
        load_rows(RoyaltyReport, ["id", "licence", "period_start", "period_end", "base_amount_fen", "royalty_fen",
                                  "minimum_topup_fen", "amount_due_fen", "due_on", "payment", "submitted_by",
                                  "submitted_at"], report_rows)
    return {"licences": len(lic_rows), "payments": len(pay_rows), "royalty_reports": len(report_rows)}


def _needs(rng, *, needs, licensee_ids, provinces, seed, run, today, model, load_rows, next_id) -> int:
    """Buyer needs written the way companies describe them, from the same technology vocabulary as the
    patents (a synthetic inventory's titles and abstracts) so matching has real overlap to find."""
    from django.db import transaction

    from marketplace.demo.synthetic import generate_inventory
    from patents.inventory.importing import map_headers, validate

    if not needs:
        return 0
    frame = generate_inventory(needs, seed=seed + 7919 + run, holder_names=[], start_serial=9_000_000, today=today)
    rows = validate(map_headers(frame), today=today).rows.reset_index(drop=True)
    first = next_id(model)
    now = datetime.now(UTC)
    out = []
    budget_min = _money(rng, len(rows), 20_000)
    for i, r in enumerate(rows.itertuples(index=False)):
        chinese = any("\u4e00" <= ch <= "\u9fff" for ch in r.title[:4])
        title = (f"寻求{r.title[:40]}相关技术许可" if chinese else f"Looking for a licence: {r.title[:150]}")[:200]
        description = (f"我们计划在未来三年内推出相关产品，需要{r.title}方面的技术。{r.abstract[:160]}" if chinese else
                       f"We plan products in this area within three years. {r.abstract[:200]}")
        lo_budget = int(budget_min[i])
        field = _none(r.technology_field)
        licensee = licensee_ids[int(rng.integers(len(licensee_ids)))]
        out.append((first + i, licensee, None, title, description, field,
                    (r.ipc_subclass or "") if rng.random() < 0.7 else "",
                    lo_budget, lo_budget * int(rng.integers(2, 10)), int(rng.choice([1, 3, 5])),
                    int(np.exp(rng.normal(np.log(5_000_000), 1.0))) * 100 if rng.random() < 0.6 else None,
                    "" if rng.random() < 0.6 else str(rng.choice(["lump_sum", "royalty", "entry_plus_royalty"])),
                    provinces[licensee], today + timedelta(days=int(rng.integers(10, 365))), bool(rng.random() < 0.2),
                    True, "open" if rng.random() < 0.9 else "closed", now, now))
    with transaction.atomic():
        load_rows(model, ["id", "organisation", "posted_by", "title", "description", "technology_field", "ipc_prefix",
                          "budget_min_fen", "budget_max_fen", "horizon_years", "expected_annual_net_sales_fen",
                          "preferred_fee_form", "region", "deadline", "anonymous", "public", "state", "created_at",
                          "updated_at"], out)
    return len(out)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.generate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--patents", type=int, required=True)
    parser.add_argument("--licences", type=int, required=True)
    parser.add_argument("--needs", type=int, default=None, help="buyer needs (default patents // 50)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--listed-share", type=float, default=0.4,
                        help="share of patents under an open-licence declaration (default 0.4)")
    parser.add_argument("--today", type=date.fromisoformat, default=None)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()
    generate(patents=args.patents, licences=args.licences, needs=args.needs, seed=args.seed,
             listed_share=args.listed_share, today=args.today)


if __name__ == "__main__":
    main()
