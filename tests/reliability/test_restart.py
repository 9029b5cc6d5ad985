"""PostgreSQL restarted while clients browse, search and take licences: the requests that reach the database during
the outage fail cleanly (our 500 page, at once, no traceback, no dropped connection), gunicorn keeps serving and
recovers without being restarted (persistent connections are health-checked, as production sets them), and every
licence whose activation a licensee had seen before the restart is still there with its certificate."""

import os
import subprocess
import sys
import time

import requests

from tests.reliability.harness import ROOT
from tests.reliability.traffic import Plan, Recorder, browsing_paths, declarations_to_license, query, run, write_report

LICENSEES = {"licensee@demo.test": 2, "startup@demo.test": 2}
AFTER_RESTART = 40  # requests made after PostgreSQL is back


def test_requests_during_a_postgresql_restart_fail_cleanly_and_the_site_recovers_with_every_licence(shared_site):
    site = shared_site
    base = site.server.url
    gunicorn_pid = site.server.process.pid
    browse, search = browsing_paths(base)
    recorder, restart = Recorder(), {}

    def enough() -> bool:  # visitors go on until PostgreSQL is back and they made this many requests since
        return "ended" in restart and sum(o.started > restart["ended"] for o in recorder.outcomes) >= AFTER_RESTART

    # Steps of a licence are tried again after a failure (as a person reloads), for up to ~10 s. The visitors'
    # count is only a cap: they stop once `enough` says so, however late in their run the restart came (with 150
    # each, a quiet machine once saw them finish 26 requests after it).
    plan = Plan(base, site.env["STRIPE_API_BASE"], browse, search, visitors=2, visits=1500,
                licensees=declarations_to_license(site, LICENSEES), licensee_visits=8, attempts=40, timeout=20,
                enough=enough)

    def restart_once_a_licence_is_active(progress: Recorder) -> None:
        # Mid-run: a licence acknowledged to its licensee, and the visitors with most of their requests to go.
        if "began" not in restart and progress.licensed:
            restart["acknowledged"] = list(progress.licensed)
            restart["requests_before"] = len(progress)
            restart["began"] = time.monotonic()
            site.cluster.restart()  # fast shutdown (open transactions roll back), then start; pg_ctl waits for it
            restart["ended"] = time.monotonic()

    started = time.monotonic()
    client_errors = run(plan, recorder, on_progress=restart_once_a_licence_is_active)
    seconds = time.monotonic() - started

    assert not client_errors, client_errors
    assert "ended" in restart, "the run ended before a licence was active: nothing was restarted"
    outcomes = recorder.outcomes
    failed = [o for o in outcomes if o.failed]
    during = [o for o in outcomes if o.ended >= restart["began"] and o.started <= restart["ended"]]
    after = [o for o in outcomes if o.started > restart["ended"]]
    last_failure = max((o.ended for o in failed), default=restart["began"])
    report = {
        "requests": len(outcomes), "seconds": round(seconds, 2), "requests_before_restart": restart["requests_before"],
        "restart_seconds": round(restart["ended"] - restart["began"], 2),
        "requests_during_restart": len(during), "failed_requests": len(failed),
        "failed_statuses": sorted({o.status for o in failed}, key=str),
        "failed_by_kind": {kind: sum(o.kind == kind for o in failed) for kind in sorted({o.kind for o in failed})},
        "slowest_failure_ms": round(max((o.seconds for o in failed), default=0) * 1000, 1),
        "requests_after_restart": len(after),
        # From PostgreSQL accepting connections again to the end of the last failed request (0: none after it).
        "recovery_seconds": round(max(0.0, last_failure - restart["ended"]), 2),
        "licences": len(recorder.licensed), "licences_acknowledged_before_restart": len(restart["acknowledged"]),
    }
    print(f"\nrestart under load: {report}")
    write_report("restart", report)

    # Failures are the server's clean error page, never a dropped connection or a hang (the client's timeout).
    assert all(o.status is not None for o in failed), [o for o in failed if o.status is None][:5]
    assert all(o.status in (500, 502, 503) and not o.traceback_shown for o in failed), failed[:5]
    # Only while PostgreSQL was away: every request begun after it was back succeeded, in the same gunicorn.
    assert [o for o in after if o.failed] == []
    assert len(after) >= AFTER_RESTART
    assert site.server.process.poll() is None and site.server.process.pid == gunicorn_pid

    # A restart while the site is idle: no failed request has made the workers drop their dead connections, so
    # this is where the health check counts (without it, each worker's next request answers 500 once).
    site.cluster.restart()
    statuses = [requests.get(f"{base}/healthz", timeout=10).status_code for _ in range(6)]
    assert statuses == [200] * 6

    # Nothing committed was lost: what licensees saw active before the restart is there, with its certificate.
    rows = dict(query(site, "SELECT id, certificate_number FROM licensing_licence WHERE state = 'active' AND id = ANY(%s)",
                      [[licensed.licence_id for licensed in recorder.licensed]]))
    assert {a.licence_id: a.certificate_number for a in restart["acknowledged"]}.items() <= rows.items()
    # And every licence of the run ended active, paid once, its certificate numbered without a gap.
    assert rows == {licensed.licence_id: licensed.certificate_number for licensed in recorder.licensed}
    postings = query(site, "SELECT p.licence_id, count(DISTINCT e.posting) FROM licensing_payment p LEFT JOIN "
                           "licensing_ledgerentry e ON e.payment_id = p.id WHERE p.licence_id = ANY(%s) GROUP BY 1",
                     [list(rows)])
    assert sorted(count for _licence, count in postings) == [1] * len(rows), postings
    serials = sorted(int(n[6:]) for (n,) in query(
        site, "SELECT certificate_number FROM licensing_licence WHERE certificate_number IS NOT NULL"))
    assert serials == list(range(1, len(serials) + 1)), serials


def test_production_checks_persistent_connections_before_reusing_them():
    # The behaviour above depends on it: without the check each worker's first request after a restart fails.
    code = ("import marketplace.settings.production as s; "
            "d = s.DATABASES['default']; print(d['CONN_MAX_AGE'], d['CONN_HEALTH_CHECKS'])")
    env = {**os.environ, "SECRET_KEY": "k" * 30 + "-Zq9!x" * 10, "ALLOWED_HOSTS": "patents.example.cn",
           "CACHE_URL": "redis://127.0.0.1:6379/0", "DATABASE_URL": "postgres://u@127.0.0.1:5432/x"}
    env.pop("CONN_MAX_AGE", None)
    env.pop("CONN_HEALTH_CHECKS", None)
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.stdout.split() == ["60", "True"], result.stderr
