"""What the API answers, field by field (the OpenAPI schema is generated from these). Money is integer fen
with its currency, except where a field name says yuan; dates are ISO 8601; times are aware."""

from __future__ import annotations

from django.urls import reverse
from rest_framework import serializers

from licensing.ledger import statements
from licensing.models import Declaration, GazetteEntry, LicenceTermsVersion
from licensing.models.licences import Licence, LicenceBasis
from marketplace.models import Need, Proposal
from marketplace.parties.models import Organisation
from patents.models import Patent

# ------------------------------------------------------------------------------------------------ parties


class OrganisationRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organisation
        fields = ["slug", "name_zh", "name_en", "kind", "province"]


# ------------------------------------------------------------------------------------------------ listings


class ListingFeeSerializer(serializers.Serializer):
    form = serializers.CharField(help_text="lump_sum, royalty or entry_plus_royalty")
    label = serializers.CharField()
    first_amount_due_yuan = serializers.IntegerField(help_text="What a licensee pays up front, whole yuan.")
    currency = serializers.CharField()


class ListingHitSerializer(serializers.Serializer):
    """One listing (a ListingHit of marketplace.search.selectors, as the search page shows it)."""

    id = serializers.IntegerField(source="pk", help_text="The listing page's id.")
    number = serializers.CharField(help_text="Patent number.")
    title = serializers.CharField()
    holder = serializers.CharField(help_text="The holder's name in the caller's language.")
    fee = serializers.SerializerMethodField()
    grade = serializers.CharField(help_text="Effective grade A-D.")
    expiry_date = serializers.DateField(allow_null=True)
    url = serializers.CharField(help_text="The listing page, in the caller's language.")

    def get_fee(self, hit) -> ListingFeeSerializer:
        return ListingFeeSerializer(hit.as_dict()["fee"]).data


class FacetValueSerializer(serializers.Serializer):
    value = serializers.CharField()
    label = serializers.CharField()
    count = serializers.IntegerField()
    selected = serializers.BooleanField()


# ---------------------------------------------------------------------------------------------- declarations


class PatentRefSerializer(serializers.ModelSerializer):
    grade = serializers.SerializerMethodField(help_text="Effective grade: the holder's override, else computed.")

    class Meta:
        model = Patent
        fields = ["number", "kind", "title", "main_ipc", "technology_field", "filing_date", "expiry_date", "grade"]

    def get_grade(self, patent) -> str:
        return patent.grade_override or patent.grade_computed


class TermsVersionRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = LicenceTermsVersion
        fields = ["number", "name_zh", "name_en", "sha256"]


class DeclarationSerializer(serializers.ModelSerializer):
    patent = PatentRefSerializer()
    holder = OrganisationRefSerializer()
    terms = TermsVersionRefSerializer(source="terms_version", help_text="The standard terms version offered.")
    url = serializers.SerializerMethodField(help_text="The declaration's public page.")
    basis = serializers.SerializerMethodField(
        help_text="What a licence taken now rests on: `statutory` (CNIPA announced the declaration: an open licence "
                  "under Patent Law arts. 50-51) or `platform` (filed at CNIPA, not yet announced: an ordinary licence "
                  "contract); empty when no licence can be taken.")

    class Meta:
        model = Declaration
        fields = ["id", "cnipa_number", "announced_on", "state", "basis", "patent", "holder", "fee_form",
                  "lump_sum_fen", "entry_fee_fen", "royalty_base", "royalty_rate", "annual_minimum_fen", "currency",
                  "duration_years", "field_of_use_note", "terms", "filed_at", "withdrawal_filed_at",
                  "withdrawal_announced_on", "cnipa_withdrawal_number", "withdrawn_at", "withdrawal_reason", "url"]

    def get_url(self, declaration) -> str:
        return reverse("declaration_detail", args=[declaration.pk])

    def get_basis(self, declaration) -> str:
        if not declaration.is_licensable:
            return ""
        return LicenceBasis.STATUTORY if declaration.is_statutory else LicenceBasis.PLATFORM


class DeclarationRefSerializer(serializers.ModelSerializer):
    patent_number = serializers.CharField(source="patent.number")
    patent_title = serializers.CharField(source="patent.title")
    holder = serializers.CharField(source="holder.slug")

    class Meta:
        model = Declaration
        fields = ["id", "cnipa_number", "state", "patent_number", "patent_title", "holder", "fee_form"]


class GazetteEntrySerializer(serializers.ModelSerializer):
    declaration = DeclarationRefSerializer()

    class Meta:
        model = GazetteEntry
        fields = ["announcement_number", "kind", "announced_at", "note", "declaration"]


# ----------------------------------------------------------------------------------------- own organisation


class PatentSerializer(serializers.ModelSerializer):
    grade = serializers.CharField(source="effective_grade", help_text="The holder's override, else computed.")
    tags = serializers.SerializerMethodField()

    class Meta:
        model = Patent
        fields = ["id", "number", "kind", "title", "abstract", "main_ipc", "ipc_codes", "technology_field",
                  "filing_date", "grant_date", "expiry_date", "legal_status", "grade", "grade_computed",
                  "grade_override", "grade_score", "under_open_licence", "pledged", "tags"]

    def get_tags(self, patent) -> list[str]:
        return sorted(tag.name for tag in patent.tags.all())


class LicenceSerializer(serializers.ModelSerializer):
    patent = serializers.SerializerMethodField()
    licensor = OrganisationRefSerializer()
    licensee = OrganisationRefSerializer()
    declaration = serializers.IntegerField(source="declaration_id")

    class Meta:
        model = Licence
        fields = ["id", "certificate_number", "state", "basis", "declaration", "patent", "licensor", "licensee", "fee_form",
                  "lump_sum_fen", "entry_fee_fen", "royalty_base", "royalty_rate", "annual_minimum_fen",
                  "first_amount_fen", "currency", "duration_years", "notice_submitted_at", "starts_on", "ends_on",
                  "activated_at", "recording_number", "recorded_on", "terminated_at", "created_at"]

    def get_patent(self, licence) -> dict[str, str]:
        return {"number": licence.patent.number, "title": licence.patent.title}


class ProposalSerializer(serializers.ModelSerializer):
    declaration = DeclarationRefSerializer()

    class Meta:
        model = Proposal
        fields = ["id", "declaration", "message", "created_at"]


class NeedSerializer(serializers.ModelSerializer):
    organisation = serializers.CharField(source="organisation.slug")
    proposal_count = serializers.IntegerField()
    proposals = ProposalSerializer(many=True)

    class Meta:
        model = Need
        fields = ["id", "organisation", "state", "title", "description", "technology_field", "ipc_prefix",
                  "budget_min_fen", "budget_max_fen", "horizon_years", "expected_annual_net_sales_fen",
                  "preferred_fee_form", "region", "deadline", "anonymous", "public", "created_at", "proposal_count",
                  "proposals"]


class StatementOrganisationSerializer(serializers.ModelSerializer):
    perspectives = serializers.SerializerMethodField(help_text="The sides its statement can be read from.")
    url = serializers.SerializerMethodField(help_text="This organisation's statement in the API.")

    class Meta:
        model = Organisation
        fields = ["slug", "name_zh", "name_en", "kind", "perspectives", "url"]

    def get_perspectives(self, organisation) -> list[str]:
        return [str(p.value) for p in statements.perspectives_for_organisation(organisation=organisation)]

    def get_url(self, organisation) -> str:
        return reverse("api:statement", args=[organisation.slug])


class StatementLineSerializer(serializers.Serializer):
    date = serializers.DateField()
    kind = serializers.CharField()
    kind_label = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    account = serializers.CharField()
    account_label = serializers.CharField()
    licence_id = serializers.IntegerField(allow_null=True)
    licence_ref = serializers.CharField(allow_blank=True)
    counterparty = serializers.CharField(allow_blank=True)
    payment_id = serializers.IntegerField(allow_null=True)
    debit_fen = serializers.IntegerField()
    credit_fen = serializers.IntegerField()
    balance_fen = serializers.IntegerField()


class StatementSummarySerializer(serializers.Serializer):
    organisation = serializers.CharField(source="organisation.slug")
    perspective = serializers.CharField(help_text="holder: owed to the holder; licensee: paid by the licensee.")
    title = serializers.CharField()
    currency = serializers.CharField()
    total_debit_fen = serializers.IntegerField()
    total_credit_fen = serializers.IntegerField()
    balance_fen = serializers.IntegerField()


# ---------------------------------------------------------------------------------------------- statistics


class FiguresSerializer(serializers.Serializer):
    """Every indicator of docs/statistics.md for one period; null where there is nothing to measure."""

    period = serializers.CharField()
    as_of = serializers.CharField(help_text="ISO 8601 time the figures are as of.")
    quick_licence_days = serializers.IntegerField()
    declarations_published = serializers.IntegerField()
    declarations_withdrawn = serializers.IntegerField()
    patents_under_open_licence = serializers.IntegerField()
    licences_concluded = serializers.IntegerField()
    licences_free = serializers.IntegerField()
    licences_paid = serializers.IntegerField(help_text="Licences with a first amount due up front.")
    free_licence_share = serializers.FloatField(
        allow_null=True, help_text="Share 0-1 of the licences concluded with no fee of any kind.")
    fee_volume_fen = serializers.IntegerField()
    voucher_paid_fen = serializers.IntegerField(allow_null=True, help_text="Part of fee_volume_fen paid by vouchers.")
    voucher_share_of_fee_volume = serializers.FloatField(allow_null=True, help_text="Share 0-1.")
    quick_licence_deal_rate = serializers.FloatField(allow_null=True, help_text="Share 0-1.")
    quick_licence_rate_mature = serializers.BooleanField(allow_null=True)
    overall_conversion = serializers.FloatField(
        allow_null=True, help_text="Deal rate, share 0-1: declarations of the period licensed on the platform.")
    deal_rate_recorded = serializers.FloatField(
        allow_null=True, help_text="Deal rate, share 0-1: declarations of the period with a licence recorded at CNIPA.")
    declarations_announced = serializers.IntegerField(allow_null=True, help_text="Announced by CNIPA in the period.")
    deal_rate_announced = serializers.FloatField(
        allow_null=True, help_text="Share 0-1 of the declarations CNIPA announced in the period with a statutory licence.")
    deal_rate_announced_recorded = serializers.FloatField(
        allow_null=True, help_text="Share 0-1 of the same with a statutory licence recorded at CNIPA.")
    licences_statutory = serializers.IntegerField(allow_null=True, help_text="Licences concluded on the statutory basis.")
    median_days_to_first_licence = serializers.FloatField(allow_null=True)
    p90_days_to_first_licence = serializers.FloatField(allow_null=True)
    median_days_notice_to_payment = serializers.FloatField(allow_null=True)
    recording_compliance = serializers.FloatField(allow_null=True, help_text="Share 0-1.")
    licensed_patents = serializers.IntegerField(allow_null=True)
    licences_per_licensed_patent = serializers.FloatField(allow_null=True)
    multi_licensee_share = serializers.FloatField(
        allow_null=True, help_text="Share 0-1 of the patents licensed in the period with two or more licensees.")
    fee_reduction_granted_fen = serializers.IntegerField(
        allow_null=True, help_text="The 15% open-licence reduction of annual fees that fell due in the period.")
    fee_reduction_patents = serializers.IntegerField(allow_null=True)
    vouchers_issued = serializers.IntegerField(allow_null=True, help_text="Market-wide: null when filters narrow.")
    vouchers_issued_fen = serializers.IntegerField(allow_null=True, help_text="Market-wide: null when filters narrow.")
    vouchers_lapsed = serializers.IntegerField(allow_null=True, help_text="Market-wide: null when filters narrow.")
    vouchers_lapsed_fen = serializers.IntegerField(allow_null=True, help_text="Market-wide: null when filters narrow.")


class PeriodSerializer(serializers.Serializer):
    first = serializers.CharField(help_text="YYYY-MM")
    last = serializers.CharField(help_text="YYYY-MM")
    start = serializers.DateTimeField()
    end = serializers.DateTimeField(help_text="Exclusive.")


class TrendRowSerializer(serializers.Serializer):
    month = serializers.CharField()
    published_snapshot = serializers.BooleanField(source="published",
                                                  help_text="From the month's published snapshot, else live.")
    figures = FiguresSerializer()


class StatisticsSerializer(serializers.Serializer):
    period = PeriodSerializer()
    narrowed = serializers.BooleanField(help_text="Whether a filter narrows the declarations.")
    figures = FiguresSerializer()
    trend = TrendRowSerializer(many=True)


class BreakdownRowSerializer(FiguresSerializer):
    value = serializers.CharField(allow_blank=True, help_text="The dimension's value (empty: not stated).")
    label = serializers.CharField()


class DrillRowSerializer(serializers.Serializer):
    declaration = DeclarationRefSerializer()
    filed_at = serializers.DateTimeField(source="declaration.filed_at")
    first_licence_at = serializers.DateTimeField(allow_null=True)
    days_to_first_licence = serializers.FloatField(allow_null=True)
    quick_licence = serializers.BooleanField(source="quick")
    licences = serializers.IntegerField()


class ErrorDetailSerializer(serializers.Serializer):
    status = serializers.IntegerField()
    code = serializers.CharField()
    message = serializers.CharField()
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()),
                                   help_text="Field or query parameter → reasons it was refused.")


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()
