import os
import subprocess
import sys
from pathlib import Path

import pytest
import stripe

ROOT = Path(__file__).resolve().parents[2]


def _django(settings_module, env_extra, *args):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SECRET_KEY", "DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE", "CACHE_URL"))}
    env.update({"DJANGO_SETTINGS_MODULE": settings_module, **env_extra})
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)


def test_production_refuses_to_start_without_a_secret_key():
    result = _django("marketplace.settings.production", {"ALLOWED_HOSTS": "x.cn"}, "check")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_passes_check_deploy_with_its_environment():
    result = _django("marketplace.settings.production",
                     {"ALLOWED_HOSTS": "patents.example.cn", "SECRET_KEY": "k" * 30 + "-Zq9!x" * 10,
                      "CACHE_URL": "redis://127.0.0.1:6379/0"},
                     "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stderr + result.stdout


def test_production_refuses_a_cache_its_app_servers_would_not_share():
    for cache in ({}, {"CACHE_URL": "locmemcache://default"}):  # none given, then one per worker process
        result = _django("marketplace.settings.production",
                         {"ALLOWED_HOSTS": "x.cn", "SECRET_KEY": "k" * 30 + "-Zq9!x" * 10, **cache}, "check")
        assert result.returncode != 0 and "CACHE_URL must point at the Redis server" in result.stderr


def test_database_url_selects_the_engine():
    code = "from django.conf import settings; print(settings.DATABASES['default']['ENGINE'])"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "marketplace.settings.dev",
           "DATABASE_URL": "postgres://u:p@127.0.0.1:5432/x"}
    out = subprocess.run([sys.executable, "-c", "import django; django.setup(); " + code], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "django.db.backends.postgresql"


def test_the_local_stripe_stand_in_takes_a_payment_on_loopback(localstripe_url):
    assert localstripe_url.startswith("http://127.0.0.1:")
    intent = stripe.PaymentIntent.create(api_key="sk_test_tooling", amount=1500, currency="cny",
                                         payment_method="pm_card_visa", confirm=True)
    assert intent.status == "succeeded" and intent.amount == 1500


@pytest.mark.django_db
def test_healthz_answers(client):
    assert client.get("/healthz").json() == {"status": "ok"}


def test_production_keeps_import_progress_in_the_cache_every_server_shares():
    code = ("from django.conf import settings; c = settings.CACHES['progress']; "
            "print(c['BACKEND'], c['LOCATION'], c['KEY_PREFIX'])")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PROGRESS_CACHE_URL", "DATABASE_URL"))}
    env.update({"DJANGO_SETTINGS_MODULE": "marketplace.settings.production", "ALLOWED_HOSTS": "x.cn",
                "SECRET_KEY": "k" * 30 + "-Zq9!x" * 10, "CACHE_URL": "redis://cache:6379/0"})
    out = subprocess.run([sys.executable, "-c", "import django; django.setup(); " + code], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["django.core.cache.backends.redis.RedisCache", "redis://cache:6379/0", "progress"], out.stderr
