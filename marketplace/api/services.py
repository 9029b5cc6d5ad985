"""Writes on API access: a signed-in user's API token (DRF's authtoken, one per user)."""

from django.db import transaction
from rest_framework.authtoken.models import Token

from marketplace.parties.models import User


@transaction.atomic
def api_token_create(*, user: User) -> Token:
    """A new token for the user; any previous token stops working at once (so this also rotates it)."""
    Token.objects.filter(user=user).delete()
    return Token.objects.create(user=user)


@transaction.atomic
def api_token_revoke(*, user: User) -> bool:
    """Delete the user's token; True when there was one. Revoking twice is harmless."""
    deleted, _ = Token.objects.filter(user=user).delete()
    return bool(deleted)
