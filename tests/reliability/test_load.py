"""A bounded load run: gunicorn (2 sync workers, persistent connections as in production) serving the demo to a few
concurrent clients that browse, search and take licences (paid through the Stripe stand-in, activated by its signed
webhook). Every request is counted: no server error, no connection error, every licence active exactly once with a
gapless certificate number. Throughput and p50/p99 per kind are printed and written to
test-output/reliability-load.json (reported, never asserted: the machine is shared)."""

import time

from tests.reliability.traffic import Plan, Recorder, browsing_paths, declarations_to_license, query, run, summary, write_report

VISITORS, VISITS = 2, 60  # anonymous clients and the requests each makes
LICENSEES = {"licensee@demo.test": 2, "startup@demo.test": 2}  # licences each licensee takes
LICENSEE_VISITS = 24  # requests browsing and searching of each licensee, between its licences


def test_a_bounded_load_of_browsing_searching_and_licensing_ends_without_an_error(shared_site):
    site = shared_site
    base, stripe_url = site.server.url, site.env["STRIPE_API_BASE"]
    browse, search = browsing_paths(base)
    licensees = declarations_to_license(site, LICENSEES)
    plan = Plan(base, stripe_url, browse, search, visitors=VISITORS, visits=VISITS, licensees=licensees,
                licensee_visits=LICENSEE_VISITS)
    recorder = Recorder()

    started = time.monotonic()
    client_errors = run(plan, recorder)
    seconds = time.monotonic() - started

    report = summary(recorder.outcomes, seconds)
    report["licences"] = len(recorder.licensed)
    report["licences_activated_by_webhook"] = sum(1 for licensed in recorder.licensed if licensed.by_webhook)
    report["clients"] = VISITORS + len(LICENSEES)
    report["gunicorn_workers"] = 2
    print(f"\nload run: {report}")
    write_report("load", report)

    assert not client_errors, client_errors
    failed = [o for o in recorder.outcomes if o.failed]
    assert failed == [], failed[:5]
    unexpected = [o for o in recorder.outcomes if o.status is not None and not 200 <= o.status < 400]
    assert unexpected == [], unexpected[:5]
    taken = {licensed.licence_id for licensed in recorder.licensed}
    assert len(taken) == sum(LICENSEES.values())
    assert all(licensed.by_webhook for licensed in recorder.licensed), recorder.licensed

    # In the database: each licence active once, its first payment posted once, one processed webhook per intent.
    rows = query(site,
        "SELECT l.id, l.state, l.certificate_number, p.state, "
        "(SELECT count(DISTINCT e.posting) FROM licensing_ledgerentry e WHERE e.payment_id = p.id), "
        "(SELECT count(*) FROM licensing_webhookdelivery d WHERE d.result = 'processed' "
        " AND d.event_type = 'payment_intent.succeeded' AND position(p.stripe_payment_intent_id IN d.body) > 0) "
        "FROM licensing_licence l JOIN licensing_payment p ON p.licence_id = l.id AND p.purpose = 'first_amount' "
        "WHERE l.id = ANY(%s) ORDER BY l.id", [sorted(taken)])
    assert [(r[1], r[3], r[4], r[5]) for r in rows] == [("active", "succeeded", 1, 1)] * len(taken), rows
    numbers = {r[2] for r in rows}
    assert numbers == {licensed.certificate_number for licensed in recorder.licensed}
    # Certificate numbers of the whole site (the demo's and these) run without a gap.
    serials = sorted(int(n[6:]) for (n,) in site.cluster.execute(
        "SELECT certificate_number FROM licensing_licence WHERE certificate_number IS NOT NULL", site.database))
    assert serials == list(range(1, len(serials) + 1)), serials
