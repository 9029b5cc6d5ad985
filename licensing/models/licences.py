"""Licences, payments, webhooks, vouchers, royalties and the ledger. Re-exported by licensing/models/__init__.py so
Django sees them; kept apart because declarations and licences are two different parts of the law."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from licensing.models.declarations import Declaration, FeeForm, LicenceTermsVersion, RoyaltyBase
from marketplace.parties.models import Organisation
from marketplace.parties.money import money_text
from patents.models import Patent


class LicenceState(models.TextChoices):
    NOTICE_SUBMITTED = "notice_submitted", _("Notice submitted")
    PAYMENT_PENDING = "payment_pending", _("Payment pending")
    PAYMENT_FAILED = "payment_failed", _("Payment failed")
    ACTIVE = "active", _("Active")
    EXPIRED = "expired", _("Expired")
    TERMINATED = "terminated", _("Terminated")
    CANCELLED = "cancelled", _("Cancelled")


class LicenceBasis(models.TextChoices):
    """What a licence rests on, frozen when the notice is submitted (Patent Law art. 50: a declaration takes
    effect from CNIPA's announcement)."""

    # Open licence under Patent Law arts. 50-51: CNIPA announced the declaration on or before the notice.
    STATUTORY = "statutory", _("Statutory open licence (Patent Law arts. 50-51)")
    # The declaration was only filed: an ordinary licence contract on the platform's standard terms, without
    # the art. 51 protections or the annual-fee reduction.
    PLATFORM = "platform", _("Ordinary licence contract on the platform's terms")


# A licensee holds at most one of these per declaration at a time.
LIVE_LICENCE_STATES = (LicenceState.NOTICE_SUBMITTED, LicenceState.PAYMENT_PENDING, LicenceState.PAYMENT_FAILED,
                       LicenceState.ACTIVE)


class Licence(models.Model):
    """A non-exclusive licence taken under an open-licence declaration by written notice and payment
    (Patent Law art. 51). The notice, the terms text and the fee offer are snapshotted at notice time, so
    a later withdrawal or terms edit changes nothing for this licence."""

    declaration = models.ForeignKey(Declaration, on_delete=models.PROTECT, related_name="licences")
    patent = models.ForeignKey(Patent, on_delete=models.PROTECT, related_name="licences")
    licensor = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="licences_granted")
    licensee = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="licences_taken")
    state = models.CharField(_("state"), max_length=20, choices=LicenceState.choices,
                             default=LicenceState.NOTICE_SUBMITTED)
    basis = models.CharField(_("basis"), max_length=10, choices=LicenceBasis.choices, default=LicenceBasis.PLATFORM)

    # The written notice (书面通知).
    notice_legal_name = models.CharField(_("licensee legal name"), max_length=200)
    notice_uscc = models.CharField(_("unified social credit code"), max_length=18, blank=True)
    notice_contact_name = models.CharField(_("contact person"), max_length=100)
    notice_contact_email = models.EmailField(_("contact e-mail"))
    notice_contact_phone = models.CharField(_("contact phone"), max_length=40, blank=True)
    notice_field_of_use = models.TextField(_("intended field of use"))
    notice_submitted_at = models.DateTimeField()
    notice_submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                            related_name="+")

    # The terms as accepted: a copy and its SHA-256, plus the fee offer.
    terms_version = models.ForeignKey(LicenceTermsVersion, on_delete=models.PROTECT, related_name="licences")
    terms_text = models.TextField(_("terms accepted"))
    terms_sha256 = models.CharField(max_length=64)
    fee_form = models.CharField(max_length=20, choices=FeeForm.choices)
    lump_sum_fen = models.BigIntegerField(null=True, blank=True)
    entry_fee_fen = models.BigIntegerField(null=True, blank=True)
    royalty_base = models.CharField(max_length=10, choices=RoyaltyBase.choices, blank=True)
    royalty_rate = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    annual_minimum_fen = models.BigIntegerField(null=True, blank=True)
    duration_years = models.PositiveSmallIntegerField()
    first_amount_fen = models.BigIntegerField(validators=[MinValueValidator(0)])
    currency = models.CharField(max_length=3, default="CNY")

    starts_on = models.DateField(null=True, blank=True)
    ends_on = models.DateField(null=True, blank=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    certificate_number = models.CharField(_("certificate number"), max_length=24, unique=True, null=True, blank=True)

    # Contract recording with CNIPA (备案), due within 3 months of taking effect.
    recording_number = models.CharField(_("recording number"), max_length=60, blank=True)
    recorded_on = models.DateField(_("recorded on"), null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+")

    terminated_at = models.DateTimeField(null=True, blank=True)
    termination_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("licence")
        verbose_name_plural = _("licences")
        constraints = [
            models.UniqueConstraint(fields=["declaration", "licensee"], condition=Q(state__in=LIVE_LICENCE_STATES),
                                    name="one_live_licence_per_licensee_and_declaration"),
            models.CheckConstraint(condition=~Q(licensor=F("licensee")), name="licence_not_to_oneself"),
        ]
        indexes = [models.Index(fields=["state", "activated_at"]), models.Index(fields=["licensor", "state"]),
                   # the statutory licences recorded with CNIPA (the open-licence fee reduction granted, which the
                   # office's dashboard reports): a few rows found by the index, not a scan of every wide licence
                   models.Index(fields=["basis", "recorded_on"], name="licence_basis_recorded")]

    def __str__(self):
        return f"{self.certificate_number or self.pk} {self.patent_id} → {self.notice_legal_name}"


class CertificateSerial(models.Model):
    """The last serial number given to a licence certificate. One row, locked while a licence activates, so
    serials run without gaps and never twice: a notice that is cancelled unpaid never takes one."""

    name = models.CharField(max_length=20, unique=True)
    last_serial = models.BigIntegerField(default=0, validators=[MinValueValidator(0)])

    def __str__(self):
        return f"{self.name}: {self.last_serial}"


class Payment(models.Model):
    """One amount a licensee pays: the first amount of a licence or a royalty invoice. Part may be covered
    by an innovation voucher; the rest is charged by card through a Stripe PaymentIntent."""

    class State(models.TextChoices):
        # Context: "Created" elsewhere means a record was added (新增); an unpaid payment is waiting (待支付).
        CREATED = "created", pgettext_lazy("payment state", "Created")
        REQUIRES_PAYMENT = "requires_payment", _("Awaiting card")
        REQUIRES_ACTION = "requires_action", _("Awaiting authentication")
        SUCCEEDED = "succeeded", _("Paid")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")
        REFUNDED = "refunded", _("Refunded")
        PARTIALLY_REFUNDED = "partially_refunded", _("Partially refunded")

    class Purpose(models.TextChoices):
        FIRST_AMOUNT = "first_amount", _("Licence fee (first amount)")
        ROYALTY = "royalty", _("Royalty invoice")

    licence = models.ForeignKey(Licence, on_delete=models.PROTECT, related_name="payments")
    purpose = models.CharField(max_length=20, choices=Purpose.choices)
    state = models.CharField(max_length=20, choices=State.choices, default=State.CREATED)
    amount_fen = models.BigIntegerField(validators=[MinValueValidator(0)])
    voucher_fen = models.BigIntegerField(default=0, validators=[MinValueValidator(0)])
    charge_fen = models.BigIntegerField(default=0, validators=[MinValueValidator(0)])
    refunded_fen = models.BigIntegerField(default=0, validators=[MinValueValidator(0)])
    currency = models.CharField(max_length=3, default="CNY")
    stripe_payment_intent_id = models.CharField(max_length=100, unique=True, null=True, blank=True)
    failure_message = models.TextField(blank=True)
    due_on = models.DateField(null=True, blank=True)
    succeeded_at = models.DateTimeField(null=True, blank=True)
    # The platform fee rate in force when the payment succeeded (empty until then): its ledger posting and
    # every later refund split with this rate, never with today's setting.
    platform_fee_rate = models.DecimalField(_("platform fee rate (%)"), max_digits=5, decimal_places=2, null=True,
                                            blank=True, validators=[MinValueValidator(Decimal("0"))])
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_fen=F("voucher_fen") + F("charge_fen")),
                                   name="payment_voucher_plus_charge_is_amount"),
            models.CheckConstraint(condition=Q(refunded_fen__lte=F("charge_fen")), name="payment_refund_not_above_charge"),
        ]

    def __str__(self):
        # No words, only the amount in the one money format of the language active when it is written: this text
        # is stored (the audit log's record names), so a Chinese page records '20,000.00 元', not '¥20000'.
        return f"#{self.pk} {money_text(self.amount_fen)}"


class WebhookDelivery(models.Model):
    """Every request to the Stripe webhook endpoint, stored before anything else happens (dj-stripe's
    lesson): raw body, headers, whether the signature held, and what processing did."""

    class Result(models.TextChoices):
        RECEIVED = "received", _("Received")
        BAD_SIGNATURE = "bad_signature", _("Bad signature")
        PROCESSED = "processed", _("Processed")
        DUPLICATE = "duplicate", _("Duplicate")
        IGNORED = "ignored", _("Ignored (type not handled)")
        FAILED = "failed", _("Failed")

    received_at = models.DateTimeField(auto_now_add=True)
    body = models.TextField()
    headers = models.JSONField(default=dict)
    event_id = models.CharField(max_length=100, blank=True, db_index=True)
    event_type = models.CharField(max_length=100, blank=True)
    result = models.CharField(max_length=20, choices=Result.choices, default=Result.RECEIVED)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self):
        return f"{self.event_id or '?'} {self.result}"


class ProcessedEvent(models.Model):
    """A Stripe event id, inserted in the same transaction as its effects: unique, so a duplicate or
    concurrent delivery finds it and does nothing; rolled back with the effects if processing fails."""

    event_id = models.CharField(max_length=100, unique=True)
    event_type = models.CharField(max_length=100)
    processed_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.event_id


class Voucher(models.Model):
    """An innovation voucher (科技创新券) the IP office issues to an organisation. Its balance can never go
    below zero (a database constraint, and uses lock the row)."""

    class Use(models.TextChoices):
        LICENCE_FEES = "licence_fees", _("Licence fees")
        ROYALTIES = "royalties", _("Royalties")
        PATENT_AGENCY = "patent_agency", _("Patent agency services")

    code = models.CharField(_("voucher code"), max_length=24, unique=True)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="vouchers")
    amount_fen = models.BigIntegerField(_("amount (fen)"), validators=[MinValueValidator(1)])
    balance_fen = models.BigIntegerField(_("balance (fen)"))
    expires_on = models.DateField(_("expires on"))
    eligible_uses = models.JSONField(_("eligible uses"), default=list)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    issued_at = models.DateTimeField(auto_now_add=True)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-issued_at"]
        constraints = [
            models.CheckConstraint(condition=Q(balance_fen__gte=0), name="voucher_balance_never_negative"),
            models.CheckConstraint(condition=Q(balance_fen__lte=F("amount_fen")), name="voucher_balance_within_amount"),
        ]

    def __str__(self):
        # The code alone: this text is stored (the audit log's record names) and shown in either language.
        return self.code


class VoucherUse(models.Model):
    voucher = models.ForeignKey(Voucher, on_delete=models.PROTECT, related_name="uses")
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="voucher_uses")
    amount_fen = models.BigIntegerField(validators=[MinValueValidator(1)])
    used_at = models.DateTimeField(auto_now_add=True)
    released = models.BooleanField(default=False, help_text=_("Given back because the payment failed or was refunded."))

    def __str__(self):
        return f"{self.voucher.code}: {self.amount_fen}"


class RoyaltyReport(models.Model):
    """A licensee's report of net sales (or profit) for a period of a royalty licence, and the royalty it
    makes due, invoiced as a Payment."""

    licence = models.ForeignKey(Licence, on_delete=models.PROTECT, related_name="royalty_reports")
    period_start = models.DateField()
    period_end = models.DateField()
    base_amount_fen = models.BigIntegerField(_("net sales or profit (fen)"), validators=[MinValueValidator(0)])
    royalty_fen = models.BigIntegerField(validators=[MinValueValidator(0)])
    minimum_topup_fen = models.BigIntegerField(default=0, validators=[MinValueValidator(0)])
    amount_due_fen = models.BigIntegerField(validators=[MinValueValidator(0)])
    due_on = models.DateField()
    payment = models.OneToOneField(Payment, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="royalty_report")
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    submitted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["licence", "period_start"]
        constraints = [
            models.UniqueConstraint(fields=["licence", "period_start"], name="one_report_per_period"),
            models.CheckConstraint(condition=Q(period_end__gte=F("period_start")), name="report_period_ordered"),
        ]

    def __str__(self):
        return f"{self.licence_id} {self.period_start}..{self.period_end}"


class LedgerAccount(models.TextChoices):
    CARD_CLEARING = "card_clearing", _("Card payments received (Stripe)")
    VOUCHER_FUND = "voucher_fund", _("Innovation voucher fund")
    PLATFORM_FEES = "platform_fees", _("Platform fees")
    HOLDER_PAYABLE = "holder_payable", _("Owed to the patent holder")


class LedgerEntry(models.Model):
    """One line of a balanced double-entry posting, in integer fen: debits positive, credits negative; the
    lines of one `posting` always add up to zero."""

    posting = models.UUIDField(db_index=True)
    account = models.CharField(max_length=20, choices=LedgerAccount.choices)
    amount_fen = models.BigIntegerField()
    currency = models.CharField(max_length=3, default="CNY")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    licence = models.ForeignKey(Licence, on_delete=models.PROTECT, null=True, blank=True, related_name="ledger_entries")
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="ledger_entries")
    kind = models.CharField(max_length=30)
    description = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name_plural = _("ledger entries")

    def __str__(self):
        return f"{self.posting} {self.account} {self.amount_fen}"
