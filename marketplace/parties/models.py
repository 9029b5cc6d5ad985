from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from marketplace.parties.validators import normalize_uscc, validate_uscc


class EmailUserManager(UserManager):
    def _create_user(self, username, email, password, **extra_fields):
        # People sign in with their e-mail; the username mirrors it so Wagtail's admin keeps working.
        email = self.normalize_email(email or username)
        return super()._create_user(username or email, email, password, **extra_fields)

    def create_user(self, email=None, password=None, **extra_fields):
        extra_fields.setdefault("username", email)
        return super().create_user(email=email, password=password, **extra_fields)

    def create_superuser(self, email=None, password=None, **extra_fields):
        extra_fields.setdefault("username", email)
        return super().create_superuser(email=email, password=password, **extra_fields)


class User(AbstractUser):
    """A person using the platform. Signs in with e-mail; acts through organisation memberships."""

    email = models.EmailField(_("e-mail address"), unique=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = ["username"]

    objects = EmailUserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [models.UniqueConstraint(Lower("email"), name="user_email_ci_unique")]

    def clean(self):
        super().clean()
        self.email = type(self).objects.normalize_email(self.email).lower()

    def __str__(self):
        return self.get_full_name() or self.email


class OrganisationKind(models.TextChoices):
    UNIVERSITY = "university", _("University")
    INSTITUTE = "institute", _("Research institute")
    ENTERPRISE = "enterprise", _("Enterprise")
    INDIVIDUAL = "individual", _("Individual")
    IP_OFFICE = "ip_office", _("IP office")


class OrganisationSize(models.TextChoices):
    """An enterprise's size class under the SME classification rules (《中小企业划型标准规定》, MIIT and others
    2011 No. 300): what the IP office's statistics break licensees down by. Not stated for universities,
    institutes, individuals and the IP office."""

    LARGE = "large", _("Large enterprise")
    MEDIUM = "medium", _("Medium-sized enterprise")
    SMALL = "small", _("Small enterprise")
    MICRO = "micro", _("Micro enterprise")


class Organisation(models.Model):
    """A party of the marketplace: a patent holder, a licensee, both, or the IP office."""

    kind = models.CharField(_("kind"), max_length=20, choices=OrganisationKind.choices)
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    name_zh = models.CharField(_("legal name (Chinese)"), max_length=200)
    name_en = models.CharField(_("legal name (English)"), max_length=200, blank=True)
    uscc = models.CharField(
        _("unified social credit code"),
        max_length=18,
        unique=True,
        null=True,
        blank=True,
        help_text=_("统一社会信用代码, 18 characters (GB 32100-2015). Not required for individuals."),
    )
    province = models.CharField(_("province"), max_length=40)
    # db_default too: bulk loaders that write organisations column by column (bench.generate) need not know it.
    size = models.CharField(_("enterprise size"), max_length=10, choices=OrganisationSize.choices, blank=True,
                            default="", db_default="",
                            help_text=_("Enterprises only: large, medium-sized, small or micro under the SME "
                                        "classification rules."))
    city = models.CharField(_("city"), max_length=40, blank=True)
    is_holder = models.BooleanField(_("acts as patent holder"), default=False)
    is_licensee = models.BooleanField(_("acts as licensee"), default=False)
    # The small-entity fee reduction (专利收费减缴办法, 财税〔2016〕78号, art. 3): CNIPA decides it on the holder's
    # request; the platform only needs to know it was granted, to compare it with the open-licence reduction.
    fee_reduction_qualified = models.BooleanField(
        _("qualifies for the small-entity fee reduction"), default=False, db_default=False,
        help_text=_("CNIPA granted the reduction of patent fees for your annual fees: an individual, a small "
                    "enterprise, a public institution or a non-profit research institute."))
    website = models.URLField(_("website"), blank=True)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=40, blank=True)
    description = models.TextField(_("description"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["name_zh"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind="individual") | models.Q(uscc__isnull=False),
                name="organisation_uscc_required_unless_individual",
            ),
        ]

    def __str__(self):
        return self.name_zh if not self.name_en else f"{self.name_zh} ({self.name_en})"

    @property
    def is_ip_office(self) -> bool:
        return self.kind == OrganisationKind.IP_OFFICE

    @property
    def members_group_name(self) -> str:
        """The Django auth group that mirrors this organisation's members, when an app above has created
        it to grant them rights (the marketplace does, so holders can edit their listings in the CMS).
        The slug is stable: organisation_update never changes it."""
        return f"Organisation members: {self.slug}"

    def display_name(self, language: str | None = None) -> str:
        if language and language.startswith("en") and self.name_en:
            return self.name_en
        return self.name_zh

    def clean(self):
        if self.uscc:
            self.uscc = normalize_uscc(self.uscc)
            try:
                validate_uscc(self.uscc)
            except ValidationError as exc:
                raise ValidationError({"uscc": exc}) from exc
        else:
            self.uscc = None
        if self.kind != OrganisationKind.INDIVIDUAL and not self.uscc:
            raise ValidationError({"uscc": _("Organisations other than individuals need a unified social credit code.")})
        if self.size and self.kind != OrganisationKind.ENTERPRISE:
            raise ValidationError({"size": _("Only an enterprise has a size class.")})
        if self.kind == OrganisationKind.IP_OFFICE and (self.is_holder or self.is_licensee):
            raise ValidationError(_("The IP office supervises the market; it neither holds nor licenses patents."))
        if self.kind != OrganisationKind.IP_OFFICE and not (self.is_holder or self.is_licensee):
            raise ValidationError(_("Choose at least one role: patent holder, licensee, or both."))
        if not self.slug:
            self.slug = slugify(self.name_en or "") or f"org-{self.uscc or 'individual'}".lower()


class MembershipRole(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    MEMBER = "member", _("Member")


class Membership(models.Model):
    """A user's place in an organisation. Admins manage the organisation and its members."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=10, choices=MembershipRole.choices, default=MembershipRole.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [models.UniqueConstraint(fields=["user", "organisation"], name="membership_unique")]

    def __str__(self):
        return f"{self.user} @ {self.organisation} ({self.get_role_display()})"

    @property
    def is_admin(self) -> bool:
        return self.role == MembershipRole.ADMIN


class Notification(models.Model):
    """An in-app message to one person (the same message usually goes out by e-mail too), shown in the inbox
    with an unread count in the navigation bar. Stored as a kind and its parameters, not as text, so that it
    reads in the language of whoever opens it (parties.notifications holds the wording)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=40)
    params = models.JSONField(default=dict)
    url = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["user", "read_at"])]

    def __str__(self):
        return f"{self.kind} → {self.user_id}"
