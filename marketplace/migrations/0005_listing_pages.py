"""The listing pages move from cms to the marketplace, whose rules they show, without touching a row.

The models keep their tables (Meta.db_table names cms_listingindexpage and cms_patentlistingpage), so the
move is a change of Django's state only: the marketplace creates them in state here, and cms's 0004,
which runs after this migration, deletes them from its state. The two content type rows are relabelled
from cms to marketplace in place: pages, revisions, workflow states, the reference index, log entries,
permissions and the search index entries all point at a content type by id, so every existing page keeps
its type and no duplicate content type appears."""

import django.db.models.deletion
import wagtail.fields
from django.conf import settings
from django.db import migrations, models

LISTING_MODELS = ("listingindexpage", "patentlistingpage")


def _relabel_content_types(apps, schema_editor, *, old: str, new: str) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    Page = apps.get_model("wagtailcore", "Page")
    db = schema_editor.connection.alias
    for model in LISTING_MODELS:
        current = ContentType.objects.using(db).filter(app_label=old, model=model).first()
        if current is None:
            continue  # a new database: post_migrate creates the content type under its new label
        stray = ContentType.objects.using(db).filter(app_label=new, model=model).first()
        if stray is not None:
            # New code that ran before this migration (a server started before `migrate`) may have
            # created the new label already; no page can be of it, so it goes and the old row is relabelled.
            if Page.objects.using(db).filter(content_type=stray).exists():
                raise RuntimeError(f"Pages use both {old}.{model} and {new}.{model}; merge them by hand.")
            stray.delete()
        current.app_label = new
        current.save(update_fields=["app_label"])
    # The live ContentType cache may hold the old label if anything in this process looked it up.
    from django.contrib.contenttypes.models import ContentType as LiveContentType

    LiveContentType.objects.clear_cache()


def content_types_to_marketplace(apps, schema_editor):
    _relabel_content_types(apps, schema_editor, old="cms", new="marketplace")


def content_types_to_cms(apps, schema_editor):
    _relabel_content_types(apps, schema_editor, old="marketplace", new="cms")


class Migration(migrations.Migration):

    dependencies = [
        ('cms', '0003_listing_review_workflow'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('licensing', '0002_licences'),
        ('marketplace', '0004_pools'),
        ('wagtailcore', '0098_apitoken'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='ListingIndexPage',
                    fields=[
                        ('page_ptr', models.OneToOneField(auto_created=True, on_delete=django.db.models.deletion.CASCADE, parent_link=True, primary_key=True, serialize=False, to=settings.WAGTAIL_PAGE_MODEL)),
                        ('introduction', models.TextField(blank=True, verbose_name='introduction')),
                    ],
                    options={
                        'verbose_name': 'listing index',
                        'db_table': 'cms_listingindexpage',
                    },
                    bases=('wagtailcore.page',),
                ),
                migrations.CreateModel(
                    name='PatentListingPage',
                    fields=[
                        ('page_ptr', models.OneToOneField(auto_created=True, on_delete=django.db.models.deletion.CASCADE, parent_link=True, primary_key=True, serialize=False, to=settings.WAGTAIL_PAGE_MODEL)),
                        ('summary', models.TextField(blank=True, verbose_name='summary in plain words')),
                        ('body', wagtail.fields.StreamField([('heading', 2), ('paragraph', 3), ('image', 7), ('quote', 10), ('callout', 16), ('embed', 18), ('document', 19), ('contact', 23)], blank=True, block_lookup={0: ('wagtail.blocks.CharBlock', (), {'label': 'Heading', 'max_length': 200}), 1: ('wagtail.blocks.ChoiceBlock', [], {'choices': [('h2', 'H2'), ('h3', 'H3'), ('h4', 'H4')]}), 2: ('wagtail.blocks.StructBlock', [[('text', 0), ('size', 1)]], {}), 3: ('wagtail.blocks.RichTextBlock', (), {'description': 'Rich text', 'features': ['h3', 'h4', 'bold', 'italic', 'link', 'ol', 'ul', 'hr', 'document-link'], 'icon': 'pilcrow', 'preview_value': '<p>开放许可让企业以公开的条件快速获得专利实施许可。</p>', 'template': 'cms/blocks/paragraph_block.html'}), 4: ('wagtail.images.blocks.ImageChooserBlock', (), {'label': 'Image'}), 5: ('wagtail.blocks.CharBlock', (), {'label': 'Caption', 'max_length': 250, 'required': False}), 6: ('wagtail.blocks.CharBlock', (), {'label': 'Attribution', 'max_length': 250, 'required': False}), 7: ('wagtail.blocks.StructBlock', [[('image', 4), ('caption', 5), ('attribution', 6)]], {}), 8: ('wagtail.blocks.TextBlock', (), {'label': 'Quotation'}), 9: ('wagtail.blocks.CharBlock', (), {'label': 'Source', 'max_length': 250, 'required': False}), 10: ('wagtail.blocks.StructBlock', [[('text', 8), ('source', 9)]], {}), 11: ('wagtail.blocks.CharBlock', (), {'label': 'Title', 'max_length': 200}), 12: ('wagtail.blocks.RichTextBlock', (), {'features': ['bold', 'italic', 'link', 'ul', 'ol'], 'label': 'Text'}), 13: ('wagtail.blocks.PageChooserBlock', (), {'label': 'Link to page', 'required': False}), 14: ('wagtail.blocks.URLBlock', (), {'label': 'or link to URL', 'required': False}), 15: ('wagtail.blocks.CharBlock', (), {'label': 'Link text', 'max_length': 80, 'required': False}), 16: ('wagtail.blocks.StructBlock', [[('title', 11), ('text', 12), ('link_page', 13), ('link_url', 14), ('link_text', 15)]], {}), 17: ('wagtail.blocks.URLBlock', (), {'label': 'Video or media URL'}), 18: ('wagtail.blocks.StructBlock', [[('url', 17)]], {'description': 'A link to a video or other media, shown as a link (no third-party embeds)', 'icon': 'media', 'preview_value': {'url': 'https://example.com/video'}, 'template': 'cms/blocks/embed_block.html'}), 19: ('wagtail.documents.blocks.DocumentChooserBlock', (), {'description': 'A document to download', 'icon': 'doc-full', 'template': 'marketplace/listings/blocks/document_block.html'}), 20: ('wagtail.blocks.CharBlock', (), {'label': 'Contact person', 'max_length': 100}), 21: ('wagtail.blocks.CharBlock', (), {'label': 'Phone', 'max_length': 40, 'required': False}), 22: ('wagtail.blocks.EmailBlock', (), {'label': 'E-mail', 'required': False}), 23: ('wagtail.blocks.StructBlock', [[('name', 20), ('phone', 21), ('email', 22)]], {})}, verbose_name='application scenarios and materials')),
                        ('declaration', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='listing_pages', to='licensing.declaration', verbose_name='declaration')),
                    ],
                    options={
                        'verbose_name': 'patent listing',
                        'db_table': 'cms_patentlistingpage',
                    },
                    bases=('wagtailcore.page',),
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_types_to_marketplace, content_types_to_cms),
    ]
