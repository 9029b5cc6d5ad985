from django.contrib.syndication.views import Feed
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from licensing.declarations import selectors


class GazetteFeed(Feed):
    """RSS of the gazette; takes the same filters as the page. The gazette is a mirror of CNIPA's announcements
    (Patent Law art. 50: only CNIPA announces a declaration): each entry carries CNIPA's own number and date,
    recorded by the holder or imported from CNIPA's lists; the platform invents no announcement numbers."""

    title = _("Open-licence gazette")
    description = _("CNIPA's announcements of open-licence declarations and their withdrawals, mirrored.")

    def get_object(self, request, *args, **kwargs):
        return request.GET

    def link(self, obj):
        return reverse("gazette")

    def items(self, obj):
        return selectors.gazette(params=obj).qs[:100]

    def item_title(self, item):
        return f"{item.announcement_number} {item.get_kind_display()}: {item.declaration.patent.number} " \
               f"{item.declaration.patent.title}"

    def item_description(self, item):
        d = item.declaration
        return f"{d.holder.name_zh} · {d.get_fee_form_display()}" + (f" · {item.note}" if item.note else "")

    def item_link(self, item):
        return reverse("declaration_detail", args=[item.declaration_id])

    def item_pubdate(self, item):
        return item.announced_at
