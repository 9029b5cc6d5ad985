"""E-mails to people. Django's PasswordResetForm skips accounts without a usable password, which is
exactly what a newly invited member has, so invitations build the same signed link themselves."""

from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from .models import Membership


def send_member_invitation(*, membership: Membership, request) -> None:
    user = membership.user
    path = reverse("password_reset_confirm", kwargs={
        "uidb64": urlsafe_base64_encode(force_bytes(user.pk)), "token": default_token_generator.make_token(user)})
    body = render_to_string("parties/invitation_email.txt", {
        "organisation": membership.organisation, "role": membership.get_role_display(),
        "link": request.build_absolute_uri(path), "email": user.email,
    })
    send_mail(_("You have been added to %(org)s") % {"org": membership.organisation.name_zh}, body, None, [user.email])
