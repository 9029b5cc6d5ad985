"""The licensing app's models, one module per side of the business: declarations on standard terms
(`declarations`), and what follows from them: licences, payments, webhooks, vouchers, royalties and the
ledger (`licences`). Everything is importable from `licensing.models`."""

from licensing.models.declarations import (
    LICENSABLE_DECLARATION_STATES,
    STANDING_DECLARATION_STATES,
    AnnouncementSource,
    Declaration,
    DeclarationConsent,
    DeclarationState,
    FeeForm,
    GazetteEntry,
    LicenceTerms,
    LicenceTermsVersion,
    RoyaltyBase,
)
from licensing.models.licences import (
    CertificateSerial,
    LedgerAccount,
    LedgerEntry,
    Licence,
    LicenceBasis,
    LicenceState,
    Payment,
    ProcessedEvent,
    RoyaltyReport,
    Voucher,
    VoucherUse,
    WebhookDelivery,
)

__all__ = [
    "LICENSABLE_DECLARATION_STATES", "STANDING_DECLARATION_STATES", "AnnouncementSource", "LicenceBasis",
    "Declaration", "DeclarationConsent", "DeclarationState", "FeeForm", "GazetteEntry", "LicenceTerms",
    "LicenceTermsVersion", "RoyaltyBase", "CertificateSerial", "LedgerAccount", "LedgerEntry", "Licence",
    "LicenceState", "Payment",
    "ProcessedEvent", "RoyaltyReport", "Voucher", "VoucherUse", "WebhookDelivery",
]
