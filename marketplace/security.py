"""HTTP hardening that needs a little code on top of the libraries that do the work: django-csp writes the
Content-Security-Policy header, django-axes throttles logins.

The policy in settings allows only our own origin. Two things are added per request here rather than fixed
in settings: the origins of Stripe.js and of the Stripe API, read from the settings at each request (in dev
and tests they are the local Stripe stand-in, on a port the test run picks), a looser script and style
policy for the Wagtail and Django admins, whose own templates use inline scripts and styles, and inline
styles for the API's documentation pages."""

from urllib.parse import urlsplit

from csp.constants import SELF, UNSAFE_INLINE
from csp.middleware import CSPMiddleware
from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

ADMIN_PREFIXES = ("/admin/", "/django-admin/")
# Swagger UI and Redoc (our own static copies) inject their styles at run time; neither runs inline script.
API_DOCS_PREFIXES = ("/api/docs/", "/api/redoc/")


def _origin(url: str) -> str | None:
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


def stripe_origins() -> dict[str, list[str]]:
    """What Stripe.js needs besides our origin: its script, its card iframes and its API calls. With the real
    Stripe that is js.stripe.com (script, frames) and api.stripe.com (calls); with the stand-in one origin."""
    js = _origin(settings.STRIPE_JS_URL)
    api = _origin(settings.STRIPE_API_BASE) or "https://api.stripe.com"
    frames = [js] if js else []
    if js == "https://js.stripe.com":
        frames.append("https://hooks.stripe.com")  # 3-D Secure challenge frames
    return {"script-src": [o for o in [js] if o], "frame-src": frames,
            "connect-src": sorted({o for o in [js, api] if o})}


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware with the Stripe origins added and the admins' inline scripts and styles allowed
    (only under the admin prefixes)."""

    def get_policy_parts(self, request, response, report_only=False):
        parts = super().get_policy_parts(request, response, report_only=report_only)
        update = {key: list(value) for key, value in (parts.update or {}).items()}
        for directive, origins in stripe_origins().items():
            update.setdefault(directive, []).extend(origins)
        parts.update = update
        if request.path_info.startswith(ADMIN_PREFIXES):
            parts.replace = {**(parts.replace or {}), "script-src": [SELF, UNSAFE_INLINE, *update["script-src"]],
                             "style-src": [SELF, UNSAFE_INLINE], "img-src": [SELF, "data:", "blob:"]}
        elif request.path_info.startswith(API_DOCS_PREFIXES):
            parts.replace = {**(parts.replace or {}), "style-src": [SELF, UNSAFE_INLINE],
                             "worker-src": [SELF, "blob:"]}
        return parts


def login_locked_out(request, credentials, *args, **kwargs) -> HttpResponse:
    """What django-axes answers once an account or address has failed to log in too often (AXES_LOCKOUT_CALLABLE):
    our own page, in the visitor's language, with status 429."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60) if settings.AXES_COOLOFF_TIME else None
    message = (_("Too many failed log-ins. Try again in %(minutes)d minutes, or reset your password.") % {"minutes": minutes}
               if minutes else _("Too many failed log-ins. Reset your password or ask us to unlock your account."))
    return render(request, "registration/locked_out.html", {"message": message}, status=429)
