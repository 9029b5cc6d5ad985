"""The English listing index becomes a page of its own. It used to be a Wagtail alias of the Chinese one, and an
alias shares its original's title, so both were titled "专利许可清单 Patent listings". Each becomes a page titled
in its own language (what marketplace.listings.services.listing_index now makes on a fresh database); a title an
editor has changed is kept. The listings under the English index stay aliases of the Chinese listings."""

from django.db import migrations

OLD_TITLE = "专利许可清单 Patent listings"
TITLES = {"zh-hans": "专利许可清单", "en": "Patent listings"}


def _retitle(page, title: str, Revision) -> None:
    old = page.title
    page.title = page.draft_title = title
    # The page's revisions carry the title too: the admin's editor opens the latest one.
    for revision in Revision.objects.filter(base_content_type__app_label="wagtailcore",
                                            base_content_type__model="page", object_id=str(page.pk),
                                            content__title=old):
        revision.content = {**revision.content, "title": title, "draft_title": title}
        revision.save(update_fields=["content"])


def translate_listing_index(apps, schema_editor):
    ListingIndexPage = apps.get_model("marketplace", "ListingIndexPage")
    Revision = apps.get_model("wagtailcore", "Revision")
    for page in ListingIndexPage.objects.select_related("locale", "alias_of").order_by("pk"):
        # An alias carries its original's title, whatever an editor made of it: the alias gets its own language's.
        shared_title = page.alias_of is not None and page.title == page.alias_of.title
        # As Wagtail's "convert alias" does: the page no longer follows its original.
        page.alias_of_id = None
        title = TITLES.get(page.locale.language_code)
        if title and (page.title == OLD_TITLE or shared_title):
            _retitle(page, title, Revision)
        page.save(update_fields=["alias_of", "title", "draft_title"])


class Migration(migrations.Migration):

    dependencies = [
        ("marketplace", "0016_listing_documents_after_english_text"),
        ("wagtailcore", "0098_apitoken"),
    ]

    # Backwards leaves the pages as they are: the English index stays a page of its own (an alias again would
    # lose nothing but its English title, so it is not worth re-creating).
    operations = [migrations.RunPython(translate_listing_index, migrations.RunPython.noop)]
