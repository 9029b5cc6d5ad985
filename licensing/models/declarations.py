import hashlib
from decimal import Decimal

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _
from wagtail.models import DraftStateMixin, RevisionMixin
from wagtail.search import index

from licensing.declarations import fees
from marketplace.parties.models import Organisation
from patents.models import Patent, PatentCoOwner


class LicenceTerms(DraftStateMixin, RevisionMixin, index.Indexed, models.Model):
    """Standard open-licence clauses, edited as a Wagtail snippet with revisions. A declaration never
    points here directly: it points at a frozen LicenceTermsVersion, so editing never changes terms that
    a declaration published or a licensee accepted."""

    name_zh = models.CharField(_("name (Chinese)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)
    clauses_zh = models.TextField(_("clauses (Chinese)"))
    clauses_en = models.TextField(_("clauses (English)"))
    _revisions = GenericRelation("wagtailcore.Revision", related_query_name="licence_terms")

    search_fields = [index.SearchField("name_zh"), index.SearchField("name_en")]

    class Meta:
        verbose_name = _("licence terms")
        verbose_name_plural = _("licence terms")

    def __str__(self):
        return f"{self.name_zh} / {self.name_en}"

    @property
    def revisions(self):
        return self._revisions


class LicenceTermsVersion(models.Model):
    """An immutable snapshot of LicenceTerms' text, numbered per terms and identified by its SHA-256."""

    terms = models.ForeignKey(LicenceTerms, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    name_zh = models.CharField(max_length=200)
    name_en = models.CharField(max_length=200)
    clauses_zh = models.TextField()
    clauses_en = models.TextField()
    sha256 = models.CharField(max_length=64)
    frozen_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["terms", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["terms", "number"], name="terms_version_number_unique"),
            models.UniqueConstraint(fields=["terms", "sha256"], name="terms_version_text_unique"),
        ]
        verbose_name = _("licence terms version")

    def __str__(self):
        return f"{self.name_zh} v{self.number}"

    def save(self, *args, **kwargs):
        if self.pk:
            raise ValidationError("A licence terms version is immutable.")
        super().save(*args, **kwargs)

    @staticmethod
    def canonical_text(name_zh: str, name_en: str, clauses_zh: str, clauses_en: str) -> str:
        """The terms as one text: what a licence keeps as its copy and what the SHA-256 is taken of, so
        anyone can hash the copy on a licence and get the printed hash."""
        return f"{name_zh}\n{clauses_zh}\n\n{name_en}\n{clauses_en}"

    @classmethod
    def digest(cls, name_zh: str, name_en: str, clauses_zh: str, clauses_en: str) -> str:
        return hashlib.sha256(cls.canonical_text(name_zh, name_en, clauses_zh, clauses_en).encode("utf-8")).hexdigest()

    @property
    def text(self) -> str:
        return self.canonical_text(self.name_zh, self.name_en, self.clauses_zh, self.clauses_en)


class FeeForm(models.TextChoices):
    LUMP_SUM = "lump_sum", _("Lump sum (一次性付费)")
    ROYALTY = "royalty", _("Royalty (提成支付)")
    ENTRY_PLUS_ROYALTY = "entry_plus_royalty", _("Entry fee plus royalty (入门费加提成)")


class RoyaltyBase(models.TextChoices):
    NET_SALES = "net_sales", _("net sales")
    PROFIT = "profit", _("profit")


class DeclarationState(models.TextChoices):
    """The declaration as CNIPA processes it (Patent Law art. 50): only CNIPA announces a declaration, and it
    takes effect from that announcement. The platform prepares, lists and mirrors; it never announces."""

    DRAFT = "draft", _("Draft")
    # Filed at CNIPA, not yet announced: listed here, but a licence taken now is an ordinary licence contract.
    FILED = "filed", _("Filed at CNIPA")
    # Announced by CNIPA: a statutory open licence from `announced_on`.
    ANNOUNCED = "announced", _("Announced by CNIPA")
    # Withdrawal filed: the declaration stays in force until CNIPA announces the withdrawal.
    WITHDRAWAL_FILED = "withdrawal_filed", _("Withdrawal filed")
    WITHDRAWN = "withdrawn", _("Withdrawn")


# A licence may be taken under a declaration in these states; one declaration per patent may stand in them.
LICENSABLE_DECLARATION_STATES = (DeclarationState.FILED, DeclarationState.ANNOUNCED, DeclarationState.WITHDRAWAL_FILED)
STANDING_DECLARATION_STATES = LICENSABLE_DECLARATION_STATES


class AnnouncementSource(models.TextChoices):
    HOLDER = "holder", _("Entered by the holder")
    CNIPA_IMPORT = "cnipa_import", _("Imported from CNIPA's announcements")


class Declaration(models.Model):
    """An open-licence declaration (开放许可声明), China Patent Law (2020) art. 50 and Implementing
    Regulations (2023) art. 85, Examination Guidelines Part V ch. 11 3.3: the patent number, the patentee,
    the commitment that the conditions are met, the way of payment, the fee standard and its calculation
    basis, the licence duration and the contact details. States: draft → filed (at CNIPA) → announced (by
    CNIPA) → withdrawal filed → withdrawn; each transition is one service in
    licensing/declarations/services.py that checks the state it leaves."""

    patent = models.ForeignKey(Patent, on_delete=models.PROTECT, related_name="declarations")
    holder = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="declarations",
                               verbose_name=_("patentee"))
    terms_version = models.ForeignKey(LicenceTermsVersion, on_delete=models.PROTECT, related_name="declarations",
                                      verbose_name=_("standard terms"))
    state = models.CharField(_("state"), max_length=20, choices=DeclarationState.choices,
                             default=DeclarationState.DRAFT)
    fee_form = models.CharField(_("fee form"), max_length=20, choices=FeeForm.choices)
    lump_sum_fen = models.BigIntegerField(_("lump sum (fen)"), null=True, blank=True,
                                          validators=[MinValueValidator(0)])
    entry_fee_fen = models.BigIntegerField(_("entry fee (fen)"), null=True, blank=True,
                                           validators=[MinValueValidator(0)])
    royalty_base = models.CharField(_("royalty base"), max_length=10, choices=RoyaltyBase.choices, blank=True)
    royalty_rate = models.DecimalField(_("royalty rate (%)"), max_digits=5, decimal_places=2, null=True, blank=True,
                                       validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal("100"))])
    annual_minimum_fen = models.BigIntegerField(_("annual minimum royalty (fen)"), null=True, blank=True,
                                                validators=[MinValueValidator(0)])
    currency = models.CharField(max_length=3, default="CNY", editable=False)
    payment_method = models.TextField(
        _("way of payment"),
        help_text=_("How and when the licensee pays, e.g. online through the platform; royalties reported and "
                    "paid within 30 days after each licence year."),
    )
    duration_years = models.PositiveSmallIntegerField(_("licence duration (years)"),
                                                      validators=[MinValueValidator(1), MaxValueValidator(20)])
    field_of_use_note = models.TextField(_("field of use note"), blank=True)
    contact_name = models.CharField(_("contact person"), max_length=100)
    contact_email = models.EmailField(_("contact e-mail"))
    contact_phone = models.CharField(_("contact phone"), max_length=40, blank=True)
    # Implementing Regulations art. 85, Guidelines Part V ch. 11 3.3: what the declaration states besides the offer.
    conditions_commitment = models.BooleanField(
        _("commitment that the conditions are met"), default=False,
        help_text=_("The patentee commits that the patent meets the conditions for open licensing."))
    fee_basis_statement = models.TextField(_("basis of the fee calculation"), max_length=2000, blank=True,
                                           help_text=_("How the licence fee was calculated (at most 2,000 characters)."))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    filed_at = models.DateTimeField(_("filed at CNIPA"), null=True, blank=True)
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="+")
    # CNIPA's announcement (公告) of the declaration: only this makes it a statutory open licence.
    cnipa_number = models.CharField(_("CNIPA announcement number"), max_length=40, unique=True, null=True,
                                    blank=True)
    announced_on = models.DateField(_("announced by CNIPA on"), null=True, blank=True)
    announcement_source = models.CharField(_("announcement entered from"), max_length=20,
                                           choices=AnnouncementSource.choices, blank=True)
    announcement_recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                                 blank=True, related_name="+")
    withdrawal_filed_at = models.DateTimeField(_("withdrawal filed at CNIPA"), null=True, blank=True)
    withdrawal_filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                            blank=True, related_name="+")
    withdrawal_announced_on = models.DateField(_("withdrawal announced by CNIPA on"), null=True, blank=True)
    cnipa_withdrawal_number = models.CharField(_("CNIPA withdrawal announcement number"), max_length=40,
                                               unique=True, null=True, blank=True)
    # When the withdrawal's announcement was recorded here (the listing closes then), and by whom.
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="+")
    withdrawal_reason = models.TextField(_("reason for withdrawal"), blank=True)

    class Meta:
        ordering = ["-filed_at", "-created_at"]
        verbose_name = _("open-licence declaration")
        verbose_name_plural = _("open-licence declarations")
        constraints = [
            # Art. 50: one standing public offer per patent; drafts and withdrawn ones may be many.
            models.UniqueConstraint(fields=["patent"], condition=Q(state__in=STANDING_DECLARATION_STATES),
                                    name="one_standing_declaration_per_patent"),
            models.CheckConstraint(
                condition=~Q(state="announced") | Q(cnipa_number__isnull=False, announced_on__isnull=False),
                name="announced_declaration_has_cnipa_number_and_date"),
            models.CheckConstraint(
                condition=(Q(fee_form="lump_sum", lump_sum_fen__isnull=False, royalty_rate__isnull=True)
                           | Q(fee_form="royalty", royalty_rate__isnull=False, lump_sum_fen__isnull=True)
                           | Q(fee_form="entry_plus_royalty", royalty_rate__isnull=False,
                               entry_fee_fen__isnull=False, lump_sum_fen__isnull=True)),
                name="declaration_fee_fields_match_fee_form",
            ),
            models.CheckConstraint(condition=~Q(state__in=["withdrawal_filed", "withdrawn"]) | ~Q(withdrawal_reason=""),
                                   name="declaration_withdrawal_needs_reason"),
        ]
        indexes = [models.Index(fields=["state", "-filed_at"]),
                   # the office's withdrawals by reason over a period (statistics.withdrawal_reasons filters on
                   # this very expression): a range search instead of a scan of every declaration
                   models.Index(Coalesce("withdrawal_filed_at", "withdrawn_at"), name="declaration_withdrawal_at")]

    def __str__(self):
        return f"{self.patent.number} · {self.get_fee_form_display()} · {self.get_state_display()}"

    def clean(self):
        errors = {}
        if self.fee_form == FeeForm.LUMP_SUM:
            if self.lump_sum_fen is None:
                errors["lump_sum_fen"] = _("A lump-sum declaration states the lump sum.")
            self.royalty_rate = self.royalty_base = self.entry_fee_fen = self.annual_minimum_fen = None
            self.royalty_base = ""
        elif self.fee_form in (FeeForm.ROYALTY, FeeForm.ENTRY_PLUS_ROYALTY):
            if self.royalty_rate is None:
                errors["royalty_rate"] = _("A royalty declaration states the royalty rate.")
            if not self.royalty_base:
                errors["royalty_base"] = _("Say whether the royalty is a share of net sales or of profit.")
            if self.fee_form == FeeForm.ENTRY_PLUS_ROYALTY and self.entry_fee_fen is None:
                errors["entry_fee_fen"] = _("An entry-fee declaration states the entry fee.")
            if self.fee_form == FeeForm.ROYALTY:
                self.entry_fee_fen = None
            self.lump_sum_fen = None
        if errors:
            raise ValidationError(errors)

    @property
    def is_licensable(self) -> bool:
        return self.state in LICENSABLE_DECLARATION_STATES

    @property
    def is_statutory(self) -> bool:
        """CNIPA announced it and the withdrawal is not announced yet: a licence taken now is a statutory open
        licence (Patent Law arts. 50-51). Filed only: an ordinary licence contract on the platform."""
        return self.state in (DeclarationState.ANNOUNCED, DeclarationState.WITHDRAWAL_FILED) \
            and self.announced_on is not None

    @property
    def first_amount_due_fen(self) -> int:
        """What a licensee pays on taking the licence: the lump sum, the entry fee, or the first year's
        minimum royalty (0 when a pure royalty has no minimum)."""
        if self.fee_form == FeeForm.LUMP_SUM:
            return self.lump_sum_fen or 0
        if self.fee_form == FeeForm.ENTRY_PLUS_ROYALTY:
            return self.entry_fee_fen or 0
        return self.annual_minimum_fen or 0

    @property
    def royalty_cap(self) -> Decimal:
        return fees.ROYALTY_CAP_PROFIT if self.royalty_base == RoyaltyBase.PROFIT else fees.ROYALTY_CAP_NET_SALES


class DeclarationConsent(models.Model):
    """A recorded written consent: before filing, each co-owner's (Guidelines Part V ch. 11 section 3.1, unless
    the co-owners' agreement allows declaring alone) and, for a pledged patent, the pledgee's (Regulations art. 86
    item (4)); before withdrawing, each co-owner's again (kind "withdrawal")."""

    class Kind(models.TextChoices):
        CO_OWNER = "co_owner", _("Co-owner")
        PLEDGEE = "pledgee", _("Pledgee")
        WITHDRAWAL = "withdrawal", _("Co-owner, to the withdrawal")

    declaration = models.ForeignKey(Declaration, on_delete=models.CASCADE, related_name="consents")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    co_owner = models.ForeignKey(PatentCoOwner, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    party_name = models.CharField(_("consenting party"), max_length=200)
    signatory = models.CharField(_("signed by"), max_length=100)
    consented_on = models.DateField(_("date of consent"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["declaration", "co_owner"], condition=Q(kind="co_owner"),
                                    name="one_consent_per_co_owner"),
            models.UniqueConstraint(fields=["declaration"], condition=Q(kind="pledgee"), name="one_pledgee_consent"),
            models.UniqueConstraint(fields=["declaration", "co_owner"], condition=Q(kind="withdrawal"),
                                    name="one_withdrawal_consent_per_co_owner"),
        ]
        verbose_name = _("consent")

    def __str__(self):
        return f"{self.get_kind_display()}: {self.party_name} ({self.consented_on})"


class GazetteEntry(models.Model):
    """A mirror of CNIPA's announcements (公告) of open-licence declarations and their withdrawals, in order.
    Append-only. The platform never announces: an entry is written only when CNIPA's announcement is
    recorded (entered by the holder or imported), and carries CNIPA's own number, never one we invent."""

    class Kind(models.TextChoices):
        PUBLICATION = "publication", _("Publication")
        WITHDRAWAL = "withdrawal", _("Withdrawal")

    declaration = models.ForeignKey(Declaration, on_delete=models.PROTECT, related_name="gazette_entries")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    announced_at = models.DateTimeField()
    announcement_number = models.CharField(max_length=24, unique=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-announced_at", "-pk"]
        verbose_name = _("gazette entry")
        verbose_name_plural = _("gazette entries")

    def __str__(self):
        return f"{self.announcement_number} {self.get_kind_display()}"


