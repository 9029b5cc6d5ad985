"""Traffic for the load and restart checks: a few clients, each a thread with its own `requests` session, browsing,
searching and taking licences on a served deployment, every request recorded (kind, status, latency, error).

Why threads with `requests` rather than locust: the checks are bounded by a request count, not by a duration, and
assert on every single outcome (no 5xx, no connection error, a licence paid through the real pages and the Stripe
stand-in, its certificate verified); here each outcome is a record we can count and check. locust is made for
runs of a given duration whose figures it aggregates itself (rounded percentile buckets, gevent-patched sockets,
its own process to drive), and it would be one more dependency for what four threads do on two cores. The
licensing flow is the page's own sequence (notice form, Stripe.js tokenising the card, the pay endpoint, 3-D
Secure answered as localstripe's Stripe.js answers it, the signed webhook activating the licence)."""

from __future__ import annotations

import json
import re
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote

import psycopg
import requests
import stripe

DEMO_PASSWORD = "demo-pass-2026"  # noqa: S105 - the published demo credential (marketplace/demo/seed.py)
CARD_3DS = "4000002500003155"
# What a browser gets when the server fails: our 500 page, never Django's debug page or a traceback.
TRACEBACK_MARKERS = ("Traceback (most recent call last)", "OperationalError", "psycopg", 'File "/')


@dataclass
class Outcome:
    client: str
    kind: str  # browse, search or licence
    method: str
    path: str
    started: float  # time.monotonic()
    seconds: float
    status: int | None  # None: no answer (connection refused or reset, timeout)
    error: str = ""
    traceback_shown: bool = False

    @property
    def failed(self) -> bool:
        return self.status is None or self.status >= 500

    @property
    def ended(self) -> float:
        return self.started + self.seconds


@dataclass
class Licensed:
    """A licence taken by a client: when its licensee saw it active (with its certificate number)."""

    licence_id: int
    declaration_id: int
    certificate_number: str
    acknowledged_at: float  # time.monotonic() when the licence page showed the certificate
    by_webhook: bool  # activated by Stripe's signed webhook before the buyer's browser came back


class _Forms(HTMLParser):
    """The fields of every form of a page (inputs with their values, textareas, selects' chosen options)."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict[str, str]] = []
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append({})
        elif not self.forms:
            return
        elif tag == "input" and a.get("name") and a.get("type") not in ("checkbox", "submit"):
            self.forms[-1].setdefault(a["name"], a.get("value") or "")
        elif tag == "textarea" and a.get("name"):
            self.forms[-1].setdefault(a["name"], "")
        elif tag == "select":
            self._select = a.get("name")
        elif tag == "option" and self._select and ("selected" in a or self._select not in self.forms[-1]):
            self.forms[-1][self._select] = a.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None


def form_with(html: str, field_name: str) -> dict[str, str]:
    parser = _Forms()
    parser.feed(html)
    return next(f for f in parser.forms if field_name in f)


class Recorder:
    """Every request of every client, in one list (appends under a lock)."""

    def __init__(self):
        self.outcomes: list[Outcome] = []
        self.licensed: list[Licensed] = []
        self._lock = threading.Lock()

    def add(self, outcome: Outcome) -> None:
        with self._lock:
            self.outcomes.append(outcome)

    def add_licence(self, licensed: Licensed) -> None:
        with self._lock:
            self.licensed.append(licensed)

    def __len__(self) -> int:
        return len(self.outcomes)


class Client:
    """One visitor: a session (cookies, CSRF) and the recorder every request goes to."""

    def __init__(self, name: str, base: str, recorder: Recorder, *, stripe_url: str, timeout: float = 30):
        self.name, self.base, self.recorder, self.stripe_url, self.timeout = name, base, recorder, stripe_url, timeout
        self.session = requests.Session()
        self.session.headers["User-Agent"] = f"reliability-{name}"

    def request(self, kind: str, method: str, path: str, **kwargs) -> requests.Response | None:
        started = time.monotonic()
        try:
            response = self.session.request(method, self.base + path, timeout=self.timeout, **kwargs)
        except requests.RequestException as exc:
            self.recorder.add(Outcome(self.name, kind, method, path, started, time.monotonic() - started, None,
                                      error=f"{type(exc).__name__}: {exc}"[:300]))
            return None
        text = response.text if response.status_code >= 500 else ""
        self.recorder.add(Outcome(self.name, kind, method, path, started, time.monotonic() - started,
                                  response.status_code, traceback_shown=any(m in text for m in TRACEBACK_MARKERS)))
        return response

    def ok(self, kind: str, method: str, path: str, *, attempts: int = 1, pause: float = 0.25,
           **kwargs) -> requests.Response:
        """The request answered 2xx (after redirects); a failed answer is recorded and tried again up to
        `attempts` times, as a person reloads a page that failed."""
        for attempt in range(attempts):
            response = self.request(kind, method, path, **kwargs)
            if response is not None and response.ok:
                return response
            if attempt + 1 < attempts:
                time.sleep(pause)
        status = response.status_code if response is not None else "no answer"
        raise AssertionError(f"{self.name}: {method} {path} failed ({status}) after {attempts} attempt(s)")

    def log_in(self, email: str, *, attempts: int = 1) -> None:
        page = self.ok("licence", "GET", "/zh-hans/accounts/login/", attempts=attempts)
        fields = {**form_with(page.text, "password"), "username": email, "password": DEMO_PASSWORD}
        done = self.ok("licence", "POST", "/zh-hans/accounts/login/", data=fields, headers={"Referer": page.url},
                       attempts=attempts)
        assert "/dashboard/" in done.url, f"{email} was not logged in ({done.url})"

    def take_licence(self, declaration_id: int, *, attempts: int = 1, webhook_wait: float = 20) -> Licensed:
        """Give the written notice on an open declaration and pay its first amount with a 3-D Secure card, as the
        licence page does: Stripe.js tokenises the card at Stripe (here: the stripe library with the publishable
        key, against the stand-in), the pay endpoint confirms the intent, the buyer passes 3-D Secure at Stripe,
        and Stripe's signed webhook activates the licence (the buyer's return settles it if no webhook came)."""
        take = f"/zh-hans/declarations/{declaration_id}/licence/"
        page = self.ok("licence", "GET", take, attempts=attempts)
        notice = {**form_with(page.text, "terms_sha256"), "field_of_use": "负载测试 / load run", "accept": "on"}
        licence_page = self.ok("licence", "POST", take, data=notice, headers={"Referer": page.url}, attempts=attempts)
        licence_path = re.search(r"/zh-hans/licences/(\d+)/$", licence_page.url)
        assert licence_path, f"the notice did not lead to a licence page: {licence_page.url}"
        licence_id = int(licence_path.group(1))
        box = dict(re.findall(r'data-(pay-url|return-url|publishable-key|csrf)="([^"]*)"', licence_page.text))
        publishable_key = box["publishable-key"]
        # Stripe.js's createToken: POST /v1/tokens with the publishable key in the body (localstripe's check).
        stand_in = stripe.StripeClient(publishable_key, base_addresses={"api": self.stripe_url})
        token = stand_in.v1.tokens.create(params={
            "card": {"number": CARD_3DS, "exp_month": "12", "exp_year": "2030", "cvc": "123"}, "key": publishable_key})
        paid = self.ok("licence", "POST", box["pay-url"], json={"voucher": "", "token": token.id},
                       headers={"X-CSRFToken": box["csrf"], "Referer": licence_page.url}, attempts=attempts)
        answer = paid.json()
        assert answer["status"] == "requires_action", answer
        # Stripe.js's confirmCardPayment: the buyer passes the bank's 3-D Secure check at Stripe.
        intent_id = answer["client_secret"].split("_secret_")[0]
        authenticated = requests.post(
            f"{self.stripe_url}/v1/payment_intents/{intent_id}/_authenticate?success=true", timeout=30,
            json={"key": publishable_key, "client_secret": answer["client_secret"]})
        assert authenticated.status_code == 200 and authenticated.json()["status"] == "succeeded", authenticated.text
        # The webhook arrives about a second later; the buyer's page waits for the licence to show as active.
        number, deadline = None, time.monotonic() + webhook_wait
        while number is None and time.monotonic() < deadline:
            time.sleep(0.4)
            shown = self.request("licence", "GET", f"/zh-hans/licences/{licence_id}/")
            if shown is not None and shown.ok:
                number = _certificate_number(shown.text)
        by_webhook = number is not None
        back = self.ok("licence", "GET", box["return-url"], attempts=attempts)  # Stripe.js sends the buyer back
        number = number or _certificate_number(back.text)
        assert number, f"licence {licence_id} is not active after the webhook and the buyer's return"
        licensed = Licensed(licence_id, declaration_id, number, time.monotonic(), by_webhook)
        self.recorder.add_licence(licensed)
        # What a third party sees: the public verification page of the certificate.
        verified = self.ok("licence", "GET", f"/zh-hans/verify/{quote(number)}/", attempts=attempts)
        assert number in verified.text
        return licensed


def _certificate_number(html: str) -> str | None:
    found = re.search(r'/verify/([A-Z]{2}\d{12})/', html) or re.search(r"\b(OL\d{12})\b", html)
    return found.group(1) if found else None


def browsing_paths(base: str) -> tuple[list[str], list[str]]:
    """What visitors browse (home, the listings, one listing, needs, the patent navigation, a certificate) and
    what they search (Chinese and English words, facets, the listings API), from what the demo holds."""
    listings = requests.get(f"{base}/api/listings/", params={"page_size": 100}, timeout=30).json()["results"]
    listing_pages = [item["url"] for item in listings][:4]
    browse = ["/zh-hans/", "/en/", "/zh-hans/listings/", "/en/listings/", *listing_pages,
              "/zh-hans/needs/", "/zh-hans/navigation/", "/zh-hans/verify/"]
    search = ["/zh-hans/search/?q=" + quote("电池"), "/zh-hans/search/?q=" + quote("图像识别"),
              "/en/search/?q=battery", "/en/search/?q=wireless+resource",
              "/zh-hans/search/?q=" + quote("方法") + "&grade=A",
              "/zh-hans/search/?technology_field=1&fee_form=lump_sum", "/en/search/?fee_form=royalty&sort=newest",
              "/zh-hans/api/listings/?q=" + quote("控制"), "/api/listings/?q=image&page_size=10",
              "/api/declarations/?page_size=20"]
    return browse, search


def payable_declarations(base: str) -> list[int]:
    """Declarations open to licensing (filed at CNIPA or announced) asking a first amount (lump sum, entry fee or
    annual minimum): paid by card."""
    found = requests.get(f"{base}/api/declarations/", params={"page_size": 100}, timeout=30).json()["results"]
    return sorted(d["id"] for d in found if d["state"] in ("filed", "announced", "withdrawal_filed")
                  and (d["lump_sum_fen"] or d["entry_fee_fen"] or d["annual_minimum_fen"]))


@dataclass
class Plan:
    """Who does what: anonymous visitors browsing and searching, licensees doing the same between licences."""

    base: str
    stripe_url: str
    browse: list[str]
    search: list[str]
    visitors: int = 2  # anonymous clients
    visits: int = 60  # requests per anonymous client
    licensees: dict[str, list[int]] = field(default_factory=dict)  # e-mail -> declarations it takes a licence on
    licensee_visits: int = 30  # browsing and searching requests per licensee client, besides its licences
    attempts: int = 1  # tries per step of a licence (more when failures are expected)
    timeout: float = 30
    enough: Callable[[], bool] | None = None  # visitors stop before `visits` once this says so (a count reached)


def _visit(client: Client, paths: list[tuple[str, str]], count: int, offset: int, enough=None) -> None:
    for i in range(count):
        if enough is not None and enough():
            return
        kind, path = paths[(offset + i) % len(paths)]
        client.request(kind, "GET", path)


def run(plan: Plan, recorder: Recorder, *, on_progress=None) -> list[BaseException]:
    """Run the plan's clients concurrently until each has made its requests; returns the exceptions they raised
    (a broken licence flow), after every client stopped."""
    mix = [("browse", p) for p in plan.browse] + [("search", p) for p in plan.search]
    # Interleave browsing and searching so every stretch of the run has both.
    mix = [m for pair in zip(mix[::2], mix[1::2], strict=False) for m in pair] + ([mix[-1]] if len(mix) % 2 else [])
    errors: list[BaseException] = []

    def visitor(number: int) -> None:
        client = Client(f"visitor-{number}", plan.base, recorder, stripe_url=plan.stripe_url, timeout=plan.timeout)
        _visit(client, mix, plan.visits, offset=number * 7, enough=plan.enough)

    def licensee(number: int, email: str, declarations: list[int]) -> None:
        client = Client(f"licensee-{number}", plan.base, recorder, stripe_url=plan.stripe_url, timeout=plan.timeout)
        client.log_in(email, attempts=plan.attempts)
        per_gap = max(1, plan.licensee_visits // (len(declarations) + 1))
        done = 0
        for declaration_id in declarations:
            _visit(client, mix, per_gap, offset=number * 11 + done)
            done += per_gap
            client.take_licence(declaration_id, attempts=plan.attempts)
        _visit(client, mix, plan.licensee_visits - done, offset=number * 11 + done)

    def guarded(target, *args):
        try:
            target(*args)
        except BaseException as exc:  # noqa: BLE001 - reported to the test, which fails with it
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(visitor, n)) for n in range(plan.visitors)]
    threads += [threading.Thread(target=guarded, args=(licensee, n, email, ds))
                for n, (email, ds) in enumerate(plan.licensees.items())]
    for thread in threads:
        thread.start()
    while any(t.is_alive() for t in threads):
        if on_progress is not None:
            on_progress(recorder)
        time.sleep(0.05)
    for thread in threads:
        thread.join()
    return errors


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0-100) of the values."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))
    return ordered[int(rank) - 1]


def summary(outcomes: list[Outcome], seconds: float) -> dict:
    """Throughput over the run and latency (ms) per kind of request."""
    kinds = {}
    for kind in sorted({o.kind for o in outcomes}):
        times = [o.seconds * 1000 for o in outcomes if o.kind == kind and not o.failed]
        kinds[kind] = {"requests": sum(1 for o in outcomes if o.kind == kind),
                       "errors": sum(1 for o in outcomes if o.kind == kind and o.failed),
                       "p50_ms": round(statistics.median(times), 1) if times else None,
                       "p99_ms": round(percentile(times, 99), 1) if times else None}
    return {"requests": len(outcomes), "errors": sum(1 for o in outcomes if o.failed),
            "seconds": round(seconds, 2), "requests_per_second": round(len(outcomes) / seconds, 1) if seconds else None,
            "kinds": kinds}


def write_report(name: str, report: dict) -> Path:
    out = Path(__file__).resolve().parents[2] / "test-output" / f"reliability-{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    return out


def query(site, sql: str, params: list | None = None) -> list[tuple]:
    """Rows from the site's database (with parameters, which the cluster's `execute` does not take)."""
    with psycopg.connect(site.cluster.url(site.database), autocommit=True) as conn:
        return conn.execute(sql, params).fetchall()


def declarations_to_license(site, wanted: dict[str, int]) -> dict[str, list[int]]:
    """For each licensee (demo e-mail -> how many), payable declarations its organisation holds no licence on yet
    (so a check does not depend on what an earlier one took on the shared site)."""
    payable = payable_declarations(site.server.url)
    chosen: dict[str, list[int]] = {}
    for email, count in wanted.items():
        licensed = {row[0] for row in query(
            site, "SELECT l.declaration_id FROM licensing_licence l JOIN parties_membership m "
                  "ON m.organisation_id = l.licensee_id JOIN parties_user u ON u.id = m.user_id WHERE u.email = %s",
            [email])}
        chosen[email] = [d for d in payable if d not in licensed][:count]
        assert len(chosen[email]) == count, f"{email}: too few declarations left to license ({payable}, {licensed})"
    return chosen
