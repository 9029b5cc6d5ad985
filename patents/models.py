from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from taggit.managers import TaggableManager

from marketplace.parties.models import Organisation
from patents.inventory.term import statutory_expiry


def in_page_language(own: str, english: str, *, language: str | None = None) -> str:
    """A patent's title or abstract as a page in ``language`` (the active one) shows it: on English pages the
    holder's English text where given, else the patent's own; on Chinese pages the patent's own text (for an
    English-original patent that is its English text: there is no Chinese one to show)."""
    return (english or own) if (language or get_language() or "").startswith("en") else own


class PatentKind(models.TextChoices):
    INVENTION = "invention", _("Invention")
    UTILITY_MODEL = "utility_model", _("Utility model")
    DESIGN = "design", _("Design")


class LegalStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    GRANTED = "granted", _("Granted")
    LAPSED = "lapsed", _("Lapsed")
    EXPIRED = "expired", _("Expired")
    INVALIDATED = "invalidated", _("Invalidated")


class Grade(models.TextChoices):
    A = "A", "A"
    B = "B", "B"
    C = "C", "C"
    D = "D", "D"


class EvaluationConclusion(models.TextChoices):
    # 专利权评价报告 conclusions: all claims meet the grant conditions, some do, none do.
    NONE = "", _("No report")
    POSITIVE = "positive", _("All claims meet the grant conditions")
    PARTIAL = "partial", _("Some claims meet the grant conditions")
    NEGATIVE = "negative", _("No claim meets the grant conditions")


class ReportConclusion(models.TextChoices):
    # The conclusion of a utility model's or design's evaluation report, as the open-licence rules read it
    # (Guidelines Part V ch. 11 section 3.1): "fails" bars declaring, "partly" warns.
    NONE = "", _("No conclusion recorded")
    MEETS = "meets", _("Meets the grant conditions")
    PARTLY = "partly", _("Partly meets the grant conditions")
    FAILS = "fails", _("Does not meet the grant conditions")


# The evaluation_report field's conclusions read as ReportConclusion when no conclusion is recorded apart.
REPORT_CONCLUSION_OF_EVALUATION = {"positive": "meets", "partial": "partly", "negative": "fails"}


class ProcedureSuspension(models.TextChoices):
    # Implementing Regulations (2023) arts. 103-104: CNIPA suspends the procedures on a patent during an
    # ownership dispute or on a court's preservation order; Regulations art. 86 item (2) bars open licensing.
    NONE = "", _("Not suspended")
    OWNERSHIP_DISPUTE = "ownership_dispute", _("Ownership dispute (Regulations art. 103)")
    PRESERVATION_ORDER = "preservation_order", _("Court preservation order (Regulations art. 104)")


def private_storage():
    """Inventory files and error reports are the holder's business: never under the public MEDIA_URL,
    only downloadable through a permission-checked view."""
    from django.core.files.storage import FileSystemStorage

    return FileSystemStorage(location=settings.PRIVATE_MEDIA_ROOT, base_url=None)


class InventoryBatch(models.Model):
    """One import of a holder's inventory file: who ran it, how it went, what it did."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Imported")
        REJECTED = "rejected", _("Rejected")
        FAILED = "failed", _("Failed")

    class Source(models.TextChoices):
        WEB = "web", _("Web upload")
        CLI = "cli", _("Command line")

    holder = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="inventory_batches")
    run_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    source = models.CharField(max_length=10, choices=Source.choices)
    original_filename = models.CharField(_("file name"), max_length=255)
    file = models.FileField(upload_to="inventory/%Y/%m/", storage=private_storage, blank=True)
    partial = models.BooleanField(_("import valid rows only"), default=False)
    language = models.CharField(max_length=10, default=settings.LANGUAGE_CODE,
                                help_text=_("Language of the error messages (the uploader's)."))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    unchanged_count = models.PositiveIntegerField(default=0)
    rejected_count = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True)
    errors_preview = models.JSONField(default=list, blank=True)
    error_report = models.FileField(upload_to="inventory/errors/%Y/%m/", storage=private_storage, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("inventory batch")
        verbose_name_plural = _("inventory batches")

    def __str__(self):
        return f"{self.holder.slug} · {self.original_filename} · {self.get_status_display()}"

    @property
    def is_finished(self) -> bool:
        return self.status in {self.Status.SUCCEEDED, self.Status.REJECTED, self.Status.FAILED}

    @property
    def progress_percent(self) -> int:
        if self.is_finished:
            return 100
        return int(100 * self.processed_rows / self.total_rows) if self.total_rows else 0


class Patent(models.Model):
    """An inventoried patent of one holder. The canonical number is unique across the platform."""

    # No index of its own: the three (holder, ...) indexes below serve every lookup by holder, and each index
    # costs every import (migration 0006).
    holder = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="patents", db_index=False)
    number = models.CharField(_("patent number"), max_length=40, unique=True,
                              help_text=_("Canonical form, e.g. CN202110123456.7 or CN112345678B."))
    number_original = models.CharField(_("number as imported"), max_length=60)
    country = models.CharField(_("country"), max_length=2, default="CN")
    kind = models.CharField(_("kind"), max_length=20, choices=PatentKind.choices)
    title = models.CharField(_("title"), max_length=500)
    abstract = models.TextField(_("abstract"), blank=True)
    # The holder's English text, where given: shown on English pages and searched in both languages
    # (marketplace.search.documents). db_default: bulk writers that name their columns leave them out.
    title_en = models.CharField(_("English title"), max_length=500, blank=True, default="", db_default="")
    abstract_en = models.TextField(_("English abstract"), blank=True, default="", db_default="")
    claims_count = models.PositiveIntegerField(_("claims"), null=True, blank=True)
    main_ipc = models.CharField(_("main IPC"), max_length=20, blank=True)
    ipc_codes = models.JSONField(_("IPC codes"), default=list, blank=True, help_text=_("Main IPC first."))
    # Not indexed: no query selects patents by it (search filters the listings' documents, which index their own
    # copy; the landscape only groups by it), and each index costs every import (migration 0009).
    ipc_subclass = models.CharField(_("IPC subclass"), max_length=4, blank=True)
    # Designs are classified by Locarno, not IPC; kept apart so IPC filters and facets never see them.
    locarno_codes = models.JSONField(_("Locarno classes"), default=list, blank=True,
                                     help_text=_("Designs only; main class first, e.g. 14-03."))
    technology_field = models.PositiveSmallIntegerField(
        _("technology field"), null=True, blank=True, db_index=True,
        help_text=_("WIPO IPC-technology concordance, fields 1-35 (designs: from their Locarno class); empty when "
                    "the main classification maps to none."),
    )
    filing_date = models.DateField(_("filing date"))
    grant_date = models.DateField(_("grant date"), null=True, blank=True)
    term_extension_days = models.PositiveIntegerField(
        _("term extension (days)"), default=0, help_text=_("Patent term compensation; inventions only.")
    )
    expiry_date = models.DateField(_("expiry date"), editable=False,
                                   help_text=_("Computed from kind, filing date and extension by statute."))
    legal_status = models.CharField(_("legal status"), max_length=12, choices=LegalStatus.choices)
    annual_fees_paid_through = models.DateField(_("annual fees paid through"), null=True, blank=True)
    inventors = models.JSONField(_("inventors"), default=list, blank=True)
    family_size = models.PositiveIntegerField(_("family size"), null=True, blank=True)
    forward_citations = models.PositiveIntegerField(_("forward citations"), null=True, blank=True)
    evaluation_report = models.CharField(
        _("evaluation report (专利权评价报告)"), max_length=10, choices=EvaluationConclusion.choices, blank=True,
        default="",
    )
    # db_default too: bulk writers that name their columns (the benchmark generator, COPY) leave these out.
    evaluation_report_conclusion = models.CharField(
        _("evaluation report conclusion"), max_length=10, choices=ReportConclusion.choices, blank=True, default="",
        db_default="",
        help_text=_("What the evaluation report concludes about the grant conditions (utility models and designs)."))
    procedure_suspension = models.CharField(
        _("procedures suspended"), max_length=20, choices=ProcedureSuspension.choices, blank=True, default="",
        db_default="")
    procedure_suspended_on = models.DateField(_("suspended on"), null=True, blank=True)
    co_owners_agreement_allows_declaring = models.BooleanField(
        _("co-owners' agreement allows declaring alone"), default=False, db_default=False,
        help_text=_("Tick only if the co-owners' written agreement lets the patentee declare an open licence "
                    "without each co-owner's consent."))
    pledged = models.BooleanField(_("pledged"), default=False)
    exclusive_licence_in_force = models.BooleanField(_("exclusive or sole licence in force"), default=False)
    # Kept by the licensing app while an open-licence declaration stands (Patent Law art. 51: no exclusive
    # or sole licence meanwhile; CNIPA announcement 594: annual fees reduced by 15%).
    # Not indexed: no query selects by it (a two-valued column is no use to an index anyway; migration 0006).
    under_open_licence = models.BooleanField(_("under open licence"), default=False)

    grade_score = models.PositiveSmallIntegerField(_("grade score"), default=0,
                                                   validators=[MaxValueValidator(100)])
    grade_computed = models.CharField(_("computed grade"), max_length=1, choices=Grade.choices, default=Grade.D)
    grade_factors = models.JSONField(_("grade factors"), default=dict, blank=True)
    graded_at = models.DateTimeField(null=True, blank=True)
    grade_override = models.CharField(_("grade set by holder"), max_length=1, choices=Grade.choices, blank=True)
    grade_override_reason = models.TextField(_("reason for the holder's grade"), blank=True)

    tags = TaggableManager(_("holder's tags"), blank=True, help_text=_("Your own labels, e.g. a lab or project."))
    # Not indexed: nothing reads patents by their last batch, and batches are never deleted (migration 0009).
    last_batch = models.ForeignKey(InventoryBatch, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+", db_index=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Fields a bulk insert must fill from their model defaults when the file does not set them.
    DEFAULTS_ON_CREATE = ("abstract", "title_en", "abstract_en",
                          "claims_count", "main_ipc", "ipc_codes", "ipc_subclass", "locarno_codes",
                          "technology_field", "grant_date", "term_extension_days", "annual_fees_paid_through",
                          "inventors", "family_size", "forward_citations", "evaluation_report", "pledged",
                          "exclusive_licence_in_force", "evaluation_report_conclusion", "procedure_suspension",
                          "procedure_suspended_on", "co_owners_agreement_allows_declaring")

    class Meta:
        ordering = ["-filing_date", "number"]
        verbose_name = _("patent")
        verbose_name_plural = _("patents")
        indexes = [
            models.Index(fields=["holder", "technology_field"]),
            # grade_override too: each holder's good prospects (the office's inventory funnel) counted from the
            # index alone, at no extra index for imports to keep (it serves every (holder, grade_computed) lookup)
            models.Index(fields=["holder", "grade_computed", "grade_override"], name="patent_holder_grades"),
            models.Index(fields=["holder", "-filing_date"]),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(grant_date__isnull=True) | Q(grant_date__gte=models.F("filing_date")),
                                   name="patent_grant_not_before_filing"),
            models.CheckConstraint(condition=Q(term_extension_days=0) | Q(kind="invention"),
                                   name="patent_extension_only_for_inventions"),
            models.CheckConstraint(condition=Q(grade_override="") | ~Q(grade_override_reason=""),
                                   name="patent_grade_override_needs_reason"),
            models.CheckConstraint(condition=Q(procedure_suspension="") | Q(procedure_suspended_on__isnull=False),
                                   name="patent_suspension_has_date"),
        ]

    def __str__(self):
        return f"{self.number} {self.title}"

    def save(self, *args, **kwargs):
        # The expiry follows from other fields by statute; recomputing on every save keeps it true.
        if self.filing_date and self.kind:
            self.expiry_date = self.compute_expiry()
        super().save(*args, **kwargs)

    @property
    def shown_title(self) -> str:
        """The title in the active language's page (in_page_language)."""
        return in_page_language(self.title, self.title_en)

    @property
    def shown_abstract(self) -> str:
        return in_page_language(self.abstract, self.abstract_en)

    @property
    def grade(self) -> str:
        """The grade shown to buyers: the holder's override if any, else the computed one."""
        return self.grade_override or self.grade_computed

    @property
    def remaining_life_days(self) -> int:
        """Derived at read time so it is never stale."""
        return max((self.expiry_date - timezone.localdate()).days, 0) if self.expiry_date else 0

    @property
    def remaining_life_years(self) -> Decimal:
        return (Decimal(self.remaining_life_days) / Decimal("365.25")).quantize(Decimal("0.1"))

    @property
    def in_force(self) -> bool:
        # The expiry date is the last day of protection.
        return self.legal_status == LegalStatus.GRANTED and self.expiry_date >= timezone.localdate()

    @property
    def needs_evaluation_report(self) -> bool:
        return self.kind in {PatentKind.UTILITY_MODEL, PatentKind.DESIGN}

    @property
    def report_conclusion(self) -> str:
        """The evaluation report's conclusion (ReportConclusion): the one recorded apart, else the one the
        evaluation_report field implies ("" when there is no report)."""
        return self.evaluation_report_conclusion or REPORT_CONCLUSION_OF_EVALUATION.get(self.evaluation_report, "")

    @property
    def procedures_suspended(self) -> bool:
        return bool(self.procedure_suspension)

    def compute_expiry(self) -> date:
        return statutory_expiry(self.kind, self.filing_date, self.term_extension_days)

    def clean(self):
        errors = {}
        if self.grant_date and self.filing_date and self.grant_date < self.filing_date:
            errors["grant_date"] = _("The grant date is before the filing date.")
        if self.term_extension_days and self.kind != PatentKind.INVENTION:
            errors["term_extension_days"] = _("Only inventions can have a term extension.")
        if self.grade_override and not self.grade_override_reason.strip():
            errors["grade_override_reason"] = _("Say why you set a different grade.")
        if self.procedure_suspension and self.procedure_suspended_on is None:
            errors["procedure_suspended_on"] = _("Enter the date the procedures were suspended.")
        if self.evaluation_report_conclusion and not self.needs_evaluation_report:
            errors["evaluation_report_conclusion"] = _("Only utility models and designs have an evaluation report.")
        if errors:
            raise ValidationError(errors)



class PatentCoOwner(models.Model):
    """A co-owner (共同专利权人) and its share; linked to a platform organisation when one matches."""

    patent = models.ForeignKey(Patent, on_delete=models.CASCADE, related_name="co_owners")
    name = models.CharField(_("name"), max_length=200)
    organisation = models.ForeignKey(Organisation, on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="co_owned_patents")
    share_percent = models.DecimalField(_("share (%)"), max_digits=5, decimal_places=2, null=True, blank=True,
                                        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))])

    class Meta:
        verbose_name = _("co-owner")
        verbose_name_plural = _("co-owners")
        constraints = [models.UniqueConstraint(fields=["patent", "name"], name="co_owner_unique_per_patent")]

    def __str__(self):
        return f"{self.name} ({self.share_percent or '?'}%)"


class PatentChange(models.Model):
    """Audit trail: what changed in a patent, when, by whom and through which batch or action."""

    class Action(models.TextChoices):
        IMPORT_CREATE = "import_create", _("Created by import")
        IMPORT_UPDATE = "import_update", _("Updated by import")
        GRADE_OVERRIDE = "grade_override", _("Grade set by holder")
        GRADE_OVERRIDE_CLEARED = "grade_cleared", _("Holder's grade removed")
        TAGS = "tags", _("Tags changed")
        ANNUAL_FEES = "annual_fees", _("Annual fees recorded by holder")
        STANDING = "standing", _("Licensing standing recorded by holder")
        ENGLISH_TEXT = "english_text", _("English title or abstract edited by holder")

    patent = models.ForeignKey(Patent, on_delete=models.CASCADE, related_name="changes")
    # batch and by not indexed: the history is read by patent; each index costs every import (migration 0009).
    batch = models.ForeignKey(InventoryBatch, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="changes", db_index=False)
    action = models.CharField(max_length=20, choices=Action.choices)
    changes = models.JSONField(default=dict, blank=True, help_text=_("{field: [old, new]}"))
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                           db_index=False)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("patent change")
        verbose_name_plural = _("patent changes")

    def __str__(self):
        return f"{self.patent_id} {self.action} {self.at:%Y-%m-%d}"

    def labelled_changes(self) -> list[tuple[str, str, str]]:
        """(field's verbose name, old, new) for each change, in the reader's language: the stored keys are
        column names and the values codes ("invention", True), which a page must not show as such."""
        return [(_change_label(name), _change_value(name, pair[0]), _change_value(name, pair[1]))
                for name, pair in self.changes.items()]


# Changed things that are not Patent columns.
_OTHER_CHANGE_LABELS = {"tags": _("tags"), "co_owners": _("co-owners")}


def _change_label(name: str) -> str:
    if name in _OTHER_CHANGE_LABELS:
        return str(_OTHER_CHANGE_LABELS[name])
    try:
        return str(Patent._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:
        return name


def _change_value(name: str, value) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    if isinstance(value, list):  # IPC codes, inventors, tags; co-owners as [name, USCC] pairs
        return "; ".join(str(v[0]) if isinstance(v, list) and v else str(v) for v in value)
    try:
        choices = dict(Patent._meta.get_field(name).flatchoices)
    except FieldDoesNotExist:
        choices = {}
    return str(choices.get(value, value))
