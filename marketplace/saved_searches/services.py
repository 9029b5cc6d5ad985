"""Saved searches: a signed-in buyer keeps a search (its query string) and is e-mailed when new listings match it.
The saved query runs through the same FilterSet as the search page and the listings API (marketplace.search.selectors)."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import parse_qsl, urlencode

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from marketplace.exceptions import NotAllowed
from marketplace.models import PatentListingPage, SavedSearch
from marketplace.search.selectors import bound_listing_filter

MAX_SAVED_SEARCHES_PER_USER = 50
# Not part of what a search means: the page of results.
_DROPPED_PARAMS = {"page"}


def clean_query_string(query_string: str) -> str:
    """The query string without a leading "?" and without the page number, blank values dropped."""
    pairs = parse_qsl((query_string or "").strip().lstrip("?"), keep_blank_values=False)
    return urlencode([(k, v) for k, v in pairs if k not in _DROPPED_PARAMS])


def saved_search_create(*, user, name: str, query_string: str) -> SavedSearch:
    """Save a search for a signed-in user: a name is required and a user keeps at most
    MAX_SAVED_SEARCHES_PER_USER of them."""
    if user is None or not getattr(user, "is_authenticated", False):
        raise NotAllowed(_("Sign in to save a search."))
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Give the search a name.")})
    max_length = SavedSearch._meta.get_field("name").max_length
    if len(name) > max_length:
        raise ValidationError({"name": _("The name is too long.")})
    query_string = clean_query_string(query_string)
    if len(query_string) > SavedSearch._meta.get_field("query_string").max_length:
        raise ValidationError({"query_string": _("This search is too long to save.")})
    with transaction.atomic():
        # Lock the user's row so two requests at once cannot both pass the limit.
        get_user_model().objects.select_for_update().filter(pk=user.pk).first()
        if SavedSearch.objects.filter(user=user).count() >= MAX_SAVED_SEARCHES_PER_USER:
            raise ValidationError(_("You can keep at most %(n)d saved searches; delete one first.")
                                  % {"n": MAX_SAVED_SEARCHES_PER_USER})
        return SavedSearch.objects.create(user=user, name=name, query_string=query_string)


def saved_search_delete(*, saved_search: SavedSearch, by) -> None:
    """Delete a saved search; only its owner may."""
    if by is None or not getattr(by, "is_authenticated", False) or saved_search.user_id != by.pk:
        raise NotAllowed(_("Only the owner may delete this saved search."))
    saved_search.delete()


def saved_search_url(saved_search: SavedSearch) -> str:
    """The search page's URL (current language) that re-runs the saved search."""
    url = reverse("listing_search")
    return f"{url}?{saved_search.query_string}" if saved_search.query_string else url


def saved_search_matches(*, query_string: str):
    """The listing pages matching a saved query string, through the search page's FilterSet (invalid facet
    values are ignored, as on the page)."""
    filterset = bound_listing_filter(QueryDict(clean_query_string(query_string), mutable=True))
    return PatentListingPage.objects.filter(pk__in=filterset.qs.order_by().values("page_id"))


def _absolute(url: str) -> str:
    if url.startswith(("http://", "https://")):
        return url
    return settings.WAGTAILADMIN_BASE_URL.rstrip("/") + url


def _message(saved_search: SavedSearch, pages) -> tuple[str, str]:
    subject = f"新的匹配专利 / New matching listings: {saved_search.name}"
    lines = [
        f"您保存的搜索“{saved_search.name}”有 {len(pages)} 条新的专利许可信息。",
        f"Your saved search \"{saved_search.name}\" has {len(pages)} new listing(s).",
        "",
    ]
    for page in pages:
        lines.append(f"- {page.title}")
        lines.append(f"  {_absolute(page.get_url() or page.url or '')}")
    with translation.override("zh-hans"):
        search_url = _absolute(saved_search_url(saved_search))
    lines += ["", "查看全部结果 / See all results:", f"  {search_url}", "",
              "如不想再收到此类邮件，请在“已保存的搜索”页面删除该搜索。",
              "To stop these e-mails, delete the search on your saved searches page."]
    return subject, "\n".join(lines)


def saved_search_notify(*, saved_search_id: int, now: datetime) -> bool:
    """E-mail one saved search (notify on) the listings first published since it was last checked (or since it
    was saved), up to `now`; returns whether an e-mail is sent.

    The notice is one transaction: the saved search's row is locked (two workers cannot both send it) and its
    last_notified_at moved to `now` in it, and the e-mail leaves only once that commits. A worker killed
    before the commit sends nothing, and the re-queued task (marketplace/scheduling) then sends it once; a
    worker killed after the commit but before the e-mail left loses that one e-mail rather than send it twice."""
    with transaction.atomic():
        saved_search = SavedSearch.objects.select_for_update().filter(pk=saved_search_id, notify=True).first()
        if saved_search is None:  # deleted or switched off meanwhile
            return False
        user = saved_search.user
        if not user.email or not user.is_active:
            return False
        since = saved_search.last_notified_at or saved_search.created_at
        pages = list(saved_search_matches(query_string=saved_search.query_string)
                     .filter(first_published_at__gt=since, first_published_at__lte=now)
                     .order_by("first_published_at", "pk"))
        if not pages:
            return False
        subject, body = _message(saved_search, pages)
        SavedSearch.objects.filter(pk=saved_search.pk).update(last_notified_at=now)
        transaction.on_commit(lambda: send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email]))
    return True


def saved_searches_notify(*, now: datetime | None = None) -> int:
    """E-mail every saved search (notify on) whose query matches listings first published since it was last
    checked (saved_search_notify, one transaction each); returns the number of e-mails sent."""
    now = now or timezone.now()
    ids = SavedSearch.objects.filter(notify=True).order_by("pk").values_list("pk", flat=True)
    return sum(saved_search_notify(saved_search_id=pk, now=now) for pk in list(ids))
