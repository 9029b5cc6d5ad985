from django.utils.functional import SimpleLazyObject

from marketplace.parties.notifications import unread_count
from marketplace.parties.selectors import memberships_for_user, user_is_ip_office


def parties(request):
    """The signed-in user's organisations, lazily, for the navigation bar."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "my_memberships": lambda: list(memberships_for_user(user=user)),
        # Asked by three menu entries: read once per request (a lambda is called at every use).
        "is_ip_office": SimpleLazyObject(lambda: user_is_ip_office(user=user)),
        "unread_notifications": lambda: unread_count(user=user),
        "my_holder_slugs": lambda: [m.organisation.slug for m in memberships_for_user(user=user) if m.organisation.is_holder],
    }
