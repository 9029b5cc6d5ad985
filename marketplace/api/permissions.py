"""Who may call which part of the API. Anonymous callers of a token endpoint get 401 (with
``WWW-Authenticate: Token``); signed-in callers outside the scope get 403 with a message saying why."""

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission

from marketplace.parties.selectors import user_is_ip_office


class IsIPOffice(BasePermission):
    """IP-office staff (and superusers): the statistics scope."""

    message = _("The statistics are for IP-office staff only.")

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and (user.is_superuser or user_is_ip_office(user=user)))
