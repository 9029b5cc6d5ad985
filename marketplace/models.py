"""Demand side of the marketplace: buyer needs (需求清单), holders' proposals, saved searches, and the funnel
events that feed the IP office's figures."""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from licensing.models import Declaration, FeeForm
from marketplace.parties.models import Organisation


class Need(models.Model):
    """A licensee's technical need: what it wants to license, for how much, by when."""

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="needs")
    posted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"))
    technology_field = models.PositiveSmallIntegerField(_("technology field"), null=True, blank=True, db_index=True)
    ipc_prefix = models.CharField(_("IPC (prefix)"), max_length=20, blank=True,
                                  help_text=_("e.g. H01M or H01M 10/44"))
    budget_min_fen = models.BigIntegerField(_("budget from (fen)"), null=True, blank=True, validators=[MinValueValidator(0)])
    budget_max_fen = models.BigIntegerField(_("budget up to (fen)"), null=True, blank=True, validators=[MinValueValidator(0)])
    horizon_years = models.PositiveSmallIntegerField(_("planning horizon (years)"), default=3,
                                                     validators=[MinValueValidator(1)])
    expected_annual_net_sales_fen = models.BigIntegerField(_("expected yearly net sales (fen)"), null=True, blank=True,
                                                           validators=[MinValueValidator(0)])
    preferred_fee_form = models.CharField(_("preferred fee form"), max_length=20, choices=FeeForm.choices, blank=True)
    region = models.CharField(_("region"), max_length=40, blank=True)
    deadline = models.DateField(_("deadline"), null=True, blank=True)
    anonymous = models.BooleanField(_("hide our name on the public board"), default=False)
    public = models.BooleanField(_("show on the public needs board"), default=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("buyer need")
        constraints = [models.CheckConstraint(
            condition=(Q(budget_min_fen__isnull=True) | Q(budget_max_fen__isnull=True)
                       | Q(budget_max_fen__gte=F("budget_min_fen"))),
            name="need_budget_range_ordered")]

    def __str__(self):
        return self.title


class Proposal(models.Model):
    """A holder answers a need by proposing one of its published declarations (listings)."""

    need = models.ForeignKey(Need, on_delete=models.CASCADE, related_name="proposals")
    declaration = models.ForeignKey(Declaration, on_delete=models.PROTECT, related_name="proposals")
    holder = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="proposals")
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    message = models.TextField(_("message"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["need", "declaration"], name="one_proposal_per_listing_and_need")]

    def __str__(self):
        return f"{self.declaration_id} → {self.need_id}"


class SavedSearch(models.Model):
    """A signed-in buyer's search (its query string), checked for new matching listings."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_searches")
    name = models.CharField(_("name"), max_length=100)
    query_string = models.CharField(max_length=2000)
    notify = models.BooleanField(_("notify me of new listings"), default=True)
    last_notified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.name


class FunnelEvent(models.Model):
    """One step of a buyer's way to a licence, per listing (view, save, notice started, licence taken) or per
    need (proposal): counted for the IP office's figures."""

    class Kind(models.TextChoices):
        VIEW = "view", _("Listing viewed")
        SAVE = "save", _("Listing saved")
        NOTICE = "notice", _("Notice started")
        LICENCE = "licence", _("Licence taken")
        PROPOSAL = "proposal", _("Proposal made")

    kind = models.CharField(max_length=10, choices=Kind.choices)
    declaration = models.ForeignKey(Declaration, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    need = models.ForeignKey(Need, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    organisation = models.ForeignKey(Organisation, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["declaration", "kind"]), models.Index(fields=["need", "kind"])]

    def __str__(self):
        return f"{self.kind} {self.declaration_id or self.need_id}"
