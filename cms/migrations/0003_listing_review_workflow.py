"""The "Listing review" workflow: holders' edits to their listings wait for a Wagtail moderator's approval.
marketplace.listings.editors assigns it to the listing index when the first listing is made and makes it
again if it was deleted; this migration makes it on every database, and assigns it to an index that
already exists."""

from django.db import migrations

LISTING_REVIEW = "Listing review"
LISTING_REVIEW_TASK = "Listing review by moderators"


def create_listing_review(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Group = apps.get_model("auth", "Group")
    GroupApprovalTask = apps.get_model("wagtailcore", "GroupApprovalTask")
    Workflow = apps.get_model("wagtailcore", "Workflow")
    WorkflowTask = apps.get_model("wagtailcore", "WorkflowTask")
    WorkflowPage = apps.get_model("wagtailcore", "WorkflowPage")
    ListingIndexPage = apps.get_model("cms", "ListingIndexPage")

    workflow = Workflow.objects.filter(name=LISTING_REVIEW).first()
    if workflow is None:
        moderators, _ = Group.objects.get_or_create(name="Moderators")
        content_type, _ = ContentType.objects.get_or_create(app_label="wagtailcore", model="groupapprovaltask")
        task = GroupApprovalTask.objects.create(name=LISTING_REVIEW_TASK, content_type=content_type, active=True)
        task.groups.add(moderators)
        workflow = Workflow.objects.create(name=LISTING_REVIEW, active=True)
        WorkflowTask.objects.create(workflow=workflow, task=task, sort_order=0)
    for index in ListingIndexPage.objects.filter(alias_of__isnull=True):
        WorkflowPage.objects.get_or_create(page_id=index.pk, defaults={"workflow": workflow})


def remove_listing_review(apps, schema_editor):
    apps.get_model("wagtailcore", "Workflow").objects.filter(name=LISTING_REVIEW).delete()
    apps.get_model("wagtailcore", "Task").objects.filter(name=LISTING_REVIEW_TASK).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("cms", "0002_listings"),
        ("wagtailcore", "0098_apitoken"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(create_listing_review, remove_listing_review)]
