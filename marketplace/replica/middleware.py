"""Pins a request to the primary when its user wrote recently (router.py), and remembers a write in a cookie.

A POST, PUT, PATCH or DELETE (a form, the API, a webhook) is pinned itself, and its answer, like that of any request
that wrote (the buyer's return from the payment page is a GET that settles the payment), sets a cookie that pins
this browser's requests for REPLICA_STICKY_SECONDS: longer than any lag a healthy replica has. The cookie holds
nothing but an expiry time; a forged one can only send its sender's own reads to the primary."""

import time

from django.conf import settings

from marketplace.replica.router import replica_configured, request_scope, request_wrote

COOKIE = "primary_until"
WRITES = {"POST", "PUT", "PATCH", "DELETE"}


def _recently_wrote(request) -> bool:
    try:
        return float(request.COOKIES.get(COOKIE, "0")) > time.time()
    except ValueError:
        return False


class ReadYourWritesMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not replica_configured():
            return self.get_response(request)
        writes = request.method in WRITES
        with request_scope(pinned=writes or _recently_wrote(request)):
            response = self.get_response(request)
            wrote = writes or request_wrote()
        if wrote:
            until = time.time() + settings.REPLICA_STICKY_SECONDS
            response.set_cookie(COOKIE, f"{until:.0f}", max_age=int(settings.REPLICA_STICKY_SECONDS) + 1,
                                httponly=True, samesite="Lax", secure=request.is_secure())
        return response
