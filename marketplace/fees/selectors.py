"""The platform's fee on licence payments: the marketplace's commercial term, kept as a figure editors set
in the site settings (cms.PlatformSettings) and handed down to licensing through
settings.PLATFORM_FEE_RATE_PROVIDER when a payment succeeds."""

from decimal import Decimal

from wagtail.models import Site

from cms.models import PlatformSettings


def current_platform_fee_rate() -> Decimal:
    """The default site's platform fee rate in percent today (0 while no site exists). Licensing stores it on
    each payment as it succeeds; refunds use the stored rate, so changing this figure affects only payments
    that succeed afterwards."""
    site = Site.objects.filter(is_default_site=True).first()
    return PlatformSettings.for_site(site).platform_fee_rate if site else Decimal("0")
