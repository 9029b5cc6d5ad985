"""The dashboard page where a signed-in user creates, replaces or revokes their API token. The token is
shown in full once, right after it is made; afterwards only its first characters."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from rest_framework.authtoken.models import Token

from marketplace.api import services


@login_required
def api_token(request):
    new_key = None
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "create":
            new_key = services.api_token_create(user=request.user).key
            messages.success(request, _("Your new API token is shown below. Copy it now: it will not be shown again."))
        elif action == "revoke":
            if services.api_token_revoke(user=request.user):
                messages.success(request, _("Your API token was revoked; requests with it are refused from now on."))
            return redirect("api_token")
        else:
            messages.error(request, _("Unknown action."))
            return redirect("api_token")
    token = Token.objects.filter(user=request.user).first()
    return render(request, "marketplace/api_token.html", {"token": token, "new_key": new_key})
