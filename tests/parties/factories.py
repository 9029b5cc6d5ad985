import factory
from factory.django import DjangoModelFactory

from marketplace.parties.models import Membership, MembershipRole, Organisation, OrganisationKind, User
from marketplace.parties.validators import USCC_ALPHABET, uscc_check_character


def make_uscc(n: int, authority: str = "9", category: str = "1", region: str = "440300") -> str:
    """A valid unified social credit code, distinct for each n."""
    body = ""
    for _ in range(9):
        n, r = divmod(n, len(USCC_ALPHABET))
        body = USCC_ALPHABET[r] + body
    first17 = f"{authority}{category}{region}{body}"
    return first17 + uscc_check_character(first17)


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.cn")
    username = factory.SelfAttribute("email")
    first_name = "San"
    last_name = "Zhang"
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery-9")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class OrganisationFactory(DjangoModelFactory):
    class Meta:
        model = Organisation

    kind = OrganisationKind.ENTERPRISE
    slug = factory.Sequence(lambda n: f"org-{n}")
    name_zh = factory.Sequence(lambda n: f"测试科技有限公司{n}")
    name_en = factory.Sequence(lambda n: f"Test Technology Co. {n}")
    uscc = factory.Sequence(lambda n: make_uscc(n + 1000))
    province = "广东省"
    city = "深圳市"
    is_holder = False
    is_licensee = True


class HolderFactory(OrganisationFactory):
    kind = OrganisationKind.UNIVERSITY
    name_zh = factory.Sequence(lambda n: f"测试大学{n}")
    name_en = factory.Sequence(lambda n: f"Test University {n}")
    uscc = factory.Sequence(lambda n: make_uscc(n + 50_000, authority="1", category="2", region="110000"))
    is_holder = True
    is_licensee = False


class IPOfficeFactory(OrganisationFactory):
    kind = OrganisationKind.IP_OFFICE
    name_zh = "测试市知识产权局"
    uscc = factory.Sequence(lambda n: make_uscc(n + 90_000, authority="1", category="1"))
    is_holder = False
    is_licensee = False


class MembershipFactory(DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    role = MembershipRole.MEMBER


def member(organisation, role=MembershipRole.MEMBER, **user):
    """A new user who belongs to `organisation` with `role`; `user` fields go to the UserFactory."""
    return MembershipFactory(user=UserFactory(**user), organisation=organisation, role=role).user


PASSWORD = "correct-horse-battery-9"
