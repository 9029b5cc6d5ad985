"""The blocks only a listing offers, on top of cms's shared base StreamBlock: a document to download and
the holder's contact for the patent."""

from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.documents.blocks import DocumentChooserBlock

from cms.blocks import BaseStreamBlock


class ContactBlock(blocks.StructBlock):
    name = blocks.CharBlock(label=_("Contact person"), max_length=100)
    phone = blocks.CharBlock(label=_("Phone"), required=False, max_length=40)
    email = blocks.EmailBlock(label=_("E-mail"), required=False)

    class Meta:
        icon = "user"
        template = "marketplace/listings/blocks/contact_block.html"
        preview_value = {"name": "张老师", "phone": "010-0000 0000", "email": "tto@university.example.cn"}
        description = _("Who to talk to about this patent")


class ListingStreamBlock(BaseStreamBlock):
    """What editors and holders add to a listing: application scenarios, pictures, documents, a video
    link and a contact."""

    document = DocumentChooserBlock(
        icon="doc-full", template="marketplace/listings/blocks/document_block.html",
        description=_("A document to download"))
    contact = ContactBlock()
