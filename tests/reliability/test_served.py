"""The harness itself: the demo served by gunicorn on its own database copy answers as `make run` does. It looks at
the session's shared deployment (conftest.shared_site), the one the other checks use: starting a deployment of
its own only to look at it cost ~45 s of the reliability step on a loaded machine (start, and a stop that waited
out gunicorn's shutdown)."""

import requests


def fetch(url: str) -> tuple[int, bytes]:
    response = requests.get(url, timeout=30)
    return response.status_code, response.content


def test_a_served_copy_of_the_demo_answers_pages_and_the_api(shared_site):
    site = shared_site
    status, body = fetch(f"{site.server.url}/healthz")
    assert (status, body) == (200, b'{"status": "ok"}')
    status, body = fetch(f"{site.server.url}/")
    assert status == 200 and b"<html" in body.lower()
    status, body = fetch(f"{site.server.url}/api/schema/")
    assert status == 200 and b"openapi" in body
    # Its database is a copy: the seeded template keeps no connection and other copies are untouched.
    patents = site.cluster.execute("SELECT count(*) FROM patents_patent", site.database)[0][0]
    assert patents > 0
