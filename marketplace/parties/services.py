"""Writes on parties: sign-up, organisation profile, membership. Each function validates with
full_clean() inside a transaction, so a failure writes nothing."""

from django.contrib.auth.models import Group
from django.db import transaction

from marketplace.parties import listeners
from marketplace.parties.models import Membership, MembershipRole, Organisation, OrganisationKind, User


# Not in marketplace.exceptions: parties are the ground floor that licensing and patents import, so they import nothing above.
class PartiesPermissionDenied(PermissionError):
    """The acting user may not do this to this organisation."""


def _unique_slug(base: str) -> str:
    slug, n = base[:70] or "org", 2
    while Organisation.objects.filter(slug=slug).exists():
        slug, n = f"{base[:70]}-{n}", n + 1
    return slug


@transaction.atomic
def organisation_register(
    *,
    email: str,
    password: str,
    first_name: str = "",
    last_name: str = "",
    kind: str,
    name_zh: str,
    name_en: str = "",
    uscc: str | None,
    province: str,
    city: str = "",
    is_holder: bool,
    is_licensee: bool,
) -> Membership:
    """Create a user, a new organisation and the user's admin membership, all or nothing.

    Raises ValidationError when any field is invalid; the IP office cannot be self-registered."""
    from django.core.exceptions import ValidationError
    from django.utils.text import slugify

    if kind == OrganisationKind.IP_OFFICE:
        raise ValidationError({"kind": "The IP office account is created by the platform operator."})
    user = User(email=email, username=email, first_name=first_name, last_name=last_name)
    user.set_password(password)
    user.full_clean()
    user.save()
    organisation = Organisation(
        kind=kind,
        name_zh=name_zh,
        name_en=name_en,
        uscc=uscc or None,
        province=province,
        city=city,
        is_holder=is_holder,
        is_licensee=is_licensee,
        contact_email=email,
    )
    organisation.slug = _unique_slug(slugify(name_en) or f"org-{(uscc or email.split('@')[0]).lower()}")
    organisation.full_clean()
    organisation.save()
    membership = Membership(user=user, organisation=organisation, role=MembershipRole.ADMIN)
    membership.full_clean()
    membership.save()
    return membership


def _require_admin(*, organisation: Organisation, by: User) -> None:
    if by.is_superuser:
        return
    if not Membership.objects.filter(organisation=organisation, user=by, role=MembershipRole.ADMIN).exists():
        raise PartiesPermissionDenied("Only an administrator of this organisation may do that.")


@transaction.atomic
def organisation_update(*, organisation: Organisation, by: User, **fields) -> Organisation:
    """Change an organisation's profile; only its admins may. The kind and the credit code are part of
    its legal identity and are not changed here."""
    _require_admin(organisation=organisation, by=by)
    editable = {"name_zh", "name_en", "province", "city", "size", "website", "contact_email", "contact_phone",
                "description", "is_holder", "is_licensee", "fee_reduction_qualified"}
    unknown = set(fields) - editable
    if unknown:
        raise ValueError(f"Not editable: {', '.join(sorted(unknown))}")
    organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
    for name, value in fields.items():
        setattr(organisation, name, value)
    organisation.full_clean()
    organisation.save()
    listeners.changed(listeners.ORGANISATION_CHANGE_LISTENERS, organisation_ids=[organisation.pk])
    return organisation


@transaction.atomic
def membership_add(*, organisation: Organisation, email: str, role: str, by: User) -> tuple[Membership, bool]:
    """Add a person to an organisation by e-mail. Creates an account without a usable password when the
    person is new (they set one through password reset). Returns (membership, user_was_created)."""
    _require_admin(organisation=organisation, by=by)
    email = User.objects.normalize_email(email).lower()
    user = User.objects.filter(email__iexact=email).first()
    created = user is None
    if created:
        user = User(email=email, username=email)
        user.set_unusable_password()
        user.full_clean()
        user.save()
    membership, _ = Membership.objects.get_or_create(user=user, organisation=organisation, defaults={"role": role})
    if membership.role != role:
        membership.role = role
    membership.full_clean()
    membership.save()
    _mirror_in_members_group(membership=membership, present=True)
    return membership, created


@transaction.atomic
def membership_remove(*, membership: Membership, by: User) -> None:
    """Remove a member. An organisation always keeps at least one admin."""
    from django.core.exceptions import ValidationError

    _require_admin(organisation=membership.organisation, by=by)
    admins = Membership.objects.select_for_update().filter(
        organisation=membership.organisation, role=MembershipRole.ADMIN
    )
    if membership.is_admin and admins.count() <= 1:
        raise ValidationError("An organisation must keep at least one administrator.")
    _mirror_in_members_group(membership=membership, present=False)
    membership.delete()


def _mirror_in_members_group(*, membership: Membership, present: bool) -> None:
    """Keep the organisation's members group, when one exists, in step with its memberships: the rights
    an app above grants to the group follow people in and out of the organisation."""
    group = Group.objects.filter(name=membership.organisation.members_group_name).first()
    if group is None:
        return
    if present:
        membership.user.groups.add(group)
    else:
        membership.user.groups.remove(group)
