"""The IP office's statistics facts: one narrow row per declaration, licence and payment that the dashboard
counts, with the dimensions it filters and groups by and the dates its indicators test, already joined and
derived (a declaration's first licence, a patent's second licensee, a licence's recording deadline, a
payment's net amount). The dashboard's figures are grouped SQL over these rows (marketplace.office.facts)
instead of pandas over the wide licensing tables; ``rebuild_statistics_facts`` builds them, the change
listeners keep them (they hold copies, never the truth: the licensing tables stay the record)."""

from django.db import models


class _Dimensions(models.Model):
    """The dimensions every fact carries: its patent's field, kind and grade, its holder's (the licensor's)
    kind and region, and the fee form."""

    patent_id = models.BigIntegerField(db_index=True)
    holder_id = models.BigIntegerField()
    technology_field = models.SmallIntegerField(null=True)
    sector = models.CharField(max_length=40, blank=True)
    patent_kind = models.CharField(max_length=20, blank=True)
    holder_kind = models.CharField(max_length=20, blank=True)
    fee_form = models.CharField(max_length=20, blank=True)
    grade = models.CharField(max_length=2, blank=True)
    region = models.CharField(max_length=100, blank=True)

    class Meta:
        abstract = True


class DeclarationFact(_Dimensions):
    """A declaration filed at CNIPA, with what its cohort indicators need."""

    declaration_id = models.BigIntegerField(primary_key=True)
    filed_at = models.DateTimeField()
    filed_month = models.CharField(max_length=7, help_text="YYYY-MM, platform time zone")
    withdrawn_at = models.DateTimeField(null=True)
    withdrawn_month = models.CharField(max_length=7, blank=True)
    announced_on = models.DateField(null=True)
    announced_month = models.CharField(max_length=7, blank=True)
    first_licence_at = models.DateTimeField(null=True)
    days_to_first_licence = models.FloatField(null=True, help_text="publication → first licence, days")
    first_recorded_on = models.DateField(null=True)
    first_statutory_at = models.DateTimeField(null=True)
    first_statutory_recorded_on = models.DateField(null=True)

    class Meta:
        indexes = [models.Index(fields=["filed_at"], name="declfact_filed"),
                   models.Index(fields=["withdrawn_at"], name="declfact_withdrawn"),
                   models.Index(fields=["announced_on"], name="declfact_announced"),
                   # a board's cohort (days to first licence, the as-of corrections), index-only
                   models.Index(fields=["filed_at", "filed_month", "first_licence_at", "days_to_first_licence",
                                        "first_recorded_on", "holder_id", "holder_kind", "technology_field",
                                        "sector", "patent_kind", "fee_form", "grade", "region"],
                                name="declfact_cohort"),
                   # each holder's inventory funnel (statistics.inventory_funnel): distinct patents per holder
                   # counted in index order, without a temporary b-tree per group
                   models.Index(fields=["holder_id", "patent_id", "filed_at", "announced_on"],
                                name="declfact_funnel")]

    def __str__(self):
        return f"declaration {self.declaration_id}"


class LicenceFact(_Dimensions):
    """A licence taken (activated). ``fee_form`` is the licence's own; holder is the licensor."""

    licence_id = models.BigIntegerField(primary_key=True)
    declaration_id = models.BigIntegerField(null=True, db_index=True)
    licensee_id = models.BigIntegerField()
    basis = models.CharField(max_length=10, blank=True)
    licensee_size = models.CharField(max_length=20, blank=True)
    licensee_region = models.CharField(max_length=100, blank=True)
    licensee_province = models.CharField(max_length=100, blank=True, help_text="the region without its suffix")
    activated_at = models.DateTimeField()
    activated_month = models.CharField(max_length=7)
    free = models.BooleanField()
    first_amount_fen = models.BigIntegerField()
    days_notice_to_payment = models.FloatField(null=True)
    recording_deadline = models.DateField()
    recorded_on = models.DateField(null=True)
    second_licensee_month = models.CharField(
        max_length=7, blank=True, help_text="month its patent had a second distinct licensee (every licence)")

    class Meta:
        indexes = [models.Index(fields=["activated_at"], name="licfact_activated"),
                   # the licences not yet due for recording as of a day (the month aggregates' correction)
                   models.Index(fields=["recording_deadline"], name="licfact_deadline"),
                   # what a board reads of a period's licences besides its month aggregates, index-only
                   # (marketplace.office.monthly._LicenceRows): the range, then every column it reads
                   models.Index(fields=["activated_at", "activated_month", "patent_id", "second_licensee_month",
                                        "holder_id", "holder_kind", "first_amount_fen", "days_notice_to_payment",
                                        "recording_deadline", "recorded_on", "technology_field", "sector",
                                        "patent_kind", "fee_form", "grade", "region",
                                        "basis", "licensee_size", "licensee_region", "licensee_province"],
                                name="licfact_window"),
                   # each holder's inventory funnel (statistics.inventory_funnel), as declfact_funnel
                   models.Index(fields=["holder_id", "patent_id", "activated_at", "recorded_on"],
                                name="licfact_funnel")]

    def __str__(self):
        return f"licence {self.licence_id}"


class PaymentFact(_Dimensions):
    """A paid payment of a licence taken, net of refunds, with its licence's dimensions."""

    payment_id = models.BigIntegerField(primary_key=True)
    licence_id = models.BigIntegerField(db_index=True)
    declaration_id = models.BigIntegerField(null=True)
    basis = models.CharField(max_length=10, blank=True)
    licensee_size = models.CharField(max_length=20, blank=True)
    licensee_region = models.CharField(max_length=100, blank=True)
    licensee_province = models.CharField(max_length=100, blank=True)
    succeeded_at = models.DateTimeField()
    succeeded_month = models.CharField(max_length=7)
    net_fen = models.BigIntegerField()
    voucher_paid_fen = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["succeeded_at"], name="payfact_succeeded"),
                   # a narrowed board's payments: those of the kept declarations in the period (over
                   # payfact_succeeded, SQLite tested every payment of the period for membership: 0.6 s at 100k)
                   models.Index(fields=["declaration_id", "succeeded_at"], name="payfact_declaration")]

    def __str__(self):
        return f"payment {self.payment_id}"


class StatisticsFactsBuild(models.Model):
    """Present once the facts were built (``rebuild_statistics_facts``): from then on the listeners keep them
    and the dashboard reads them; before, it computes from the licensing tables."""

    built_at = models.DateTimeField()
    rows = models.BigIntegerField(default=0)
    month_aggregates = models.BooleanField(
        default=False, help_text="StatisticsMonthAggregate built with the facts (a build before them has none)")
    month_sets = models.BooleanField(
        default=False, help_text="StatisticsMonthSet built with the facts (a build before them has none)")

    def __str__(self):
        return f"facts built {self.built_at:%Y-%m-%d %H:%M}"


class MonthCell(models.Model):
    """A cell of the month aggregates and month sets: what is counted (``source``), its month, at most one filter
    value and at most one breakdown value."""

    source = models.CharField(max_length=10)
    month = models.CharField(max_length=7, help_text="YYYY-MM, platform time zone")
    filter_dim = models.CharField(max_length=20, blank=True)
    filter_value = models.CharField(max_length=100, blank=True)
    by_dim = models.CharField(max_length=20, blank=True)
    by_value = models.CharField(max_length=210, blank=True)

    class Meta:
        abstract = True


class StatisticsMonthAggregate(MonthCell):
    """Counts and sums of the statistics facts by month and by (at most) one filter and one breakdown
    dimension (marketplace.office.monthly, which builds and reads them): what a dashboard reads instead of
    scanning the facts. Kept with the facts (the same listeners, in the same transaction: the old facts'
    contributions out, the new ones in) and rebuilt with them. ``source`` names the rows counted and the
    month they are counted in (declarations by publication, withdrawal, announcement; the stock of patents
    under open licence as +1/-1 at its months; licences by activation; payments by success)."""

    n = models.BigIntegerField(default=0)
    licensed = models.BigIntegerField(default=0)
    quick = models.BigIntegerField(default=0)
    recorded_deals = models.BigIntegerField(default=0)
    statutory_deals = models.BigIntegerField(default=0)
    statutory_recorded = models.BigIntegerField(default=0)
    free = models.BigIntegerField(default=0)
    paid = models.BigIntegerField(default=0)
    statutory = models.BigIntegerField(default=0)
    due = models.BigIntegerField(default=0)
    recorded = models.BigIntegerField(default=0)
    fee_volume = models.BigIntegerField(default=0)
    voucher_paid = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(
            fields=["filter_dim", "filter_value", "by_dim", "month", "source", "by_value"],
            name="one_month_aggregate_per_cell")]

    def __str__(self):
        return f"{self.source} {self.month} {self.filter_dim}={self.filter_value} by {self.by_dim}={self.by_value}"


class StatisticsMonthSet(MonthCell):
    """What of a month's licences does not add up over months, per cell of the month aggregates (a month, at
    most one filter value, at most one breakdown value; marketplace.office.month_sets builds and reads them):
    ``patents`` the patents licensed in the cell (a Roaring bitmap: a period's distinct patents are the
    cardinality of the union of its months' bitmaps), ``second`` the patents whose second distinct licensee
    (among the licences the filter keeps) came in the month, ``paid_days`` the days from notice to payment
    of the cell's paid licences (float64: a median is read from the values themselves, exact to the digit).
    Kept with the facts, patent by patent (the patent is the unit of a change), and rebuilt with them."""

    key = models.CharField(max_length=400, unique=True, help_text="source|month|filter dim|value|by dim|value")
    data = models.BinaryField()

    class Meta:
        indexes = [models.Index(fields=["filter_dim", "filter_value", "source", "by_dim", "month"],
                                name="monthset_read")]

    def __str__(self):
        return self.key
