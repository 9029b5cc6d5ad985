"""IP-securitization pools (知识产权证券化): the IP office's criteria, the frozen membership with the values
captured at freezing, and the tape exports prepared in the background. Imported by marketplace/models.py so
Django sees them; the rules live in marketplace/pools/services.py."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from licensing.models.licences import Licence
from marketplace.parties.models import Organisation


def pool_storage():
    """Pool tapes name licensees and amounts: never under MEDIA_URL, only through the IP office's view."""
    from django.core.files.storage import FileSystemStorage

    return FileSystemStorage(location=settings.PRIVATE_MEDIA_ROOT, base_url=None)


class Pool(models.Model):
    """A pool of licences (exposures) the IP office assembles for an ABS pilot. A draft's membership is
    computed live from its criteria; freezing captures it once, with a cut-off date and a content hash, and
    nothing changes it afterwards."""

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        FROZEN = "frozen", _("Frozen")

    name = models.CharField(_("name"), max_length=200)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.DRAFT)
    cut_off_date = models.DateField(_("data cut-off date"))
    # Criteria. Empty lists mean "any".
    grades = models.JSONField(_("grades"), default=list, blank=True)
    technology_fields = models.JSONField(_("technology fields"), default=list, blank=True)
    min_remaining_life_years = models.PositiveSmallIntegerField(
        _("minimum remaining patent life (years)"), default=0, validators=[MaxValueValidator(20)])
    require_payment_history = models.BooleanField(_("only licences with a payment history"), default=True)
    max_licensee_share = models.DecimalField(
        _("maximum share of one licensee (%)"), max_digits=5, decimal_places=2, null=True, blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(100)])
    max_holder_share = models.DecimalField(
        _("maximum share of one holder (%)"), max_digits=5, decimal_places=2, null=True, blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(100)])
    discount_rate = models.DecimalField(
        _("discount rate (% a year)"), max_digits=5, decimal_places=2, default=8,
        validators=[MinValueValidator(0), MaxValueValidator(100)])

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    frozen_at = models.DateTimeField(null=True, blank=True)
    frozen_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                  related_name="+")
    content_sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("securitization pool")
        constraints = [models.CheckConstraint(
            condition=Q(state="draft") | (Q(frozen_at__isnull=False) & ~Q(content_sha256="")),
            name="frozen_pool_has_hash")]

    def __str__(self):
        return self.name

    @property
    def code(self) -> str:
        return f"POOL{self.pk:05d}"

    @property
    def is_frozen(self) -> bool:
        return self.state == self.State.FROZEN


class PoolExposure(models.Model):
    """One licence in a frozen pool, with its tape row and cash-flow schedule exactly as computed at
    freezing (JSON, money as integer fen, decimals as strings), so later payments or reports change nothing."""

    pool = models.ForeignKey(Pool, on_delete=models.CASCADE, related_name="exposures")
    position = models.PositiveIntegerField()
    licence = models.ForeignKey(Licence, on_delete=models.PROTECT, related_name="+")
    licensee = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    holder = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    technology_field = models.PositiveSmallIntegerField(null=True, blank=True)
    exposure_fen = models.BigIntegerField()
    dcf_value_fen = models.BigIntegerField()
    tape = models.JSONField()
    schedule = models.JSONField(default=list)

    class Meta:
        ordering = ["pool", "position"]
        constraints = [
            models.UniqueConstraint(fields=["pool", "position"], name="one_exposure_per_position"),
            models.UniqueConstraint(fields=["pool", "licence"], name="one_exposure_per_licence_and_pool"),
        ]

    def __str__(self):
        return f"{self.pool_id}#{self.position} licence {self.licence_id}"


class PoolColumns(models.Model):
    """A frozen pool's tape and cash flows as typed columns (one Arrow IPC stream per table), written once at
    freezing beside the exposures' JSON rows, so that an export reads two values instead of every row. The
    exposures stay the record: the columns are used only while the exposures' stored text has the digest taken
    at freezing (rows_sha256) and the columns hash to the pool's seal (marketplace.pools.services)."""

    pool = models.OneToOneField(Pool, on_delete=models.CASCADE, primary_key=True, related_name="columns")
    tape = models.BinaryField()
    cash_flows = models.BinaryField()
    rows_sha256 = models.CharField(max_length=64)

    def __str__(self):
        return f"{self.pool_id} columns"


class PoolExport(models.Model):
    """A tape file of a frozen pool in one format, written by a background task. A frozen pool always
    exports the same bytes, so one finished file per pool and format is kept and served again."""

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "XLSX"
        PARQUET = "parquet", "Parquet"
        TAPE_CSV = "tape_csv", _("CSV, tape only (one file)")

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Writing")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")

    pool = models.ForeignKey(Pool, on_delete=models.CASCADE, related_name="exports")
    fmt = models.CharField(max_length=10, choices=Format.choices)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    file = models.FileField(upload_to="pools/", storage=pool_storage, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    error = models.TextField(blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at"]
        constraints = [models.UniqueConstraint(fields=["pool", "fmt"], name="one_export_per_pool_and_format")]

    def __str__(self):
        return f"{self.pool_id} {self.fmt} {self.state}"
