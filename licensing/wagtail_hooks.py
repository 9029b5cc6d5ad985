from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet

from licensing.models import LicenceTerms


class LicenceTermsViewSet(SnippetViewSet):
    """Editors maintain the standard clauses; every published edit becomes a new frozen version the next
    time a declaration is made on it, and versions already offered never change."""

    model = LicenceTerms
    icon = "doc-full"
    menu_label = "Licence terms"
    list_display = ["name_zh", "name_en", "live"]
    search_fields = ["name_zh", "name_en"]
    add_to_admin_menu = True


register_snippet(LicenceTermsViewSet)
