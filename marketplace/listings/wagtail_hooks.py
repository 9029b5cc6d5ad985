"""Admin rules for listings. A listing is one page per declaration, created and taken off the marketplace
by marketplace.listings.services; holders edit it through the "Listing review" workflow. So only someone who may
publish a listing may delete it (Wagtail would let a holder with "change" delete a listing an editor has
unpublished), and nobody copies one (a copy would be a second page for the same declaration)."""

from django.contrib import messages
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from wagtail import hooks
from wagtail.models import Page

from marketplace.listings.cache import listing_cache_mark
from marketplace.listings.editors import listing_edit_for
from marketplace.listings.selectors import language_links, listing_index_rows
from marketplace.listings.services import listing_context
from marketplace.models import ListingIndexPage, PatentListingPage
from marketplace.models.listings import LISTING_INDEX_CONTEXT_HOOK, LISTING_PAGE_CONTEXT_HOOK


def _is_listing(page: Page) -> bool:
    return issubclass(page.specific_class or Page, PatentListingPage)


def _may_not_delete(user, page: Page) -> bool:
    return _is_listing(page) and not page.permissions_for_user(user).can_publish()


@hooks.register("before_delete_page")
def refuse_deleting_a_listing_without_publish_permission(request, page):
    if _may_not_delete(request.user, page):
        messages.error(request, _("Only an editor who may publish a listing may delete it."))
        return redirect("wagtailadmin_pages:edit", page.pk)
    return None


@hooks.register("before_bulk_action")
def refuse_bulk_deleting_listings_without_publish_permission(request, action_type, objects, action_class_instance):
    if action_type == "delete" and any(isinstance(o, Page) and _may_not_delete(request.user, o) for o in objects):
        messages.error(request, _("Only an editor who may publish a listing may delete it."))
        return redirect("wagtailadmin_explore_root")
    return None


@hooks.register("before_copy_page")
def refuse_copying_a_listing(request, page):
    if _is_listing(page):
        messages.error(request, _("A listing follows its declaration and cannot be copied."))
        return redirect("wagtailadmin_pages:edit", page.pk)
    return None


@hooks.register(LISTING_PAGE_CONTEXT_HOOK)
def listing_page_context(*, page: PatentListingPage, request) -> dict:
    """What a listing page shows, and the holder's "Edit this listing" link when the visitor may edit it; the
    patent's title and abstract in the page's language where the holder gave them."""
    context = listing_context(page=page, request=request)
    patent = context["patent"]
    return {**context, "listing_edit": listing_edit_for(page=page, user=request.user),
            "language_links": language_links(page=page, request=request),
            "shown_title": patent.shown_title, "shown_abstract": patent.shown_abstract}


@hooks.register(LISTING_INDEX_CONTEXT_HOOK)
def listing_index_context(*, page: ListingIndexPage, request) -> dict:
    """The listing index's rows, as plain values, and its language switch; kept for anonymous visitors."""
    listing_cache_mark(request=request)
    return {"listings": listing_index_rows(index=page, index_url=page.get_url(request)),
            "language_links": language_links(page=page, request=request)}
