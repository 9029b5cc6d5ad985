"""The listing pages now belong to the marketplace (its migration 0005_listing_pages creates them in its
state, on the same tables, and relabels their content types). Here cms forgets them: a change of state
only, no table or row is touched."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("cms", "0003_listing_review_workflow"),
        ("marketplace", "0005_listing_pages"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="PatentListingPage"),
                migrations.DeleteModel(name="ListingIndexPage"),
            ],
            database_operations=[],
        ),
    ]
