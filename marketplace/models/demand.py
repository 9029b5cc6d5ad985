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
    # The need's words as the matching counts them ({"text_hash", "tokens": [[word, count], ...]}), stored when
    # it is posted or edited (marketplace.matching.index.need_terms) so that a batch refresh segments nothing;
    # null or a stale hash: the matching segments the text itself.
    match_terms = models.JSONField(null=True, blank=True, editable=False)

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
    """A buyer's step towards a licence that leaves no other record: a listing viewed or saved. The later steps
    are counted from their own tables (notices and licences from licensing.Licence, proposals from Proposal), so
    each step has one source of truth; marketplace.listings.funnel puts them together."""

    class Kind(models.TextChoices):
        VIEW = "view", _("Listing viewed")
        SAVE = "save", _("Listing saved")

    kind = models.CharField(max_length=10, choices=Kind.choices)
    declaration = models.ForeignKey(Declaration, on_delete=models.CASCADE, related_name="+")
    organisation = models.ForeignKey(Organisation, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["declaration", "kind"])]

    def __str__(self):
        return f"{self.kind} {self.declaration_id}"


class SavedListing(models.Model):
    """A listing a signed-in buyer keeps for later (its watch list)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_listings")
    declaration = models.ForeignKey(Declaration, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["user", "declaration"], name="one_save_per_user_and_listing")]

    def __str__(self):
        return f"{self.user_id} ♥ {self.declaration_id}"


class MatchSide(models.TextChoices):
    # Each side is ranked and stored on its own: a need's best listings, and a listing's best needs. The
    # text similarity is fitted on each side's corpus (the market's listings with the need; the open needs
    # with the listing), so one pair may score a little differently seen from the two sides; each page shows
    # its own side's ranking.
    NEED = "need", _("Listings recommended for a need")
    LISTING = "listing", _("Needs a listing answers")


class StoredMatch(models.Model):
    """One ranked, explained match as the last background refresh computed it (marketplace.matching.services)."""

    side = models.CharField(max_length=10, choices=MatchSide.choices)
    need = models.ForeignKey(Need, on_delete=models.CASCADE, related_name="stored_matches")
    declaration = models.ForeignKey(Declaration, on_delete=models.CASCADE, related_name="+")
    rank = models.PositiveSmallIntegerField()
    # 0–1; a ranking score, not money, so a float is fine.
    score = models.FloatField()
    explanation = models.JSONField()
    computed_at = models.DateTimeField()
    first_seen_at = models.DateTimeField()
    # When the people on this side were told about it (strong new matches only).
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["side", "rank"]
        constraints = [models.UniqueConstraint(fields=["side", "need", "declaration"], name="one_match_per_side_and_pair")]
        indexes = [models.Index(fields=["side", "declaration", "rank"])]

    def __str__(self):
        return f"{self.side} {self.need_id}↔{self.declaration_id} {self.score:.2f}"


class MatchRefresh(models.Model):
    """When the matches of one need or one listing were last asked for and last computed: the pages show
    "matching in progress" while a refresh is pending, and the refresh command finds stale ones."""

    side = models.CharField(max_length=10, choices=MatchSide.choices)
    need = models.OneToOneField(Need, on_delete=models.CASCADE, null=True, blank=True, related_name="match_refresh")
    declaration = models.OneToOneField(Declaration, on_delete=models.CASCADE, null=True, blank=True,
                                       related_name="match_refresh")
    requested_at = models.DateTimeField()
    refreshed_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        constraints = [models.CheckConstraint(
            condition=(Q(side="need", need__isnull=False, declaration__isnull=True)
                       | Q(side="listing", need__isnull=True, declaration__isnull=False)),
            name="match_refresh_one_subject")]

    def __str__(self):
        return f"{self.side} {self.need_id or self.declaration_id}"

    @property
    def pending(self) -> bool:
        return self.refreshed_at is None or self.refreshed_at < self.requested_at


class StatisticsSnapshot(models.Model):
    """One month's indicators and breakdowns as computed by ``compute_statistics`` (marketplace.office.statistics):
    what the IP office publishes, kept stable once computed; the dashboard's trends read these."""

    month = models.DateField(help_text="first day of the month")
    quick_licence_days = models.PositiveSmallIntegerField()
    indicators = models.JSONField()
    breakdowns = models.JSONField()
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["-month"]
        constraints = [models.UniqueConstraint(fields=["month", "quick_licence_days"], name="one_snapshot_per_month")]

    def __str__(self):
        return f"{self.month:%Y-%m} (N={self.quick_licence_days})"

