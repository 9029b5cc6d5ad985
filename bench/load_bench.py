"""Pages under load: gunicorn (2 sync workers) on 127.0.0.1 serving the real site with bench.settings, and a
bounded load generator on loopback (wrk when installed, otherwise a small threaded Python client), against a bare
Django view returning a fixed body on the same server (bench.urls). Rounds alternate between the pages so drift
on the shared machine hits all of them alike; each figure is the median of its rounds' requests per second."""

from __future__ import annotations

import http.client
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from bench.common import Figure, median, ratio

ROOT = Path(__file__).resolve().parent.parent
WORKERS = 2
CONNECTIONS = 4


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """gunicorn with the bench settings, started and stopped by this process only."""

    def __init__(self, *, log: Path, workers: int = WORKERS):
        self.port = _free_port()
        self.workers = workers
        self.log = log
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> Server:
        env = dict(os.environ, DJANGO_SETTINGS_MODULE="bench.settings")
        gunicorn = str(Path(sys.executable).with_name("gunicorn"))
        self.proc = subprocess.Popen(  # noqa: S603 - our own gunicorn, fixed arguments
            [gunicorn, "-w", str(self.workers), "--preload", "-b", f"127.0.0.1:{self.port}", "--access-logfile", "/dev/null",
             "--error-logfile", str(self.log), "--timeout", "120", "marketplace.wsgi:application"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if get(self.port, "/bench/bare/")[0] == 200:
                    return self
            except OSError:
                time.sleep(0.3)
        self.__exit__()
        raise RuntimeError(f"gunicorn did not start; see {self.log}")

    def __exit__(self, *exc) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def get(port: int, path: str) -> tuple[int, int]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", path, headers={"Host": "127.0.0.1", "Accept-Language": "zh-hans"})
        response = conn.getresponse()
        return response.status, len(response.read())
    finally:
        conn.close()


def _wrk(port: int, path: str, seconds: int) -> dict:
    out = subprocess.run(["wrk",  # noqa: S603, S607 - the Debian wrk on PATH, loopback URL "-t", "2", "-c", str(CONNECTIONS), "-d", f"{seconds}s", "--timeout", "30s",
                          f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    kinds = {}
    if m := re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        kinds["non_2xx_3xx"] = int(m.group(1))
    if m := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out):
        kinds.update(zip(("connect", "read", "write", "timeout"), map(int, m.groups()), strict=True))
    kinds = {kind: n for kind, n in kinds.items() if n}  # which errors, so that a missed goal says what failed
    return {"rps": rps, "requests": requests, "errors": sum(kinds.values()), "error_kinds": kinds}


def _threads(port: int, path: str, seconds: int) -> dict:
    counts, errors, lock = [0], [0], threading.Lock()
    stop = time.monotonic() + seconds

    def worker():
        while time.monotonic() < stop:
            try:
                status, _n = get(port, path)
                ok = status == 200
            except OSError:
                ok = False
            with lock:
                counts[0] += 1
                errors[0] += 0 if ok else 1

    threads = [threading.Thread(target=worker) for _ in range(CONNECTIONS)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"rps": counts[0] / (time.monotonic() - start), "requests": counts[0], "errors": errors[0]}


def load(port: int, path: str, seconds: int) -> dict:
    return _wrk(port, path, seconds) if shutil.which("wrk") else _threads(port, path, seconds)


def drain(port: int, *, limit: float = 300) -> float:
    """Wait until the workers are idle again: requests the load generator gave up on are still being served by
    sync workers, and would otherwise be counted against the next page measured. Returns the seconds waited."""
    start = time.monotonic()
    while time.monotonic() - start < limit:
        t = time.monotonic()
        try:
            if get(port, "/bench/bare/")[0] == 200 and time.monotonic() - t < 0.2:
                break
        except OSError:
            time.sleep(1)
    return time.monotonic() - start


def _figures(results: dict, *, pages: dict, rounds: int, seconds: int, tool: str, profiles: dict,
             note: str) -> list[Figure]:
    bare = median([r["rps"] for r in results["bare"]]) if results["bare"] else None
    figures = []
    for name in ("listing index", "listing", "search"):
        measured = results[name]
        if not measured:
            continue
        rps = median([r["rps"] for r in measured])
        errors = sum(r["errors"] for r in measured) + sum(r["errors"] for r in results["bare"])
        r = ratio(rps, bare)
        figures.append(Figure(
            name=f"{name} page under load", unit="req/s", value=round(rps, 1),
            baseline=round(bare, 1) if bare is not None else None,
            baseline_label="bare Django view, fixed 2 KB body, same gunicorn", ratio=round(r, 4) if r is not None else None,
            goal=">= 0.5 x baseline req/s, 0 errors", met=bool(r is not None and r >= 0.5 and errors == 0),
            samples=len(measured), note=note,
            details={"url": pages[name], "errors": errors, "tool": tool, "workers": WORKERS,
                     "error_kinds": [x.get("error_kinds", {}) for x in measured],
                     "bare_error_kinds": [x.get("error_kinds", {}) for x in results["bare"]],
                     "connections": CONNECTIONS, "seconds_per_round": seconds,
                     "rounds_rps": [round(x["rps"], 1) for x in measured],
                     "bare_rounds_rps": [round(x["rps"], 1) for x in results["bare"]],
                     "drained_s": [x["drained_s"] for x in measured],
                     "profile_in_process": profiles.get(name) if not (r and r >= 0.5) else None}))
    return figures


def benchmark(*, seconds: int = 10, rounds: int = 3, log: Path, budget_seconds: float | None = None,
              emit: Callable[[Figure], None] | None = None) -> list[Figure]:
    """Requests per second of each page over `rounds` rounds against the bare view. Within `budget_seconds`: no
    new round starts when the last one's length would pass it (the note says how many ran), and the in-process
    profiles of pages that miss their goal are taken only while time is left. `emit` receives every page's
    figure after every round."""
    from marketplace.models import PatentListingPage

    deadline = time.monotonic() + budget_seconds if budget_seconds is not None else float("inf")
    listing = PatentListingPage.objects.live().filter(alias_of__isnull=True).order_by("pk").first()
    pages = {"bare": "/bench/bare/", "listing index": "/zh-hans/listings/",
             "listing": listing.url if listing else "/zh-hans/listings/",
             "search": "/zh-hans/search/?q=%E7%94%B5%E6%B1%A0"}
    results: dict[str, list[dict]] = {name: [] for name in pages}
    tool = "wrk" if shutil.which("wrk") else "python threads"
    note = ""
    with Server(log=log) as server:
        for path in pages.values():  # warm both workers (imports, jieba, template caches)
            for _ in range(2):
                try:
                    get(server.port, path)
                except OSError:  # a page slower than gunicorn's timeout; measured (as errors) below
                    drain(server.port)
        round_s = 0.0
        for n in range(rounds):
            if n and time.monotonic() + round_s > deadline:
                note = f"{n} of {rounds} rounds within the budget ({budget_seconds:.0f} s, BENCH_LOAD_BUDGET)"
                break
            started = time.monotonic()
            for name, path in pages.items():
                results[name].append(load(server.port, path, seconds))
                results[name][-1]["drained_s"] = round(drain(server.port), 1)
            round_s = max(round_s, time.monotonic() - started)
            if emit is not None:
                for figure in _figures(results, pages=pages, rounds=rounds, seconds=seconds, tool=tool, profiles={},
                                       note=f"provisional: {n + 1} of {rounds} rounds"):
                    emit(figure)
    from django.test import Client

    from bench.profiling import profile

    client = Client()
    profiles = {}
    for name in ("listing index", "listing", "search"):
        if time.monotonic() > deadline:
            break
        client.get(pages[name])
        profiles[name] = profile(lambda name=name: client.get(pages[name]))
    return _figures(results, pages=pages, rounds=rounds, seconds=seconds, tool=tool, profiles=profiles, note=note)
