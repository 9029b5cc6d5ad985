"""Strings of the libraries we use that their own catalogs do not translate into zh-Hans (Wagtail 8's userbar
lacks some). Listed here so `make messages` keeps them in our catalog, which Django reads first."""

from django.utils.translation import gettext_noop

VENDOR_STRINGS = [
    gettext_noop("Show issue"),  # wagtailadmin/userbar/base.html: the accessibility checker's toggle
]
