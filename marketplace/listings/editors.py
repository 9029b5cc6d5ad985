"""Holders edit their own listings in the Wagtail admin; an editor approves before anything goes live.

Each holder organisation has one Django auth group mirroring its members (named by parties, whose
membership services add and remove people). This module gives that group what a holder needs in the
admin and nothing more:

- access to the admin;
- Wagtail's "change" page permission on exactly the organisation's live listing pages. Wagtail 8 has no
  separate "view" page permission; "change" lets them edit and submit for moderation, and never publish,
  unpublish, set privacy, lock, move or copy (those need "publish", "lock" or "add", which they lack). The
  permission is taken back when a listing leaves the marketplace, and marketplace.listings.wagtail_hooks
  refuses to let anyone who cannot publish a listing delete it;
- a media collection of their own for the images and documents of their listings.

Every listing index is under the "Listing review" workflow (made by cms migration 0003), whose one task
is approved by the Wagtail "Moderators" group: only when a moderator approves does the live page, and the
English alias that follows it, show a holder's change."""

from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _
from wagtail.models import (
    Collection,
    GroupApprovalTask,
    GroupCollectionPermission,
    GroupPagePermission,
    Page,
    Workflow,
    WorkflowPage,
    WorkflowState,
    WorkflowTask,
)

from licensing.models import LICENSABLE_DECLARATION_STATES
from marketplace.models import PatentListingPage
from marketplace.parties.models import Membership, Organisation, User
from marketplace.parties.selectors import NextStep

LISTING_REVIEW = "Listing review"
LISTING_REVIEW_TASK = "Listing review by moderators"
MODERATORS = "Moderators"  # Wagtail's own group of editors who may publish (wagtailcore's initial data)
MEDIA_PERMISSIONS = [("wagtailimages", "add_image"), ("wagtailimages", "choose_image"),
                     ("wagtaildocs", "add_document"), ("wagtaildocs", "choose_document")]


def _permission(app_label: str, codename: str) -> Permission:
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


def listing_review_workflow() -> Workflow:
    """The "Listing review" workflow: one group approval task for the Moderators. Made by cms migration
    0003; made again here if an administrator has deleted it."""
    workflow = Workflow.objects.filter(name=LISTING_REVIEW).first()
    if workflow is not None:
        return workflow
    moderators, _created = Group.objects.get_or_create(name=MODERATORS)
    task = GroupApprovalTask.objects.filter(name=LISTING_REVIEW_TASK).first()
    if task is None:
        task = GroupApprovalTask.objects.create(name=LISTING_REVIEW_TASK)
    task.groups.add(moderators)
    workflow = Workflow.objects.create(name=LISTING_REVIEW)
    WorkflowTask.objects.create(workflow=workflow, task=task, sort_order=0)
    return workflow


def listing_review_assign(*, index: Page) -> None:
    """Put a listing index, and so every listing under it, under the "Listing review" workflow, unless an
    administrator has already given it a workflow of their choosing."""
    if not WorkflowPage.objects.filter(page=index).exists():
        WorkflowPage.objects.create(page=index, workflow=listing_review_workflow())


@transaction.atomic
def listing_editors_group(*, organisation: Organisation) -> Group:
    """The holder's group with admin access and its own media collection, its members set to the
    organisation's current members (so it also mends a mirror that went out of step). Idempotent."""
    group, _created = Group.objects.get_or_create(name=organisation.members_group_name)
    group.permissions.add(_permission("wagtailadmin", "access_admin"))
    group.user_set.set(User.objects.filter(memberships__organisation=organisation))
    collection = Collection.objects.filter(group_permissions__group=group).first()
    if collection is None:
        collection = Collection.get_first_root_node().add_child(
            name=f"{organisation.name_zh} · {organisation.slug}")
    for app_label, codename in MEDIA_PERMISSIONS:
        GroupCollectionPermission.objects.get_or_create(group=group, collection=collection,
                                                        permission=_permission(app_label, codename))
    return group


@transaction.atomic
def listing_editors_grant(*, page: PatentListingPage) -> None:
    """Let the holder's members edit this listing (through review) and put its index under review."""
    group = listing_editors_group(organisation=page.declaration.holder)
    GroupPagePermission.objects.get_or_create(group=group, page=page,
                                              permission=_permission("wagtailcore", "change_page"))
    listing_review_assign(index=page.get_parent())


def listing_editors_revoke(*, page: PatentListingPage) -> None:
    """Take back the holder's rights on a listing that left the marketplace. A review in progress stays
    for the moderators to decide."""
    GroupPagePermission.objects.filter(page=page, group__name=page.declaration.holder.members_group_name).delete()


def listing_editors_sync() -> int:
    """Backfill: grant on every live listing of a published declaration, revoke on the others. Returns the
    number of listings granted."""
    granted = 0
    for page in PatentListingPage.objects.filter(alias_of__isnull=True).select_related("declaration__holder"):
        if page.live and page.declaration.state in LICENSABLE_DECLARATION_STATES:
            listing_editors_grant(page=page)
            granted += 1
        else:
            listing_editors_revoke(page=page)
    return granted


def listing_edit_for(*, page: PatentListingPage, user) -> dict | None:
    """For the public listing page: where this user edits the listing and the state of its review, or None
    when the user may not edit it. The English alias is edited through its Chinese original."""
    if not user.is_authenticated:
        return None
    original = Page.objects.get(pk=page.alias_of_id) if page.alias_of_id else page
    if not original.permissions_for_user(user).can_edit():
        return None
    state = original.current_workflow_state
    return {"url": reverse("wagtailadmin_pages:edit", args=[original.pk]),
            "review": state.status if state else None}


def listing_reviews_for(*, organisation: Organisation) -> list[tuple[PatentListingPage, WorkflowState]]:
    """The holder's listings with an edit in review or sent back for changes, oldest first."""
    pages = {str(p.pk): p for p in PatentListingPage.objects.filter(declaration__holder=organisation,
                                                                     alias_of__isnull=True)}
    states = (WorkflowState.objects.active()
              .filter(base_content_type=ContentType.objects.get_for_model(Page), object_id__in=list(pages))
              .order_by("created_at"))
    return [(pages[state.object_id], state) for state in states]


def listing_next_steps(*, membership: Membership) -> list[NextStep]:
    """Dashboard steps for holders: listing edits awaiting an editor's review or sent back for changes."""
    if not membership.organisation.is_holder:
        return []
    steps = []
    for page, state in listing_reviews_for(organisation=membership.organisation):
        url = reverse("wagtailadmin_pages:edit", args=[page.pk])
        if state.status == WorkflowState.STATUS_NEEDS_CHANGES:
            steps.append(NextStep(_("Changes requested on your listing: %(title)s") % {"title": page.title},
                                  _("An editor asked for changes; edit the listing and submit it again."), url))
        else:
            steps.append(NextStep(_("Listing edit awaiting review: %(title)s") % {"title": page.title},
                                  _("The live listing shows your change once an editor approves it."), url))
    return steps
