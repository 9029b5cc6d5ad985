"""Realistic, deterministic marketplace data at scale, loaded straight into the real schema (bench-only fixtures).

    python -m bench.generate --patents 100000 --licences 50000 --seed 1 [--needs 2000] [--listed-share 0.4]

Patents come from marketplace.demo.synthetic (the demo's and the tests' generator: kinds about 60/35/5 %, IPC and WIPO
fields spread like a real portfolio, Chinese and English titles and abstracts), checked by the importer's own
`validate` and graded by `grade_frame`, then written with PostgreSQL COPY or SQLite executemany. Around them:
holders of every kind (a few large universities hold most patents, as in real portfolios), licensees, co-owners,
open-licence declarations in all three fee forms (some withdrawn), a live Wagtail listing page per published
declaration, licences in every state with their first payments and yearly royalty reports, and buyer needs
written from the same technology vocabulary; last, the listings are made findable by public search the way the
product does it (`index_listings`).

Rows are built column by column (numpy draws, pandas columns converted whole) and written with bench.loading
(COPY / large executemany chunks): 1M patents with everything around them in at most 15 minutes per backend on
2 cores. `--label` records the time taken, step by step, in bench/results/<label>.tmp.

Runs are additive: a second run appends new holders, patents and the rest after what is there (new serials,
new keys), so a benchmark can measure at a small size and then grow the same database. The same arguments on
the same starting database give the same data (numpy PCG64 seeded from `--seed` and the existing row count;
`--today` pins the reference date)."""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import multiprocessing
import os
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import numpy as np

from marketplace.listings.text import segment

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

ENTERPRISE_SIZES = ("large", "medium", "small", "micro")


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
        # Enterprises get a size class (the office's licensee-size breakdown) from their id, not from rng: the
        # rest of the market stays what the same seed drew before.
        size = ENTERPRISE_SIZES[pk % len(ENTERPRISE_SIZES)] if kind == "enterprise" else ""
        rows.append((pk, kind, f"bench-{pk}", zh.format(city=city, n=n), en.format(City=_pinyin_city(city), n=n),
                     uscc, province, city, size, i < holders, i >= holders, "", "", "", "", now, False))
        (holder_ids if i < holders else licensee_ids).append(pk)
        if i < holders:
            holder_names.append(rows[-1][3])
    load_rows(Organisation, ["id", "kind", "slug", "name_zh", "name_en", "uscc", "province", "city", "size",
                             "is_holder", "is_licensee", "website", "contact_email", "contact_phone", "description",
                             "created_at", "fee_reduction_qualified"], rows)
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


def _column(series) -> list:
    """A whole frame column as Python values (dates as `date`, missing values as None), converted at once."""
    import pandas as pd

    missing = series.isna().to_numpy()
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        values = series.dt.date.to_numpy(dtype=object, copy=True)
    elif pd.api.types.is_bool_dtype(series.dtype):
        values = series.to_numpy(dtype=bool).tolist()
        return [None if m else v for v, m in zip(values, missing, strict=True)] if missing.any() else values
    else:
        values = series.to_numpy(dtype=object, na_value=None, copy=True)
    if missing.any():
        values[missing] = None
    return values.tolist()


def patent_rows(frame, *, first_id: int, holder_of_row: np.ndarray, today: date, now: datetime):
    """Validated, graded model rows for a synthetic inventory frame (the importer's own checks), plus the
    co-owners each row names. Raises ValueError if any generated row fails validation (a generator bug).
    Columns are converted whole (pandas -> Python lists) and rows built with zip: no per-cell Python."""
    from patents.inventory.grading import grade_frame
    from patents.inventory.importing import map_headers, validate

    checked = validate(map_headers(frame), today=today)
    if not checked.errors.empty:
        raise ValueError(f"generated rows failed validation: {checked.errors.head(5).to_dict('records')}")
    rows = checked.rows.reset_index(drop=True)
    graded = grade_frame(rows, today=today, factors_as_json=True)  # JSON text, as the importer writes it
    n = len(rows)
    c = {name: _column(rows[name]) for name in (
        "number", "number_original", "country", "kind", "title", "abstract", "claims_count", "main_ipc",
        "ipc_codes", "ipc_subclass", "technology_field", "filing_date", "grant_date", "term_extension_days",
        "expiry_date", "legal_status", "inventors", "family_size", "forward_citations", "evaluation_report",
        "pledged", "co_owners", "locarno_codes")}
    paid = _column(rows["annual_fees_paid_through"]) if "annual_fees_paid_through" in rows else [None] * n
    year_ahead = today + timedelta(days=365)
    for i in range(n):
        expiry = c["expiry_date"][i]
        if paid[i] is None and c["legal_status"][i] == "granted" and expiry and expiry >= today:
            # Annual fees run a year ahead for patents in force; eligibility for declaring asks for it.
            paid[i] = min(year_ahead, expiry)
    scores, grades, factors = graded["score"].astype(int).tolist(), graded["grade"].tolist(), graded["factors"].tolist()
    out = [
        [first_id + i, holder, number, number_original, country or "CN", kind, title[:500], abstract or "", claims,
         main_ipc or "", ipc_codes or [], ipc_subclass or "", field, filing, grant, extension or 0, expiry, status,
         fees, inventors or [], family, citations, report or "", bool(pledged), False, False, score, grade,
         factor, now, "", "", now, now, locarno or []]  # locarno last, so the positions the market builder reads stay put
        for i, (holder, number, number_original, country, kind, title, abstract, claims, main_ipc, ipc_codes,
                ipc_subclass, field, filing, grant, extension, expiry, status, fees, inventors, family, citations,
                report, pledged, score, grade, factor, locarno)
        in enumerate(zip(holder_of_row.tolist(), c["number"], c["number_original"], c["country"], c["kind"],
                         c["title"], c["abstract"], c["claims_count"], c["main_ipc"], c["ipc_codes"],
                         c["ipc_subclass"], c["technology_field"], c["filing_date"], c["grant_date"],
                         c["term_extension_days"], c["expiry_date"], c["legal_status"], paid, c["inventors"],
                         c["family_size"], c["forward_citations"], c["evaluation_report"], c["pledged"], scores,
                         grades, factors, c["locarno_codes"], strict=True))]
    owners = [(first_id + i, name[:200], share) for i, named in enumerate(c["co_owners"]) if named
              for name, share in named]
    return out, owners


# ---------------------------------------------------------------------------------------------- the market

def _money(rng, n, median_yuan, sigma=1.0):
    """Fen, rounded to 100 yuan, log-normally spread around `median_yuan`."""
    yuan = np.round(np.exp(rng.normal(np.log(median_yuan), sigma, n)) / 100) * 100
    return (np.maximum(yuan, 100) * 100).astype(np.int64)


def generate(*, patents: int, licences: int, needs: int | None = None, seed: int = 0, listed_share: float = 0.4,
             today: date | None = None, timings: dict[str, float] | None = None,
             search_index: bool = True, matching_index: bool = True, workers: int = 1) -> dict[str, int]:
    """Append a market of `patents` patents and `licences` licences (and `needs` buyer needs, default
    patents // 50) to the database. Returns the counts written; `timings`, when given, receives the seconds
    each step took. Needs a migrated database. `search_index=False` leaves the listings out of public search
    and `matching_index=False` out of the stored matching index (to time the rest apart); `workers` processes
    write the search documents on PostgreSQL."""
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
    timings = {} if timings is None else timings
    last = [started]

    def step(name: str, message: str) -> None:
        now_ = time.monotonic()
        timings[name] = round(timings.get(name, 0) + now_ - last[0], 1)
        last[0] = now_
        _log(f"{message} ({now_ - started:.0f} s)")

    if connection.vendor == "sqlite" and not connection.in_atomic_block:  # (tests run inside a transaction)
        with connection.cursor() as cursor:
            # A throwaway database: no fsync per transaction, and a page cache that holds the indexes being filled.
            cursor.execute("PRAGMA synchronous = OFF")
            cursor.execute("PRAGMA cache_size = -262144")

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
    step("organisations", f"{len(holder_ids)} holders, {len(licensee_ids)} licensees")

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
        step("patents", f"patents {lo + n}/{patents}")
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
    duration = rng.choice([1, 3, 5], size=m).tolist()
    # Whole columns as Python values once; the loop below only picks from them.
    fee, base, withdrawn_l = fee.tolist(), base.tolist(), withdrawn.tolist()
    lump, entry, minimum, with_minimum = lump.tolist(), entry.tolist(), minimum.tolist(), with_minimum.tolist()
    rates = [Decimal(f"{r:.1f}") for r in rate.tolist()]
    decl_rows, pages = [], []
    for i, pid in enumerate(patent_ids.tolist()):
        holder = declared[pid][0]
        form = fee[i]
        pk = first_decl + i
        gone = withdrawn_l[i]
        royalty = form != "lump_sum"
        # Half the standing declarations announced by CNIPA some weeks after filing, half only filed (no draws from
        # rng here, so the rest of the data is what it was before declarations followed CNIPA's process).
        announced = not gone and i % 2 == 0
        filed_on = published_at[i].date()
        announced_on = min(filed_on + timedelta(days=20), today) if announced else None
        state = "withdrawn" if gone else "announced" if announced else "filed"
        decl_rows.append((
            pk, pid, holder, version.pk, state, form,
            None if royalty else lump[i],
            entry[i] if form == "entry_plus_royalty" else None,
            base[i] if royalty else "",
            rates[i] if royalty else None,
            minimum[i] if royalty and with_minimum[i] else None,
            "CNY", "通过平台在线支付。 / Paid online through the platform.", duration[i], "",
            "许可联系人", "licensing@bench.test", "", f"KFXK{pk:012d}" if announced else None, now, published_at[i],
            published_at[i] + timedelta(days=200) if gone else None,
            "许可策略调整 / change of licensing strategy" if gone else "",
            announced_on, "cnipa_import" if announced else "", True, "",
            published_at[i] + timedelta(days=170) if gone else None,
            (published_at[i] + timedelta(days=200)).date() if gone else None))
        if not gone:
            pages.append((pk, pid, published_at[i]))
    with transaction.atomic():
        load_rows(Declaration, [
            "id", "patent", "holder", "terms_version", "state", "fee_form", "lump_sum_fen", "entry_fee_fen",
            "royalty_base", "royalty_rate", "annual_minimum_fen", "currency", "payment_method", "duration_years",
            "field_of_use_note", "contact_name", "contact_email", "contact_phone", "cnipa_number", "created_at",
            "filed_at", "withdrawn_at", "withdrawal_reason", "announced_on", "announcement_source",
            "conditions_commitment", "fee_basis_statement", "withdrawal_filed_at", "withdrawal_announced_on"], decl_rows)
        if withdrawn.any():
            # A subquery, not an id list: at a million patents the list would pass SQLite's parameter limit.
            Patent.objects.filter(pk__in=Declaration.objects.filter(pk__gte=first_decl, state="withdrawn")
                                  .values("patent_id")).update(under_open_licence=False)
    counts["declarations"], counts["listings"] = len(decl_rows), len(pages)
    step("declarations", f"{len(decl_rows)} declarations")

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
    keys = rng.integers(2**63, size=len(pages)).tolist()
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
                          translation_key=uuid.UUID(int=keys[k] << 64 | (first_page + k)),
                          locale_id=index.locale_id, alias_of_id=None, owner_id=None)
            page_rows.append(tuple(values[f.attname] for f in page_fields))
            child_rows.append((first_page + k, decl, "", "[]"))
    with transaction.atomic():
        load_rows(Page, [f.name for f in page_fields], page_rows)
        load_rows(PatentListingPage, ["page_ptr", "declaration", "summary", "body"], child_rows)
        Page.objects.filter(pk=index.pk).update(numchild=index.numchild + len(page_rows))
    step("listing pages", f"{len(page_rows)} listing pages")
    del page_rows, child_rows

    # Licences: popular listings draw more licensees; one live licence per licensee and declaration.
    live = [r for r in decl_rows if r[4] in ("filed", "announced")]
    counts.update(_licences(rng, licences=licences, declarations=live, licensee_ids=licensee_ids,
                            provinces=provinces, version=version, today=today, now=now,
                            models=(Licence, Payment, RoyaltyReport), load_rows=load_rows, next_id=next_id))
    step("licences", f"{counts['licences']} licences, {counts['payments']} payments, "
                     f"{counts['royalty_reports']} royalty reports")

    counts["needs"] = _needs(rng, needs=needs, licensee_ids=licensee_ids, provinces=provinces, seed=seed, run=run,
                             today=today, model=Need, load_rows=load_rows, next_id=next_id)
    reset_sequences(Organisation, Patent, PatentCoOwner, Declaration, Page, Licence, Payment, RoyaltyReport, Need)
    _analyze(connection, analyze)
    step("needs", f"{counts['needs']} needs; planner statistics")

    # The IP office's statistics facts, which the change listeners keep but a bulk load bypasses.
    if importlib.util.find_spec("marketplace.office.facts") is not None:
        from marketplace.office.facts import rebuild as rebuild_statistics_facts

        counts["statistics_facts"] = rebuild_statistics_facts()
        _analyze(connection, analyze)
        step("statistics facts", f"{counts['statistics_facts']} statistics facts")

    # Search documents last: a listing's facets include whether it is licensed; and after ANALYZE, so the
    # statements that build them are planned for the real table sizes.
    words: dict[int, str] = {}
    if search_index:
        counts["indexed"] = index_listings(page_ids=[first_page + k for k in range(len(pages))],
                                           declaration_ids=[p[0] for p in pages], workers=workers, words=words)
        _analyze(connection, analyze)
    else:
        counts["indexed"] = 0
    step("search index", f"{counts['indexed']} listings indexed for search")

    # The matching index last, over every listing (it is fitted on all of them): the benchmarks reuse it,
    # since segmenting ~380k listings again at 1M patents takes longer than the matching budget.
    if matching_index and importlib.util.find_spec("marketplace.matching.index") is not None:
        counts["matching_listings"], counts["need_words"] = build_matching_index(words)
        del words
        _analyze(connection, analyze)
        step("matching index", f"matching index of {counts['matching_listings']} listings; "
                               f"words of {counts['need_words']} needs")
    _log(f"done in {time.monotonic() - started:.0f} s: {counts}")
    return counts


def _analyze(connection, analyze) -> None:
    if connection.vendor == "postgresql":
        analyze()
    else:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


DOCUMENT_CHUNK = 10_000


def _cached_cut(run: str) -> list[str]:
    # The search documents' segmentation of a run of Chinese (jieba's search mode, remembered per run by
    # marketplace.listings.text): the same words `jieba.cut_for_search` gives, so the matching's words of a
    # listing cost almost no jieba once its search document has been written in the same process.
    return segment(run).split()


def _matching_words(declaration_ids: list[int]) -> dict[int, str]:
    """The matching index's words of these declarations' listings (what marketplace.matching.index.tokenize
    gives for their text), space-separated (no word holds a space): cheap to send back from a worker."""
    from licensing.models import Declaration
    from marketplace.matching.index import listing_text, tokenize

    rows = Declaration.objects.filter(pk__in=declaration_ids).values_list("pk", "patent__title", "patent__abstract")
    return {pk: " ".join(tokenize(listing_text(title, abstract), cut=_cached_cut)) for pk, title, abstract in rows}


def _documents_for(declaration_ids: list[int]) -> tuple[int, dict[int, str]]:
    """One chunk of search documents, and the chunk's words for the matching index, cut right after with the
    segmentation the documents just did (also run in a worker process: its own connection, closed after)."""
    from django.db import connection

    from marketplace.search.documents import listing_documents_rebuild

    try:
        return listing_documents_rebuild(declaration_ids=declaration_ids), _matching_words(declaration_ids)
    finally:
        if multiprocessing.parent_process() is not None:
            connection.close()


class _Words(dict):
    """declaration pk -> its matching words as `matching_index_rebuild(segmented=...)` reads them (split when
    asked: held joined, a third of the memory of lists of words at a million patents)."""

    def get(self, key, default=None):
        joined = super().get(key)
        return default if joined is None else joined.split()


def index_listings(*, page_ids: list[int], declaration_ids: list[int], workers: int = 1,
                   words: dict[int, str] | None = None) -> int:
    """Make the new listings findable by public search, the way the product does it.

    When the product has its listing search documents (marketplace.search.documents), they are written with
    its own `listing_documents_rebuild` for this run's declarations only (a run adds to what is there; the
    earlier runs' documents are already right, since licences only go to a run's own listings), in chunks, each
    its own transaction, so progress shows and memory stays flat. On PostgreSQL outside a transaction, `workers`
    processes write chunks side by side (jieba's segmentation is most of the work and uses one core); SQLite
    takes one writer at a time, so it gets one. Each chunk's matching words (for `build_matching_index`) are
    cut with the same segmentation and put in `words`. Otherwise the pages go through Wagtail's search backend,
    as `manage.py update_index` would. Returns the number of listings indexed."""
    from django.db import connection, connections, transaction

    from marketplace.models import PatentListingPage

    words = {} if words is None else words
    if importlib.util.find_spec("marketplace.search.documents") is not None:
        chunks = [declaration_ids[lo:lo + DOCUMENT_CHUNK] for lo in range(0, len(declaration_ids), DOCUMENT_CHUNK)]
        parallel = workers > 1 and len(chunks) > 1 and connection.vendor == "postgresql" \
            and not connection.in_atomic_block
        written, reported = 0, time.monotonic()
        if parallel:
            connections.close_all()  # the workers are forked: each must open its own connection
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                for n, chunk_words in pool.imap_unordered(_documents_for, chunks):
                    written += n
                    words.update(chunk_words)
                    if time.monotonic() - reported >= 30:
                        reported = time.monotonic()
                        _log(f"search documents {written}/{len(page_ids)} ({workers} workers)")
        else:
            for chunk in chunks:
                n, chunk_words = _documents_for(chunk)
                written += n
                words.update(chunk_words)
                if time.monotonic() - reported >= 30:
                    reported = time.monotonic()
                    _log(f"search documents {written}/{len(page_ids)}")
        return written

    from wagtail.search.backends import get_search_backend

    backend = get_search_backend()
    for lo in range(0, len(page_ids), 2000):
        batch = list(PatentListingPage.objects.filter(pk__in=page_ids[lo:lo + 2000])
                     .select_related("declaration__patent", "declaration__holder"))
        with transaction.atomic():
            backend.add_bulk(PatentListingPage, batch)
        if (lo // 2000) % 10 == 0:
            _log(f"indexed {lo + len(batch)}/{len(page_ids)} (Wagtail search backend)")
    return len(page_ids)


def build_matching_index(words: dict[int, str]) -> tuple[int, int]:
    """The product's stored matching index over every published listing (`matching_index_rebuild`, as `manage.py
    build_matching_index` does), taking the words already cut for the search step (`words`) instead of
    segmenting those listings again, and the open needs' words (`needs_terms_store`: a bulk load bypasses the
    services that store them when a need is posted). Returns (listings in the index, needs given words)."""
    from marketplace.matching.index import matching_index_rebuild
    from marketplace.matching.services import needs_terms_store

    reported = [time.monotonic()]

    def progress(done: int, total: int) -> None:
        if time.monotonic() - reported[0] >= 30:
            reported[0] = time.monotonic()
            _log(f"matching index {done}/{total}")

    index = matching_index_rebuild(segmented=_Words(words), progress=progress)
    return index.fitted_listings, needs_terms_store()


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
    # Every random draw made at once (numpy), not per row: at a million licences per-row draws cost minutes.
    notice_share, notice_seconds = rng.random(n), rng.integers(0, 36000, n)
    quick, delay_minutes, delay_days = rng.random(n) < 0.8, rng.integers(1, 30, n), rng.integers(1, 40, n)
    terminated_after = rng.integers(30, 300, n)
    years_max = 5 * n  # at most one royalty report a year of a licence of at most five years
    sales_all = np.exp(rng.normal(np.log(2_000_000), 1.0, years_max)).astype(np.int64) * 100
    paid_after = rng.integers(1, 25, years_max)
    notice_share, notice_seconds, quick = notice_share.tolist(), notice_seconds.tolist(), quick.tolist()
    delay_minutes, delay_days, terminated_after = delay_minutes.tolist(), delay_days.tolist(), terminated_after.tolist()
    states = states.tolist()
    drawn = 0
    last_notice, last_activation = now - timedelta(hours=1), now - timedelta(minutes=1)
    lic_rows, pay_rows, report_rows = [], [], []
    for i, (d, lic) in enumerate(pairs):
        decl = declarations[d]
        (pk_d, patent, holder, _v, _s, form, lump, entry, base, rate, minimum, *_rest) = decl
        published = decl[20]
        licensee = licensee_ids[lic]
        state = states[i]
        pk = first_l + i
        age_days = max(1, (now - published).days)
        notice = min(published + timedelta(days=int(notice_share[i] * age_days), seconds=notice_seconds[i]),
                     last_notice)
        first_amount = lump if form == "lump_sum" else entry if form == "entry_plus_royalty" else (minimum or 0)
        activated = starts = ends = certificate = terminated = None
        duration = decl[13]
        if state in ("active", "expired", "terminated"):
            # Most licences are taken within minutes of the notice (the quick-licence figure), some later.
            delay = timedelta(minutes=delay_minutes[i]) if quick[i] else timedelta(days=delay_days[i])
            activated = min(notice + delay, last_activation)  # nothing happens in the future
            starts = activated.date()
            ends = starts + timedelta(days=365 * duration)
            if state == "expired":
                starts = starts - timedelta(days=365 * duration)
                ends = min(starts + timedelta(days=365 * duration), today - timedelta(days=1))
            certificate = f"OL{pk:012d}"
            if state == "terminated":
                terminated = min(activated + timedelta(days=terminated_after[i]), now)
        lic_rows.append((
            pk, pk_d, patent, holder, licensee, state, f"被许可企业{licensee}", "", "联系人", f"licensee{licensee}@bench.test",
            "", "产品开发 / product development", notice, version.pk, terms_text, sha, form, lump, entry, base, rate,
            minimum, duration, first_amount, "CNY", starts, ends, activated, certificate, "", None, terminated,
            "违约 / breach" if terminated else "", notice,
            # The basis frozen at notice: statutory once CNIPA had announced the declaration (decl[23]: announced_on).
            "statutory" if decl[23] is not None and decl[23] <= notice.date() else "platform"))
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
                sales = int(sales_all[drawn])
                royalty = int(sales * float(rate) / 100)
                topup = max(0, (minimum or 0) - royalty)
                due = royalty + topup
                due_on = period_end + timedelta(days=30)
                submitted = min(datetime(period_end.year, period_end.month, period_end.day, 10, tzinfo=UTC)
                                + timedelta(days=10), now)
                pay_pk = None
                if due:
                    pay_pk = first_p + len(pay_rows)
                    paid_on = min(submitted + timedelta(days=int(paid_after[drawn])), now)
                    pay_rows.append((pay_pk, pk, "royalty", "succeeded", due, 0, due, 0, "CNY", "", due_on, paid_on,
                                     submitted))
                drawn += 1
                report_rows.append((first_r + len(report_rows), pk, period_start, period_end, sales, royalty, topup,
                                    due, due_on, pay_pk, None, submitted))
    with transaction.atomic():
        load_rows(Licence, [
            "id", "declaration", "patent", "licensor", "licensee", "state", "notice_legal_name", "notice_uscc",
            "notice_contact_name", "notice_contact_email", "notice_contact_phone", "notice_field_of_use",
            "notice_submitted_at", "terms_version", "terms_text", "terms_sha256", "fee_form", "lump_sum_fen",
            "entry_fee_fen", "royalty_base", "royalty_rate", "annual_minimum_fen", "duration_years",
            "first_amount_fen", "currency", "starts_on", "ends_on", "activated_at", "certificate_number",
            "recording_number", "recorded_on", "terminated_at", "termination_reason", "created_at", "basis"], lic_rows)
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


GOAL_SECONDS_PER_MILLION = 15 * 60


def record(*, label: str, patents_asked: int, counts: dict, timings: dict, seconds: float) -> None:
    """Add this run to bench/results/<label>.tmp at once: its step times under "generation", and the figure
    "generating the market" (every run of the backend so far together, judged per million patents)."""
    from bench.common import Figure
    from bench.run import RESULTS, Results

    results = Results(RESULTS / f"{label}.tmp")
    runs = results.data.setdefault("generation", [])
    runs.append({"patents": patents_asked, "seconds": round(seconds, 1), "steps": timings, "counts": counts})
    patents = sum(r["patents"] for r in runs)
    total = sum(r["seconds"] for r in runs)
    per_million = total * 1_000_000 / max(patents, 1)
    steps: dict[str, float] = {}
    for r in runs:
        for name, value in r["steps"].items():
            steps[name] = round(steps.get(name, 0) + value, 1)
    figure = Figure(
        name="generating the market (patents, declarations, listings, licences, payments, search index)", unit="s",
        value=round(total, 1), baseline=None, baseline_label="", ratio=None,
        goal="<= 15 min per 1M patents", met=per_million <= GOAL_SECONDS_PER_MILLION, samples=len(runs),
        note=f"{patents:,} patents in {len(runs)} run(s); {per_million / 60:.1f} min per million patents",
        details={"benchmark": "generate", "per_million_s": round(per_million), "steps_s": steps})
    results.data["figures"] = [f for f in results.data["figures"] if f["name"] != figure.name] + [figure.as_dict()]
    results.save()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.generate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--patents", type=int, required=True)
    parser.add_argument("--licences", type=int, required=True)
    parser.add_argument("--needs", type=int, default=None, help="buyer needs (default patents // 50)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--listed-share", type=float, default=0.4,
                        help="share of patents under an open-licence declaration (default 0.4)")
    parser.add_argument("--today", type=date.fromisoformat, default=None)
    parser.add_argument("--workers", type=int, default=int(os.environ.get("BENCH_GENERATE_WORKERS") or 2),
                        help="processes writing search documents on PostgreSQL (default 2: the machine's cores)")
    parser.add_argument("--no-search-index", action="store_true",
                        help="leave the listings out of public search (to time the rest of the generation apart)")
    parser.add_argument("--no-matching-index", action="store_true",
                        help="leave the stored matching index out (built last, over every listing)")
    parser.add_argument("--label", default=None,
                        help="record the time taken in bench/results/<label>.tmp (what bench/run.sh does)")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()
    timings: dict[str, float] = {}
    started = time.monotonic()
    counts = generate(patents=args.patents, licences=args.licences, needs=args.needs, seed=args.seed,
                      listed_share=args.listed_share, today=args.today, timings=timings,
                      search_index=not args.no_search_index, matching_index=not args.no_matching_index,
                      workers=args.workers)
    if args.label:
        record(label=args.label, patents_asked=args.patents, counts=counts, timings=timings,
               seconds=time.monotonic() - started)


if __name__ == "__main__":
    main()
