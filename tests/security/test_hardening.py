"""Deployment hardening seen from outside: the Content-Security-Policy and the other security headers on our
pages, templates that need no inline script or style, secure cookies in production, and log-in throttling."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import override_settings
from django.urls import reverse

from tests.parties.factories import PASSWORD, MembershipFactory

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db


def _policy(response) -> dict[str, list[str]]:
    header = response.headers["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


def test_site_pages_allow_only_our_origin_and_stripe_and_no_inline_script(client, demo_pages, settings):
    settings.STRIPE_JS_URL = "https://js.stripe.com/v3/"
    settings.STRIPE_API_BASE = ""
    response = client.get("/en/")
    policy = _policy(response)
    assert policy["default-src"] == ["'self'"] and policy["object-src"] == ["'none'"]
    assert policy["script-src"] == ["'self'", "https://js.stripe.com"]
    assert policy["style-src"] == ["'self'"] and policy["frame-ancestors"] == ["'none'"]
    assert set(policy["frame-src"]) == {"'self'", "https://js.stripe.com", "https://hooks.stripe.com"}
    assert set(policy["connect-src"]) == {"'self'", "https://js.stripe.com", "https://api.stripe.com"}
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_in_dev_and_tests_the_policy_names_the_local_stripe_stand_in(client, demo_pages, settings):
    settings.STRIPE_JS_URL = "http://127.0.0.1:8420/js.stripe.com/v3/"
    settings.STRIPE_API_BASE = "http://127.0.0.1:8420"
    policy = _policy(client.get("/zh-hans/"))
    assert policy["script-src"] == ["'self'", "http://127.0.0.1:8420"]
    assert policy["connect-src"] == ["'self'", "http://127.0.0.1:8420"]


def test_only_the_admins_may_run_inline_scripts(admin_client, demo_pages):
    admin_policy = _policy(admin_client.get("/admin/"))
    assert "'unsafe-inline'" in admin_policy["script-src"] and "'unsafe-inline'" in admin_policy["style-src"]
    site_policy = _policy(admin_client.get("/en/search/"))
    assert "'unsafe-inline'" not in site_policy["script-src"] + site_policy["style-src"]


TEMPLATE_DIRS = ["marketplace", "patents", "licensing", "cms"]
INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "inline <script>"),
    (re.compile(r"<style\b", re.I), "inline <style> element"),
    (re.compile(r"\son[a-z]+\s*=\s*[\"']", re.I), "inline event handler"),
    (re.compile(r"\sstyle\s*=\s*[\"']", re.I), "inline style attribute"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
]


def test_our_templates_need_no_inline_script_or_style_so_the_policy_can_refuse_them():
    offences = []
    for app in TEMPLATE_DIRS:
        for path in (ROOT / app).rglob("templates/**/*.html"):
            text = path.read_text(encoding="utf-8")
            for pattern, what in INLINE:
                for match in pattern.finditer(text):
                    line = text.count("\n", 0, match.start()) + 1
                    offences.append(f"{path.relative_to(ROOT)}:{line}: {what}")
    assert offences == []


def test_production_cookies_are_secure_and_http_only():
    code = ("import django, json; django.setup(); from django.conf import settings as s; print(json.dumps({k: getattr(s, k) "
            "for k in ['SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'SESSION_COOKIE_HTTPONLY', 'SECURE_SSL_REDIRECT', "
            "'SECURE_HSTS_SECONDS', 'SESSION_COOKIE_SAMESITE', 'AXES_ENABLED']}))")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SECRET_KEY", "DATABASE_URL"))}
    env.update({"DJANGO_SETTINGS_MODULE": "marketplace.settings.production", "ALLOWED_HOSTS": "patents.example.cn",
                "SECRET_KEY": "p" * 40 + "-Zq9!x" * 10, "CACHE_URL": "redis://127.0.0.1:6379/0"})
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    values = json.loads(out.stdout)
    assert values == {"SESSION_COOKIE_SECURE": True, "CSRF_COOKIE_SECURE": True, "SESSION_COOKIE_HTTPONLY": True,
                      "SECURE_SSL_REDIRECT": True, "SECURE_HSTS_SECONDS": 31_536_000, "SESSION_COOKIE_SAMESITE": "Lax",
                      "AXES_ENABLED": True}


def _log_in(client, email, password):
    return client.post(reverse("login"), {"username": email, "password": password})


@override_settings(AXES_ENABLED=True, AXES_FAILURE_LIMIT=3)
def test_an_account_is_paused_after_repeated_failed_log_ins_even_with_the_right_password(client, demo_pages):
    victim = MembershipFactory().user
    bystander = MembershipFactory().user
    for _attempt in range(2):
        assert _log_in(client, victim.email, "wrong-guess").status_code == 200
    assert _log_in(client, victim.email, "wrong-guess").status_code == 429  # the third failure pauses the pair
    response = _log_in(client, victim.email, PASSWORD)
    assert response.status_code == 429
    assert "Too many failed log-ins" in response.content.decode() or "登录失败次数过多" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # Another account from the same address is not affected.
    assert _log_in(client, bystander.email, PASSWORD).status_code == 302


@override_settings(AXES_ENABLED=True, AXES_FAILURE_LIMIT=3)
def test_a_successful_log_in_clears_the_failures_before_the_limit(client, demo_pages):
    user = MembershipFactory().user
    for _attempt in range(2):
        _log_in(client, user.email, "wrong-guess")
    assert _log_in(client, user.email, PASSWORD).status_code == 302
    client.logout()
    for _attempt in range(2):
        _log_in(client, user.email, "wrong-guess")
    assert _log_in(client, user.email, PASSWORD).status_code == 302


@override_settings(AXES_ENABLED=True, AXES_FAILURE_LIMIT=3)
def test_the_wagtail_admin_log_in_is_throttled_too(client, demo_pages, django_user_model):
    editor = django_user_model.objects.create_superuser(email="editor@throttle.test", password=PASSWORD)
    for _attempt in range(3):
        client.post("/admin/login/", {"username": editor.email, "password": "wrong-guess"})
    assert client.post("/admin/login/", {"username": editor.email, "password": PASSWORD}).status_code == 429
