"""The server-error page looks like the site and speaks the language of the address, with nothing but the
stylesheet: Django's handler renders it without the request context, and without touching the database (which
may be what failed)."""

import re

import pytest
from django.test import RequestFactory
from django.utils import translation
from django.views.defaults import server_error


@pytest.mark.parametrize(
    ("language", "heading", "other"), [("zh-hans", "服务器错误", "Server error"), ("en", "Server error", "服务器错误")]
)
def test_the_server_error_page_uses_the_sites_stylesheet_in_the_language_of_the_page(language, heading, other):
    # No django_db mark: a query here would fail the test.
    with translation.override(language):
        response = server_error(RequestFactory().get(f"/{language}/licences/1/"))
    html = response.content.decode()
    assert response.status_code == 500
    assert re.search(r'<link rel="stylesheet" href="/static/marketplace/css/site\.css"', html)
    assert f'<html lang="{language}">' in html
    assert f"<h1>{heading}</h1>" in html and other not in html
    assert f'href="/{language}/"' in html
