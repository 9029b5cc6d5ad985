"""The listings' search documents of a database whose listings existed before 0006_listing_documents and which
was migrated past it and patents 0007 in one go: 0006 could not build them (the current code reads the patents'
English text, which did not exist yet), so they are built here. Every other database already has them."""

from django.db import migrations


def build_missing_documents(apps, schema_editor):
    if not apps.get_model("marketplace", "PatentListingPage").objects.exists():
        return
    if apps.get_model("marketplace", "ListingDocument").objects.exists():
        return
    from marketplace.search.documents import listing_documents_rebuild

    listing_documents_rebuild()


class Migration(migrations.Migration):

    dependencies = [
        ("marketplace", "0015_statistics_month_aggregates"),
        ("patents", "0007_patent_english_text"),
    ]

    operations = [migrations.RunPython(build_missing_documents, migrations.RunPython.noop)]
