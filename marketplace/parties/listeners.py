"""How a lower layer tells the layers above that something they show has changed, without importing them.

Patents, licensing and the parties sit below the marketplace, yet the marketplace keeps copies of their facts
(the listings' search documents, cached pages). Each change service calls ``changed(<setting>, **facts)`` in its
own transaction; the setting lists the dotted paths of the functions to call (marketplace/settings/base.py), so
a listener's write commits or rolls back with the change. A plain list of callables rather than Django signals:
the listeners are part of the change's contract, run in order, and their failure fails the change."""

from django.conf import settings
from django.utils.module_loading import import_string

PATENT_CHANGE_LISTENERS = "PATENT_CHANGE_LISTENERS"
LICENCE_CHANGE_LISTENERS = "LICENCE_CHANGE_LISTENERS"
ORGANISATION_CHANGE_LISTENERS = "ORGANISATION_CHANGE_LISTENERS"
DECLARATION_CHANGE_LISTENERS = "DECLARATION_CHANGE_LISTENERS"
PAYMENT_CHANGE_LISTENERS = "PAYMENT_CHANGE_LISTENERS"
VOUCHER_CHANGE_LISTENERS = "VOUCHER_CHANGE_LISTENERS"


def changed(setting: str, **facts) -> None:
    """Call every listener named in ``settings.<setting>`` with ``facts`` (keyword arguments)."""
    for path in getattr(settings, setting, ()):
        import_string(path)(**facts)
