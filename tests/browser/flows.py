"""Steps that many browser tests take the same way."""

import re

from tests.parties.factories import PASSWORD


def log_in(page, site, user, *, lang="en", password=PASSWORD):
    """The site's log-in form, as a person fills it; waits for the dashboard. `user` is a User or an e-mail."""
    page.goto(f"{site.url}/{lang}/accounts/login/")
    page.fill("#id_username", getattr(user, "email", user))
    page.fill("#id_password", password)
    page.click("form.stacked button[type=submit]")
    page.wait_for_url(re.compile(rf"/{lang}/dashboard/$"))
