"""One shared base StreamBlock for every page body; each block has a template, an icon and a preview
value so editors see it in the block picker."""

from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.images.blocks import ImageChooserBlock


class HeadingBlock(blocks.StructBlock):
    text = blocks.CharBlock(label=_("Heading"), max_length=200)
    size = blocks.ChoiceBlock(choices=[("h2", "H2"), ("h3", "H3"), ("h4", "H4")], default="h2")

    class Meta:
        icon = "title"
        template = "cms/blocks/heading_block.html"
        preview_value = {"text": "开放许可 · Open licensing", "size": "h2"}
        description = _("A section heading")


class ImageBlock(blocks.StructBlock):
    image = ImageChooserBlock(label=_("Image"))
    caption = blocks.CharBlock(label=_("Caption"), required=False, max_length=250)
    attribution = blocks.CharBlock(label=_("Attribution"), required=False, max_length=250)

    class Meta:
        icon = "image"
        template = "cms/blocks/image_block.html"
        preview_value = {"caption": "Figure", "attribution": ""}
        description = _("An image with caption")


class QuoteBlock(blocks.StructBlock):
    text = blocks.TextBlock(label=_("Quotation"))
    source = blocks.CharBlock(label=_("Source"), required=False, max_length=250)

    class Meta:
        icon = "openquote"
        template = "cms/blocks/quote_block.html"
        preview_value = {
            "text": "专利权人自愿以书面方式向国务院专利行政部门声明愿意许可任何单位或者个人实施其专利……",
            "source": "《专利法》第五十条",
        }
        description = _("A quotation, e.g. from a statute")


class CalloutBlock(blocks.StructBlock):
    title = blocks.CharBlock(label=_("Title"), max_length=200)
    text = blocks.RichTextBlock(label=_("Text"), features=["bold", "italic", "link", "ul", "ol"])
    link_page = blocks.PageChooserBlock(label=_("Link to page"), required=False)
    link_url = blocks.URLBlock(label=_("or link to URL"), required=False)
    link_text = blocks.CharBlock(label=_("Link text"), required=False, max_length=80)

    class Meta:
        icon = "pick"
        template = "cms/blocks/callout_block.html"
        preview_value = {"title": "Take a licence in minutes", "text": "<p>Pay online and get a verifiable licence.</p>"}
        description = _("A highlighted box with an optional link")


class BaseStreamBlock(blocks.StreamBlock):
    heading = HeadingBlock()
    paragraph = blocks.RichTextBlock(
        icon="pilcrow",
        template="cms/blocks/paragraph_block.html",
        features=["h3", "h4", "bold", "italic", "link", "ol", "ul", "hr", "document-link"],
        preview_value="<p>开放许可让企业以公开的条件快速获得专利实施许可。</p>",
        description=_("Rich text"),
    )
    image = ImageBlock()
    quote = QuoteBlock()
    callout = CalloutBlock()
    embed = blocks.StructBlock(
        [("url", blocks.URLBlock(label=_("Video or media URL")))],
        icon="media",
        template="cms/blocks/embed_block.html",
        preview_value={"url": "https://example.com/video"},
        description=_("A link to a video or other media, shown as a link (no third-party embeds)"),
    )
