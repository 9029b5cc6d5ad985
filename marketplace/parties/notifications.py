"""Messages to people: e-mails, and in-app notifications with an inbox.

Django's PasswordResetForm skips accounts without a usable password, which is exactly what a newly invited
member has, so invitations build the same signed link themselves."""

from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail, send_mass_mail
from django.db import transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from marketplace.parties import money
from marketplace.parties.models import Membership, Notification, User


def send_member_invitation(*, membership: Membership, request) -> None:
    user = membership.user
    path = reverse("password_reset_confirm", kwargs={
        "uidb64": urlsafe_base64_encode(force_bytes(user.pk)), "token": default_token_generator.make_token(user)})
    body = render_to_string("parties/invitation_email.txt", {
        "organisation": membership.organisation, "role": membership.get_role_display(),
        "link": request.build_absolute_uri(path), "email": user.email,
    })
    send_mail(_("You have been added to %(org)s") % {"org": membership.organisation.name_zh}, body, None, [user.email])


# ------------------------------------------------------------------------------- in-app notifications
# Kind → (title, body) templates with %(name)s parameters. Marked with gettext_noop-style lazy strings so the
# text is translated when shown (inbox in the reader's language) or sent (e-mail in both languages).

NOTIFICATION_TEXT = {
    "match.listing_for_need": (
        gettext_lazy("A new listing matches your need “%(need)s”"),
        gettext_lazy("%(patent)s (%(number)s) by %(holder)s scores %(score)s/100: %(reasons)s."),
    ),
    "match.need_for_listing": (
        gettext_lazy("A company needs your patent “%(patent)s”"),
        gettext_lazy("The need “%(need)s” of %(buyer)s scores %(score)s/100 against your listing: %(reasons)s."),
    ),
    # Regulations art. 86 situations arising on a declared patent (licensing/declarations/situations.py).
    "declaration.withdrawal_prompt": (
        gettext_lazy("Withdraw the open-licence declaration of %(patent)s, or cure the situation"),
        gettext_lazy("A situation that bars open licensing arose on %(patent)s “%(title)s”: %(reason)s. Withdraw "
                     "the declaration or cure the situation (rule %(rule)s: %(source)s)."),
    ),
    "licence.patent_situation": (
        gettext_lazy("The open licence of %(patent)s: a situation arose on the patent"),
        gettext_lazy("A situation that bars open licensing arose on %(patent)s “%(title)s” of %(holder)s: "
                     "%(reason)s. The patentee has been asked to withdraw the declaration or cure the situation; "
                     "your licence stays in force on its terms (rule %(rule)s: %(source)s)."),
    ),
    # A licence taken and paid (licensing/licences/services.py licence_activate, payment_mark_failed;
    # licensing/payments/refunds.py payment_refund).
    "licence.active": (
        gettext_lazy("Your licence of %(patent)s is in force"),
        gettext_lazy("Licence certificate %(certificate)s: %(holder)s licenses %(patent)s “%(title)s” to "
                     "%(licensee)s from %(starts_on)s to %(ends_on)s; paid %(amount)s."),
    ),
    "licence.new_licensee": (
        gettext_lazy("%(licensee)s took a licence of %(patent)s"),
        gettext_lazy("Licence certificate %(certificate)s: %(licensee)s licenses %(patent)s “%(title)s” from "
                     "%(starts_on)s to %(ends_on)s and paid %(amount)s."),
    ),
    "payment.failed": (
        gettext_lazy("The payment for your licence of %(patent)s did not go through"),
        gettext_lazy("%(reason)s Nothing was charged for this attempt: pay again on the licence page (%(amount)s)."),
    ),
    "payment.refunded": (
        gettext_lazy("%(amount)s refunded on your licence of %(patent)s"),
        gettext_lazy("%(holder)s refunded %(amount)s of the payment for %(patent)s “%(title)s”: %(reason)s"),
    ),
    # A licence's recording deadline near or past, not yet recorded (licensing/recording/reminders.py).
    "licence.recording_due_soon": (
        gettext_lazy("Record the licence of %(patent)s with CNIPA by %(due_on)s"),
        gettext_lazy("Licence certificate %(certificate)s: %(holder)s licenses %(patent)s “%(title)s” to "
                     "%(licensee)s. The parties record a licence contract with CNIPA within three months of its "
                     "taking effect (Patent licence contract recording measures (2011) art. 5): the last day is "
                     "%(due_on)s. The recording page has the data CNIPA's form asks for."),
    ),
    "licence.recording_overdue": (
        gettext_lazy("The recording of the licence of %(patent)s is overdue"),
        gettext_lazy("Licence certificate %(certificate)s: %(holder)s licenses %(patent)s “%(title)s” to "
                     "%(licensee)s. Its recording with CNIPA was due by %(due_on)s (Patent licence contract "
                     "recording measures (2011) art. 5) and is not noted as done: record it, then note the "
                     "recording number and date on the recording page."),
    ),
    # A posted or edited need that listings of a holder match well (marketplace/needs/notices.py).
    "need.matches_listings": (
        gettext_lazy("A company needs what your patents do: “%(need)s”"),
        gettext_lazy("The need “%(need)s” of %(buyer)s matches %(count)s of your listings (best: %(patent)s, "
                     "%(score)s/100). Open the need to propose a listing."),
    ),
}


def money_text(amount_fen: int) -> dict:
    """An amount in every language, as a notification parameter (read in the reader's language, see
    ``_localised``), in the one money format (marketplace/parties/money.py): '20,000.00 元' / '¥20,000.00'."""
    texts = {}
    for language in ("zh-hans", "en"):
        with translation.override(language):
            texts[language] = money.money_text(amount_fen)
    return texts


def translated_text(message: str, **values) -> dict:
    """A message id (marked with gettext_noop where it is made) in every language, as a notification parameter."""
    texts = {}
    for language in ("zh-hans", "en"):
        with translation.override(language):
            texts[language] = (_(message) % values) if values else _(message)
    return texts


def _localised(params: dict) -> dict:
    """Parameters in the active language: a value stored as {language: text} (e.g. a rule's citation, written in
    every language when the notification was made) reads in the reader's language."""
    language = translation.get_language() or settings.LANGUAGE_CODE
    return {key: (value.get(language) or value.get(settings.LANGUAGE_CODE) or next(iter(value.values()), ""))
            if isinstance(value, dict) else value for key, value in params.items()}


def notification_text(kind: str, params: dict) -> tuple[str, str]:
    """(title, body) of a notification in the active language; unknown kinds show their name."""
    title, body = NOTIFICATION_TEXT.get(kind, (kind, ""))
    params = _localised(params)
    try:
        return str(title) % params, (str(body) % params if body else "")
    except (KeyError, TypeError, ValueError):  # parameters of an older wording: show what we can
        return str(title), ""


def members_of(organisation_ids) -> list:
    """The active users of these organisations, each once: who is told of something that happened to them."""
    return list(User.objects.filter(pk__in=Membership.objects.filter(organisation_id__in=list(organisation_ids))
                                    .values("user_id"), is_active=True).order_by("pk"))


def _absolute(url: str) -> str:
    if not url or url.startswith(("http://", "https://")):
        return url
    return settings.WAGTAILADMIN_BASE_URL.rstrip("/") + url


_held_back: ContextVar[tuple[tuple[str, dict], ...]] = ContextVar("held_back_notifications", default=())


@contextmanager
def held_back(kind: str, **params):
    """Within this block, ``notify`` makes no notification of this kind whose parameters include these values:
    for a caller that tells the same people the same news in one message of its own (a need's holders hear of
    it once, not once per listing of theirs: marketplace/matching/tasks.py). Per thread and task."""
    token = _held_back.set((*_held_back.get(), (kind, params)))
    try:
        yield
    finally:
        _held_back.reset(token)


def _is_held_back(kind: str, params: dict) -> bool:
    return any(kind == held and all(params.get(k) == v for k, v in values.items())
               for held, values in _held_back.get())


_emails_off: ContextVar[bool] = ContextVar("notification_emails_off", default=False)


@contextmanager
def without_emails():
    """Within this block, ``notify`` stores the in-app notifications but sends no e-mail: for seeding the demo,
    whose made-up history would otherwise print one e-mail per notification on the development console."""
    token = _emails_off.set(True)
    try:
        yield
    finally:
        _emails_off.reset(token)


@transaction.atomic
def notify(*, users, kind: str, params: dict, url: str = "", email: bool = True) -> list[Notification]:
    """Tell people something: an unread in-app notification each, and an e-mail (Chinese, then English, as
    our users have no stored language) to those with an address, sent after the transaction commits so
    that a rollback sends nothing."""
    if _is_held_back(kind, params):
        return []
    users = [u for u in users if u.is_active]
    created = Notification.objects.bulk_create(
        [Notification(user=u, kind=kind, params=params, url=url) for u in users])
    if email and not _emails_off.get():
        messages = []
        for user in users:
            if not user.email:
                continue
            parts = []
            for language in ("zh-hans", "en"):
                with translation.override(language):
                    title, body = notification_text(kind, params)
                    parts.append((title, body))
            subject = f"{parts[0][0]} / {parts[1][0]}"
            text = "\n\n".join(f"{title}\n{body}" for title, body in parts) + (f"\n\n{_absolute(url)}\n" if url else "\n")
            messages.append((subject, text, settings.DEFAULT_FROM_EMAIL, [user.email]))
        if messages:
            transaction.on_commit(lambda: send_mass_mail(messages, fail_silently=False))
    return created


def notifications_for(*, user) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user)


def unread_count(*, user) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def notifications_mark_read(*, user, ids: list[int] | None = None) -> int:
    """Mark the user's notifications read (all when ``ids`` is None); other people's ids are ignored."""
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=timezone.now())
