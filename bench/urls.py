"""The site's URLs plus the load benchmark's baseline: a bare Django view returning a fixed body, served by the
same gunicorn, middleware and all, so the ratio measures what the real pages add."""

from django.http import HttpResponse
from django.urls import path

from marketplace.urls import urlpatterns as site_urlpatterns

# About the size of a small page's HTML (2 KB), so the baseline moves a comparable number of bytes.
FIXED_BODY = ("<!doctype html><title>bench</title>" + "<p>open patent licensing marketplace</p>" * 50).encode()


def bare(request):
    return HttpResponse(FIXED_BODY, content_type="text/html; charset=utf-8")


urlpatterns = [path("bench/bare/", bare, name="bench_bare"), *site_urlpatterns]
