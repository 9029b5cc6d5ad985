"""Demo data as code. Used by `manage.py seed_demo`; later capabilities add their own seeders here."""

import json
from decimal import Decimal

from django.contrib.auth.models import Group
from wagtail.models import Collection, Locale, Page, Site

from marketplace.parties.models import Membership, MembershipRole, Organisation, OrganisationKind, User
from marketplace.parties.validators import uscc_check_character

DEMO_PASSWORD = "demo-pass-2026"  # noqa: S105 - published demo credential, documented in the README


def demo_uscc(first17: str) -> str:
    return first17 + uscc_check_character(first17)


DEMO_ORGANISATIONS = [
    # slug, kind, name_zh, name_en, first 17 chars of the credit code, province, city, holder, licensee
    ("demo-university", OrganisationKind.UNIVERSITY, "示范理工大学", "Demo University of Technology",
     "12110000400012345", "北京市", "北京市", True, False),
    ("demo-institute", OrganisationKind.INSTITUTE, "示范先进材料研究院", "Demo Institute of Advanced Materials",
     "12310000425012346", "上海市", "上海市", True, False),
    ("demo-company", OrganisationKind.ENTERPRISE, "深圳示范智能科技有限公司", "Demo Intelligent Technology Co., Ltd.",
     "91440300MA5DE4X01", "广东省", "深圳市", False, True),
    ("demo-startup", OrganisationKind.ENTERPRISE, "杭州示范新能源有限公司", "Demo New Energy (Hangzhou) Co., Ltd.",
     "91330100MA2DE4X02", "浙江省", "杭州市", False, True),
    ("demo-ip-office", OrganisationKind.IP_OFFICE, "示范市知识产权局", "Demo City Intellectual Property Office",
     "11440300007DE4X03", "广东省", "深圳市", False, False),
]

# Enterprise size classes (《中小企业划型标准规定》): the IP office's statistics break licensees down by them.
DEMO_SIZES = {"demo-company": "medium", "demo-startup": "small"}

DEMO_USERS = [
    # e-mail, first, last, organisation slug, role, description
    ("holder@demo.test", "Wei", "Zhang", "demo-university", MembershipRole.ADMIN, "holder admin of demo-university"),
    ("licensee@demo.test", "Na", "Li", "demo-company", MembershipRole.ADMIN, "licensee admin of demo-company"),
    ("startup@demo.test", "Lei", "Wang", "demo-startup", MembershipRole.ADMIN, "licensee admin of demo-startup"),
    ("ipoffice@demo.test", "Min", "Chen", "demo-ip-office", MembershipRole.ADMIN, "IP office staff"),
    ("institute@demo.test", "Jing", "Liu", "demo-institute", MembershipRole.ADMIN, "holder admin of demo-institute"),
]


def _user(email: str, first: str = "", last: str = "", **flags) -> User:
    user = User.objects.filter(email=email).first() or User(email=email, username=email)
    user.first_name, user.last_name = first, last
    for name, value in flags.items():
        setattr(user, name, value)
    user.set_password(DEMO_PASSWORD)
    user.save()
    return user


def seed_parties() -> list[tuple[str, str]]:
    for slug, kind, name_zh, name_en, first17, province, city, holder, licensee in DEMO_ORGANISATIONS:
        org = Organisation.objects.filter(slug=slug).first() or Organisation(slug=slug)
        org.kind, org.name_zh, org.name_en, org.uscc = kind, name_zh, name_en, demo_uscc(first17)
        org.province, org.city, org.is_holder, org.is_licensee = province, city, holder, licensee
        org.size = DEMO_SIZES.get(slug, "")
        org.contact_email = f"contact@{slug}.demo.test"
        org.full_clean()
        org.save()
    listed = []
    for email, first, last, slug, role, what in DEMO_USERS:
        user = _user(email, first, last)
        Membership.objects.update_or_create(
            user=user, organisation=Organisation.objects.get(slug=slug), defaults={"role": role}
        )
        listed.append((email, what))
    editor = _user("editor@demo.test", "Hua", "Zhou", is_staff=False)
    # Wagtail's Editors write; its Moderators also publish and approve holders' listing edits.
    editor.groups.add(*Group.objects.filter(name__in=["Editors", "Moderators"]))
    listed.append(("editor@demo.test", "Wagtail editor (/admin/)"))
    _user("admin@demo.test", "Site", "Admin", is_staff=True, is_superuser=True)
    listed.append(("admin@demo.test", "superuser (/admin/, /django-admin/)"))
    return listed


HOME_CONTENT = {
    "zh-hans": {
        "title": "专利开放许可交易平台",
        "hero_title": "专利开放许可，一站完成",
        "hero_text": "专利权人盘点、分级、分类并公开声明开放许可；企业按公开条件书面通知并在线付费，立即取得可验证的普通许可；"
                     "知识产权局监测快速许可成交率，并为知识产权证券化试点组建资产池。",
    },
    "en": {
        "title": "Open Patent Licensing Marketplace",
        "hero_title": "Open patent licensing, end to end",
        "hero_text": "Patent holders inventory, grade and classify their patents and declare them open for licensing; "
                     "companies notify in writing, pay online and get a verifiable non-exclusive licence at once; "
                     "the IP office watches the quick-licence deal rate and builds pools for IP-securitization pilots.",
    },
}

GUIDE_CONTENT = {
    "zh-hans": {
        "title": "开放许可制度说明",
        "slug": "open-licensing",
        "introduction": "《专利法》（2020年修正）第五十条至第五十二条确立的专利开放许可制度。",
        "body": [
            ("heading", {"text": "什么是开放许可", "size": "h2"}),
            ("quote", {"text": "专利权人自愿以书面方式向国务院专利行政部门声明愿意许可任何单位或者个人实施其专利，"
                               "并明确许可使用费支付方式、标准的，由国务院专利行政部门予以公告，实行开放许可。",
                       "source": "《专利法》第五十条"}),
            ("paragraph", "<p>任何单位或者个人有意愿实施开放许可的专利的，以书面方式通知专利权人，"
                          "并依照公告的许可使用费支付方式、标准支付许可使用费后，即获得专利实施许可。"
                          "开放许可实施期间，专利权人不得就该专利给予独占或者排他许可。</p>"),
            ("paragraph", "<p>撤回开放许可声明的，不影响在先给予的开放许可的效力。</p>"),
        ],
    },
    "en": {
        "title": "How open licensing works",
        "slug": "open-licensing",
        "introduction": "The open-licensing system of the China Patent Law (2020 amendment), articles 50 to 52.",
        "body": [
            ("heading", {"text": "What open licensing is", "size": "h2"}),
            ("quote", {"text": "Where a patentee voluntarily declares in writing to the patent administration department "
                               "under the State Council that it is willing to license any entity or individual to exploit "
                               "its patent, and specifies the method and standard of paying the royalties, the department "
                               "announces it and the open licence is implemented.",
                       "source": "China Patent Law, art. 50"}),
            ("paragraph", "<p>Anyone who wishes to exploit a patent under open licence notifies the patentee in "
                          "writing and pays the royalty on the announced terms, and thereby obtains a licence. While "
                          "the open licence stands the patentee may not grant an exclusive or sole licence.</p>"),
            ("paragraph", "<p>Withdrawing an open-licence declaration does not affect licences already granted.</p>"),
        ],
    },
}


def _locale(code: str) -> Locale:
    return Locale.objects.get_or_create(language_code=code)[0]


def seed_pages() -> None:
    """A zh-hans home page as the site root with an English translation, plus a guide in both languages."""
    from cms.models import ContentPage, HomePage

    zh, en = _locale("zh-hans"), _locale("en")
    # A flushed database (e.g. after a transactional test) has no tree root; recreate it like Wagtail's migration.
    root = Page.get_first_root_node() or Page.add_root(instance=Page(title="Root", slug="root", locale=zh))
    # ...and no root media collection either (holders' listing collections are made under it).
    if Collection.get_first_root_node() is None:
        Collection.add_root(name="Root")
    home = HomePage.objects.filter(locale=zh).first()
    if home is None:
        # Wagtail's migration leaves a plain "Welcome" page at /home/; the demo replaces it.
        for stale in root.get_children().exact_type(Page):
            stale.delete()
        home = root.add_child(instance=HomePage(locale=zh, slug="home", **HOME_CONTENT["zh-hans"]))
        site = Site.objects.filter(is_default_site=True).first() or Site(
            hostname="localhost", port=80, is_default_site=True, site_name="Patent marketplace"
        )
        site.root_page = home
        site.save()
    _publish(home, HOME_CONTENT["zh-hans"])
    home_en = home.get_translation_or_none(en)
    if home_en is None:
        home_en = home.copy_for_translation(en)
    _publish(home_en.specific, HOME_CONTENT["en"])

    from cms.models import PlatformSettings

    platform = PlatformSettings.for_site(Site.objects.get(is_default_site=True))
    platform.platform_fee_rate, platform.contact_email = Decimal("1.50"), "service@patent-market.demo.test"
    platform.contact_phone = "0755-0000 0000"
    platform.save()

    guide = ContentPage.objects.child_of(home).filter(slug="open-licensing").first()
    if guide is None:
        guide = home.add_child(instance=ContentPage(locale=zh, **_page_fields(GUIDE_CONTENT["zh-hans"])))
    _publish(guide, _page_fields(GUIDE_CONTENT["zh-hans"]))
    guide_en = guide.get_translation_or_none(en)
    if guide_en is None:
        guide_en = guide.copy_for_translation(en)
    _publish(guide_en.specific, _page_fields(GUIDE_CONTENT["en"]))


def _page_fields(content: dict) -> dict:
    fields = dict(content)
    # StreamField takes its raw JSON form; block values here are the blocks' raw (JSON) values.
    fields["body"] = json.dumps([{"type": kind, "value": value} for kind, value in content["body"]])
    return fields


def _publish(page, fields: dict) -> None:
    for name, value in fields.items():
        setattr(page, name, value)
    page.save_revision().publish()


DEMO_PORTFOLIOS = [
    # holder slug, admin e-mail, number of patents, generator seed, first serial (keeps numbers apart)
    ("demo-university", "holder@demo.test", 300, 2026, 100_000),
    ("demo-institute", "institute@demo.test", 200, 2027, 600_000),
]


def seed_patents() -> list[str]:
    """Give the demo holders a few hundred realistic patents through the real import service, so the
    demo shows exactly what an imported inventory looks like. Re-running finds them unchanged."""
    import io

    from marketplace.demo.synthetic import generate_inventory, to_chinese_headers
    from patents.inventory.services import inventory_batch_create, inventory_batch_run
    from patents.models import InventoryBatch

    lines = []
    for slug, email, count, seed, start_serial in DEMO_PORTFOLIOS:
        holder = Organisation.objects.get(slug=slug)
        # Every demo patent has its Chinese title and abstract and the holder's English ones, so each language's
        # pages show their own language (bench/ keeps the generator's English-only share).
        frame = generate_inventory(count, seed=seed, start_serial=start_serial, language_mix=1.0, english_text=True)
        if slug == "demo-institute":
            frame = to_chinese_headers(frame)  # one holder's file comes as Chinese Excel writes it
        buffer = io.StringIO()
        frame.to_csv(buffer, index=False)
        encoding = "gb18030" if slug == "demo-institute" else "utf-8"
        batch = inventory_batch_create(holder=holder, run_by=User.objects.get(email=email),
                                       source=InventoryBatch.Source.CLI, filename=f"{slug}-inventory.csv",
                                       content=buffer.getvalue().encode(encoding), language="en")
        summary = inventory_batch_run(batch=batch)
        lines.append(f"{slug}: {summary.created} created, {summary.updated} updated, "
                     f"{summary.unchanged} unchanged, {summary.rejected} rejected")
    return lines


STANDARD_TERMS = {
    "name_zh": "专利开放许可标准条款",
    "name_en": "Standard open-licence terms",
    "clauses_zh": (
        "第一条 许可性质：本许可为普通（非独占）实施许可，许可地域为中国大陆。\n"
        "第二条 许可范围：被许可人可以制造、使用、许诺销售、销售、进口专利产品，或者使用专利方法。\n"
        "第三条 许可使用费：按照开放许可声明公告的支付方式和标准支付；提成费以年度为结算周期，"
        "被许可人应于每个许可年度结束后30日内报告净销售额或利润并付款。\n"
        "第四条 许可期限：自许可使用费首期款项到账之日起算，期限以声明为准，且不超过专利权期限。\n"
        "第五条 撤回：专利权人撤回开放许可声明的，不影响在先给予的开放许可的效力。\n"
        "第六条 争议解决：协商不成的，可以请求国务院专利行政部门进行调解，或者依法向人民法院起诉。"
    ),
    "clauses_en": (
        "1. Nature: an ordinary (non-exclusive) licence to exploit the patent in mainland China.\n"
        "2. Scope: the licensee may make, use, offer to sell, sell and import patented products, or use the "
        "patented process.\n"
        "3. Royalties: paid in the way and at the rate announced in the open-licence declaration; royalties are "
        "settled yearly, the licensee reporting net sales or profit and paying within 30 days after each "
        "licence year.\n"
        "4. Term: from the day the first amount is received, for the declared duration, never beyond the "
        "patent's term.\n"
        "5. Withdrawal: withdrawing the declaration does not affect licences already granted.\n"
        "6. Disputes: failing agreement, either party may ask the patent administration department under the "
        "State Council to mediate, or sue in a people's court."
    ),
}

DEMO_OFFERS = [
    {"fee_form": "lump_sum", "lump_sum_fen": 5_000_000, "duration_years": 3},
    {"fee_form": "lump_sum", "lump_sum_fen": 12_000_000, "duration_years": 5},
    {"fee_form": "royalty", "royalty_base": "net_sales", "royalty_rate": "3.00", "annual_minimum_fen": 2_000_000,
     "duration_years": 3},
    {"fee_form": "royalty", "royalty_base": "profit", "royalty_rate": "10.00", "duration_years": 2},
    {"fee_form": "entry_plus_royalty", "entry_fee_fen": 3_000_000, "royalty_base": "net_sales",
     "royalty_rate": "2.50", "duration_years": 4},
    {"fee_form": "entry_plus_royalty", "entry_fee_fen": 8_000_000, "royalty_base": "net_sales",
     "royalty_rate": "1.50", "annual_minimum_fen": 1_000_000, "duration_years": 5},
]

# Implementing Regulations art. 85, Guidelines Part V ch. 11 3.3: a declaration states how its fee was calculated.
DEMO_FEE_BASIS = ("参考同技术领域已备案许可合同的许可费水平、专利剩余保护期和预期市场规模确定。 Set from the fees of recorded "
                  "licence contracts in the same field, the remaining term and the expected market size.")


def seed_terms():
    from licensing.models import LicenceTerms

    terms = LicenceTerms.objects.filter(name_en=STANDARD_TERMS["name_en"]).first() or LicenceTerms(**STANDARD_TERMS)
    for name, value in STANDARD_TERMS.items():
        setattr(terms, name, value)
    terms.live = True
    terms.save()
    if terms.latest_revision is None:
        terms.save_revision().publish()
    return terms


# The offer (DEMO_OFFERS index: royalty on profit, nothing up front) whose institute declaration CNIPA announces
# shortly before its patent's last annual fee fell due; its statutory licence is recorded before that date
# (seed_office_figures). Declarations are filed 60 days ago, so that fee fell due in the last 55 days.
FEE_REDUCED_OFFER = 3
FEE_DUE_WITHIN_DAYS = 55


def _annual_fee_due_lately(patent, today):
    """The day the patent's last annual fee fell due (the anniversary of its filing date), if that was in the
    last FEE_DUE_WITHIN_DAYS days (not today) and after its grant; else None."""
    from datetime import timedelta

    from licensing.deadlines import add_years

    years = today.year - patent.filing_date.year
    due = add_years(patent.filing_date, years)
    if due > today:
        due = add_years(patent.filing_date, years - 1)
    lately = today - timedelta(days=FEE_DUE_WITHIN_DAYS) <= due < today
    return due if lately and patent.grant_date is not None and patent.grant_date < due else None


def seed_declarations() -> list[str]:
    """Publish demo declarations across all three fee forms and withdraw one. Idempotent: patents that
    already carry a demo declaration are left alone."""
    from datetime import timedelta
    from decimal import Decimal

    from django.utils import timezone

    from licensing.declarations.services import declaration_create
    from licensing.models import Declaration
    from marketplace.listings.services import (
        declaration_file,
        declaration_file_withdrawal,
        declaration_record_announcement,
        declaration_record_withdrawal_announcement,
    )
    from patents.models import Patent

    terms = seed_terms()
    lines = []
    today = timezone.localdate()
    for slug, email, *_rest in DEMO_PORTFOLIOS:
        holder = Organisation.objects.get(slug=slug)
        admin = User.objects.get(email=email)
        if Declaration.objects.filter(holder=holder).exists():
            continue
        pool = list(Patent.objects.filter(
            holder=holder, legal_status="granted", kind="invention", pledged=False, exclusive_licence_in_force=False,
            co_owners__isnull=True, expiry_date__gte=today + timedelta(days=6 * 366)).order_by("-grade_score", "pk"))
        candidates, fee_due_on = pool[:6], None
        if slug == "demo-institute" and len(candidates) > FEE_REDUCED_OFFER:
            # The institute's royalty declaration (announced) covers a patent whose annual fee fell due in the
            # last weeks: its statutory licence, recorded before that (seed_office_figures), earns the 15%
            # reduction, so the IP office's "fee reduction granted" has a real figure on the demo.
            due = next((p for p in pool if _annual_fee_due_lately(p, today)), None)
            if due is not None:
                candidates = [p for p in candidates if p != due][:6]
                candidates[FEE_REDUCED_OFFER:FEE_REDUCED_OFFER] = [due]
                candidates, fee_due_on = candidates[:6], _annual_fee_due_lately(due, today)
        # The holder's records: annual fees paid for the current patent year.
        Patent.objects.filter(pk__in=[p.pk for p in candidates]).update(
            annual_fees_paid_through=today + timedelta(days=200))
        filed = []
        for patent, offer in zip(candidates, DEMO_OFFERS, strict=False):
            offer = {**offer, "royalty_rate": Decimal(offer["royalty_rate"]) if "royalty_rate" in offer else None}
            draft = declaration_create(
                patent=Patent.objects.get(pk=patent.pk), terms=terms, by=admin, payment_method=(
                    "平台在线支付；提成费于每个许可年度结束后30日内结算。"),
                contact_name=f"{admin.last_name} {admin.first_name}", contact_email=admin.email,
                conditions_commitment=True, fee_basis_statement=DEMO_FEE_BASIS, **offer)
            filed.append(declaration_file(declaration=draft, by=admin))
        # Filed some weeks ago (the demo's history); CNIPA announced every other one since, so the marketplace
        # shows both bases: statutory open licences and declarations filed but not yet announced. The holders'
        # halves differ: the university's royalty without a minimum stays filed (a platform licence, and the
        # one-language crawl's filed declaration), the institute's is announced (a statutory licence that asks
        # nothing up front).
        for declaration in filed:  # one by one, so the audit log sees it
            declaration.filed_at = timezone.now() - timedelta(days=60)
            declaration.save(update_fields=["filed_at"])
        announced, parity = 0, 0 if slug == "demo-university" else 1
        for n, declaration in enumerate(filed):
            if n % 2 == parity:
                announced_on = today - timedelta(days=30 - n)
                if n == FEE_REDUCED_OFFER and fee_due_on is not None:
                    announced_on = fee_due_on - timedelta(days=3)
                declaration_record_announcement(
                    declaration=declaration, by=admin, announced_on=announced_on,
                    cnipa_number=f"KFXK{today:%Y}{declaration.pk:06d}")
                announced += 1
        if filed:
            withdrawn = declaration_file_withdrawal(
                declaration=filed[-1], by=admin,
                reason="专利权转让谈判中，暂停开放许可。")
            declaration_record_withdrawal_announcement(
                declaration=withdrawn, by=admin, announced_on=today,
                cnipa_number=f"CHXK{today:%Y}{withdrawn.pk:06d}" if withdrawn.cnipa_number else "")
        lines.append(f"{slug}: {len(filed)} declarations filed at CNIPA, {announced} announced, 1 withdrawn")
    return lines


def seed_licences() -> list[str]:
    """The demo licensees take the licences that ask nothing up front (royalty on profit, no minimum), so the
    IP office's figures have licences to show before anyone pays by card. Idempotent."""
    from licensing.licences.services import licence_notice_submit
    from licensing.models import LICENSABLE_DECLARATION_STATES, Declaration
    from licensing.models.licences import Licence

    lines = []
    free_up_front = (Declaration.objects.filter(state__in=LICENSABLE_DECLARATION_STATES, fee_form="royalty",
                                                annual_minimum_fen__isnull=True)
                     .select_related("terms_version", "patent").order_by("pk"))
    takers = [("demo-company", "licensee@demo.test"), ("demo-startup", "startup@demo.test")]
    for declaration, (slug, email) in zip(free_up_front, takers, strict=False):
        licensee = Organisation.objects.get(slug=slug)
        if Licence.objects.filter(declaration=declaration, licensee=licensee).exists():
            continue
        user = User.objects.get(email=email)
        licence = licence_notice_submit(
            declaration=declaration, licensee=licensee, by=user, legal_name=licensee.name_zh,
            uscc=licensee.uscc or "", contact_name=f"{user.last_name}{user.first_name}", contact_email=user.email,
            contact_phone="", field_of_use="新产品开发",
            accepted_terms_sha256=declaration.terms_version.sha256)
        lines.append(f"{slug} took {declaration.patent.number} ({licence.get_state_display()})")
    return lines


def seed_vouchers() -> list[str]:
    """The IP office issues an innovation voucher to the second demo licensee (once)."""
    from datetime import timedelta

    from django.utils import timezone

    from licensing.models.licences import Voucher
    from licensing.vouchers.services import voucher_issue

    startup = Organisation.objects.get(slug="demo-startup")
    if Voucher.objects.filter(organisation=startup).exists():
        return []
    voucher = voucher_issue(organisation=startup, amount_fen=5_000_000, expires_on=timezone.localdate() + timedelta(days=365),
                            eligible_uses=["licence_fees", "royalties"], note="2026 科技创新券 demo",
                            by=User.objects.get(email="ipoffice@demo.test"))
    return [f"voucher {voucher.code} for demo-startup: RMB 50,000"]


def seed_office_figures() -> list[str]:
    """What the IP office's indicators need to show on the demo (issue 19), all through the services and
    idempotent: the second demo licensee also takes the first holder's royalty licence (so one patent has two
    licensees) and a statutory licence whose entry fee its innovation voucher pays, and the first demo licence
    and that statutory one are recorded at CNIPA (recorded deals)."""
    from django.utils import timezone

    from licensing.licences.services import licence_notice_submit, payment_apply_voucher, payment_start
    from licensing.models import LICENSABLE_DECLARATION_STATES, Declaration, DeclarationState
    from licensing.models.licences import Licence, Payment, Voucher
    from licensing.recording.services import licence_mark_recorded

    lines = []
    startup, user = Organisation.objects.get(slug="demo-startup"), User.objects.get(email="startup@demo.test")
    university = Organisation.objects.get(slug="demo-university")
    published = Declaration.objects.filter(holder=university, state__in=LICENSABLE_DECLARATION_STATES).select_related(
        "terms_version")

    def notice(declaration):
        return licence_notice_submit(
            declaration=declaration, licensee=startup, by=user, legal_name=startup.name_zh, uscc=startup.uscc or "",
            contact_name=f"{user.last_name}{user.first_name}", contact_email=user.email, contact_phone="",
            field_of_use="储能系统", accepted_terms_sha256=declaration.terms_version.sha256)

    royalty = published.filter(fee_form="royalty", annual_minimum_fen__isnull=True).order_by("pk").first()
    if royalty is not None and not Licence.objects.filter(declaration=royalty, licensee=startup).exists():
        notice(royalty)
        lines.append(f"demo-startup also took {royalty.patent.number}: two licensees")
    # A statutory licence part-paid by an innovation voucher: the entry fee of the university's announced
    # entry-plus-royalty declaration, which the voucher covers (no card: seed_demo runs without Stripe), the
    # royalties following yearly. The licence value paid by vouchers and the voucher's use show on the demo.
    voucher = Voucher.objects.filter(organisation=startup, balance_fen__gt=0).order_by("pk").first()
    entry = (published.filter(state=DeclarationState.ANNOUNCED, fee_form="entry_plus_royalty")
             .order_by("entry_fee_fen", "pk").first())
    if (voucher is not None and entry is not None and entry.entry_fee_fen <= voucher.balance_fen
            and not Licence.objects.filter(declaration=entry, licensee=startup).exists()):
        licence = notice(entry)
        payment = Payment.objects.get(licence=licence, purpose=Payment.Purpose.FIRST_AMOUNT)
        payment_start(payment=payment_apply_voucher(payment=payment, voucher=voucher, by=user))
        lines.append(f"demo-startup paid the entry fee of {entry.patent.number} with voucher {voucher.code}")
    lines += _seed_fee_reduced_licence()
    # Recorded at CNIPA: the first demo licence (on the platform's terms), and a statutory one if there is one.
    if not Licence.objects.filter(recorded_on__isnull=False, licensor=university).exists():
        active = Licence.objects.filter(licensor=university, state="active", recorded_on__isnull=True)
        for n, licence in enumerate([active.exclude(licensee=startup).order_by("pk").first(),
                                     active.filter(basis="statutory").order_by("pk").first()], start=1):
            if licence is not None:
                licence_mark_recorded(licence=licence, recording_number=f"{timezone.localdate():%Y}99000000{n}",
                                      recorded_on=timezone.localdate(), by=User.objects.get(email="holder@demo.test"))
                lines.append(f"licence {licence.certificate_number} ({licence.basis}) recorded at CNIPA")
    return lines


def _seed_fee_reduced_licence() -> list[str]:
    """The demo's history of the institute's statutory licence on its announced royalty declaration
    (FEE_REDUCED_OFFER): taken the day after CNIPA's announcement and recorded at CNIPA the day after that, so
    the annual fee its patent owed since was reduced by 15% (the IP office's "fee reduction granted"). The
    dates are moved back like the declarations' filing dates (the row is saved: the audit log sees it); the
    recording goes through the recording service. Idempotent."""
    from datetime import timedelta

    from django.utils import timezone

    from licensing.deadlines import add_years
    from licensing.models.licences import Licence, LicenceBasis
    from licensing.recording.services import licence_mark_recorded

    licence = (Licence.objects.filter(licensor__slug="demo-institute", basis=LicenceBasis.STATUTORY, state="active",
                                      first_amount_fen=0, declaration__fee_form="royalty")
               .select_related("declaration", "patent").order_by("pk").first())
    if licence is None or licence.recorded_on is not None:
        return []
    taken_on = licence.declaration.announced_on + timedelta(days=1)
    taken_at = timezone.localtime(licence.activated_at).replace(
        year=taken_on.year, month=taken_on.month, day=taken_on.day)
    licence.notice_submitted_at = licence.activated_at = taken_at
    licence.starts_on = taken_on
    licence.ends_on = min(add_years(taken_on, licence.duration_years) - timedelta(days=1), licence.patent.expiry_date)
    licence.save(update_fields=["notice_submitted_at", "activated_at", "starts_on", "ends_on"])
    recorded_on = taken_on + timedelta(days=1)
    licence_mark_recorded(licence=licence, recording_number=f"{recorded_on:%Y}990000010",
                          recorded_on=recorded_on, by=User.objects.get(email="institute@demo.test"))
    return [f"licence {licence.certificate_number} (statutory) taken {taken_on}, recorded at CNIPA {recorded_on}"]


def seed_needs() -> list[str]:
    """The demo licensees post needs in the technology fields of some demo listings (once)."""
    from datetime import timedelta

    from django.utils import timezone

    from licensing.models import LICENSABLE_DECLARATION_STATES, Declaration
    from marketplace.models import Need
    from marketplace.needs.services import need_post

    lines = []
    # Each need is written the way a buyer would describe one demo listing's technology, so "Recommended for
    # you" and "Companies that need this" have something real to show.
    seen, listings = set(), []
    for declaration in (Declaration.objects.filter(state__in=LICENSABLE_DECLARATION_STATES)
                        .exclude(patent__technology_field__isnull=True)
                        .select_related("patent").order_by("pk")):
        if declaration.patent.technology_field not in seen:
            seen.add(declaration.patent.technology_field)
            listings.append(declaration.patent)
    for (slug, email), patent in zip([("demo-company", "licensee@demo.test"), ("demo-startup", "startup@demo.test"),
                                      ("demo-company", "licensee@demo.test")], listings[:3], strict=False):
        org = Organisation.objects.get(slug=slug)
        subclass = patent.ipc_subclass
        title = f"寻求{patent.title[:40]}相关技术许可"
        if Need.objects.filter(organisation=org, title=title).exists():
            continue
        need_post(organisation=org, by=User.objects.get(email=email), title=title,
                  description=f"我们计划在未来三年内推出相关产品，需要{patent.title}方面的技术。{patent.abstract[:120]}"
                              f" We plan products in this area within three years and look for a non-exclusive licence.",
                  technology_field=patent.technology_field, ipc_prefix=subclass, budget_min_fen=2_000_000,
                  budget_max_fen=20_000_000, horizon_years=3, expected_annual_net_sales_fen=500_000_000,
                  region=org.province, deadline=timezone.localdate() + timedelta(days=90),
                  anonymous=slug == "demo-startup", public=True)
        lines.append(f"need in {subclass} by {slug}")
    return lines


DEMO_POOL_NAME = "2026 知识产权证券化试点池 (demo)"


def seed_pool() -> list[str]:
    """One draft securitization pool for the IP office to preview and freeze (its criteria are loose, so
    the demo's royalty licences appear once licensees report sales). Idempotent."""
    from django.utils import timezone

    from marketplace.models.pools import Pool
    from marketplace.pools.services import pool_create

    if Pool.objects.filter(name=DEMO_POOL_NAME).exists():
        return []
    pool = pool_create(by=User.objects.get(email="ipoffice@demo.test"), name=DEMO_POOL_NAME,
                       cut_off_date=timezone.localdate(), grades=["A", "B", "C"], require_payment_history=False,
                       max_licensee_share=Decimal("80"), max_holder_share=Decimal("80"), discount_rate=Decimal("8"))
    return [f"draft pool {pool.code} for the IP office"]


# The demo's history (issue 20): every chart and trend of a fresh `make run` shows real activity. Declarations
# filed over the last HISTORY_MONTHS months, most of them announced by CNIPA a few weeks later and licensed after
# a few days to a few months (or never), the up-front amounts paid by innovation vouchers the IP office issued
# at the start (seed_demo runs without Stripe: a voucher covering everything is the payment path that needs no
# card), about half of the licences recorded at CNIPA. A fixed seed makes it the same on every machine.
HISTORY_MONTHS = 24
HISTORY_SEED = 2026
HISTORY_DECLARATIONS = 48
# DEMO_OFFERS indexes, in turn: lump sum, royalty on profit (nothing up front), entry fee plus royalty, royalty
# with a yearly minimum: the three fee forms, modest up-front amounts the history vouchers can pay.
HISTORY_OFFERS = [0, 3, 4, 2, 3, 0, 3, 4]
# Each licensee's voucher, issued at the start of the history (before the dashboard's default year, whose
# "vouchers issued" stays the one of seed_vouchers), valid for two years.
HISTORY_VOUCHERS = {"demo-startup": 120_000_000, "demo-company": 60_000_000}
HISTORY_VOUCHER_NOTE = "科技创新券（历史） demo history voucher"


def _backdate(obj, **moments) -> None:
    """Put a row where the demo's history has it. The services stamp ``timezone.now()`` (filing, notice,
    activation, payment, voucher issue); the history happened earlier, so right after each service call the
    moments it stamped are moved back, in the order the state machine went through them (never a payment
    before its notice, an announcement before its filing, a recording before the licence took effect). The
    row is saved, not updated in bulk, so the audit log sees the change."""
    for name, value in moments.items():
        setattr(obj, name, value)
    obj.save(update_fields=list(moments))


def _at(day, rng):
    """A working-hours moment of ``day`` in the site's time zone."""
    from datetime import datetime, time

    from django.utils import timezone

    return timezone.make_aware(datetime.combine(day, time(9 + rng.randrange(8), rng.randrange(60))))


def seed_history() -> list[str]:
    """Spread declarations, announcements, licences, voucher payments and recordings over the last
    HISTORY_MONTHS months through the real services (see HISTORY_* and _backdate), then write the statistics
    snapshots of the closed months as the monthly scheduler would (compute_statistics), so the dashboard reads
    closed months from snapshots as in production. Deterministic (HISTORY_SEED) and idempotent: it runs once,
    recognised by its vouchers."""
    import io
    import random
    from datetime import timedelta

    from dateutil.relativedelta import relativedelta
    from django.core.management import call_command
    from django.utils import timezone

    from licensing.deadlines import add_years
    from licensing.declarations.services import declaration_create
    from licensing.licences.services import (
        licence_basis_for,
        licence_notice_submit,
        payment_apply_voucher,
        payment_start,
    )
    from licensing.models.licences import Payment, Voucher
    from licensing.recording.services import licence_mark_recorded
    from licensing.vouchers.services import voucher_issue
    from marketplace.listings.services import declaration_file, declaration_record_announcement
    from patents.models import Patent

    if Voucher.objects.filter(note=HISTORY_VOUCHER_NOTE).exists():
        return []
    rng = random.Random(HISTORY_SEED)
    today = timezone.localdate()
    start = today.replace(day=1) - relativedelta(months=HISTORY_MONTHS - 1)
    terms, office = seed_terms(), User.objects.get(email="ipoffice@demo.test")
    takers = {slug: (Organisation.objects.get(slug=slug), User.objects.get(email=email))
              for slug, email in [("demo-startup", "startup@demo.test"), ("demo-company", "licensee@demo.test")]}
    vouchers = {}
    for slug, amount in HISTORY_VOUCHERS.items():
        voucher = voucher_issue(organisation=takers[slug][0], amount_fen=amount, eligible_uses=["licence_fees", "royalties"],
                                expires_on=add_years(start, 2), note=HISTORY_VOUCHER_NOTE, by=office)
        _backdate(voucher, issued_at=_at(start, rng))
        vouchers[slug] = voucher

    # Patents the demo has not declared, taken field by field in turn so the history covers many fields.
    by_field: dict = {}
    for patent in Patent.objects.filter(
            legal_status="granted", kind="invention", pledged=False, exclusive_licence_in_force=False,
            co_owners__isnull=True, expiry_date__gte=today + timedelta(days=6 * 366), declarations__isnull=True,
    ).select_related("holder").order_by("technology_field", "-grade_score", "pk"):
        by_field.setdefault(patent.technology_field, []).append(patent)
    patents = []
    while len(patents) < HISTORY_DECLARATIONS and any(by_field.values()):
        for queue in by_field.values():
            if queue and len(patents) < HISTORY_DECLARATIONS:
                patents.append(queue.pop(0))
    span = (today - start).days - 3
    filing_days = sorted(start + timedelta(days=span * n // len(patents) + rng.randrange(5)) for n in range(len(patents)))
    admins = {slug: User.objects.get(email=email) for slug, email, *_rest in DEMO_PORTFOLIOS}

    counts = {"declarations": 0, "announced": 0, "licences": 0, "paid": 0, "recorded": 0, "reports": 0}
    for n, (patent, filed_on) in enumerate(zip(patents, filing_days, strict=True)):
        admin = admins[patent.holder.slug]
        offer = DEMO_OFFERS[HISTORY_OFFERS[n % len(HISTORY_OFFERS)]]
        offer = {**offer, "royalty_rate": Decimal(offer["royalty_rate"]) if "royalty_rate" in offer else None}
        Patent.objects.filter(pk=patent.pk).update(annual_fees_paid_through=today + timedelta(days=200))
        declaration = declaration_file(by=admin, today=filed_on, declaration=declaration_create(
            patent=Patent.objects.get(pk=patent.pk), terms=terms, by=admin, payment_method=(
                "平台在线支付；提成费于每个许可年度结束后30日内结算。"),
            contact_name=f"{admin.last_name} {admin.first_name}", contact_email=admin.email,
            conditions_commitment=True, fee_basis_statement=DEMO_FEE_BASIS, **offer))
        _backdate(declaration, filed_at=_at(filed_on, rng))
        counts["declarations"] += 1
        # CNIPA announces four in five some weeks after filing.
        announced_on = filed_on + timedelta(days=rng.randint(15, 40))
        if rng.random() < 0.8 and announced_on < today:
            declaration = declaration_record_announcement(
                declaration=declaration, by=admin, announced_on=announced_on,
                cnipa_number=f"KFXK{announced_on:%Y}{declaration.pk:06d}")
            counts["announced"] += 1
        # Most are licensed, many within the quick-licence window, some late, a few never.
        noticed_on = filed_on + timedelta(days=rng.choice([3, 8, 15, 26, 40, 55, 75, 120]))
        if rng.random() < 0.15 or noticed_on >= today - timedelta(days=2):
            continue
        slug = "demo-startup" if n % 3 else "demo-company"
        licensee, user = takers[slug]
        vouchers[slug].refresh_from_db()
        if declaration.first_amount_due_fen > vouchers[slug].balance_fen:
            continue  # the voucher is spent: this licensee waits (the demo never charges a card)
        licence = licence_notice_submit(
            declaration=declaration, licensee=licensee, by=user, legal_name=licensee.name_zh, uscc=licensee.uscc or "",
            contact_name=f"{user.last_name}{user.first_name}", contact_email=user.email, contact_phone="",
            field_of_use="新产品开发",
            accepted_terms_sha256=declaration.terms_version.sha256)
        noticed_at = _at(noticed_on, rng)
        paid_at = noticed_at  # nothing up front: the licence takes effect with the notice
        payment = Payment.objects.filter(licence=licence, purpose=Payment.Purpose.FIRST_AMOUNT).first()
        if payment is not None:
            payment, _secret = payment_start(payment=payment_apply_voucher(payment=payment, voucher=vouchers[slug],
                                                                           by=user))
            paid_at = min(noticed_at + timedelta(hours=rng.randint(1, 60)), timezone.now() - timedelta(minutes=5))
            _backdate(payment, created_at=noticed_at, due_on=noticed_on, succeeded_at=paid_at)
            counts["paid"] += 1
        paid_on = timezone.localtime(paid_at).date()
        licence.refresh_from_db()
        serial = licence.certificate_number[6:]  # "OL" + year + serial: the serial stays, the year is the activation's
        _backdate(licence, notice_submitted_at=noticed_at, activated_at=paid_at, starts_on=paid_on,
                  ends_on=min(add_years(paid_on, licence.duration_years) - timedelta(days=1), licence.patent.expiry_date),
                  basis=licence_basis_for(declaration=declaration, on=noticed_on),
                  certificate_number=f"OL{paid_on:%Y}{serial}")
        counts["licences"] += 1
        recorded_on = paid_on + timedelta(days=rng.randint(10, 80))
        if rng.random() < 0.55 and recorded_on < today:
            licence_mark_recorded(licence=licence, recording_number=f"{recorded_on:%Y}9{licence.pk:09d}",
                                  recorded_on=recorded_on, by=admin)
            counts["recorded"] += 1
        counts["reports"] += _history_royalty_reports(licence=licence, user=user, voucher=vouchers[slug], rng=rng)
    # The closed months' snapshots, as the scheduler writes them early each month. The facts compute_statistics
    # rebuilds first are rebuilt once for all the months: nothing changes between them (the rebuild was 40% of
    # writing the snapshots).
    call_command("rebuild_statistics_facts", no_progress=True, stdout=io.StringIO(), stderr=io.StringIO())
    month = start
    while month < today.replace(day=1):
        call_command("compute_statistics", month=f"{month:%Y-%m}", no_facts=True, stdout=io.StringIO())
        month += relativedelta(months=1)
    return [f"{counts['declarations']} declarations over {HISTORY_MONTHS} months ({counts['announced']} announced), "
            f"{counts['licences']} licences ({counts['paid']} paid by voucher, {counts['recorded']} recorded), "
            f"{counts['reports']} royalty reports, "
            f"snapshots of the closed months written"]


def _history_royalty_reports(*, licence, user, voucher, rng) -> int:
    """The licensee of a royalty licence reports its net sales (or profit) half-year by half-year once each
    half is over (royalty_report_file, on the day it reports), and pays the royalty invoiced with its voucher a
    few days later while the balance covers it (an invoice it cannot cover stays open: arrears). The reported
    sales are what the securitization pools project receivables from."""
    from datetime import timedelta

    from dateutil.relativedelta import relativedelta
    from django.utils import timezone

    from licensing.licences.services import payment_apply_voucher, payment_start
    from licensing.royalties.services import licence_has_royalties, royalty_report_file

    if not licence_has_royalties(licence):
        return 0
    today, filed, start = timezone.localdate(), 0, licence.starts_on
    level = rng.randint(5, 30) * 1_000_000  # fen per half-year: 50,000 to 300,000 yuan of sales (or profit)
    while filed < 3:
        end = min(start + relativedelta(months=6) - timedelta(days=1), licence.ends_on)
        reported_on = end + timedelta(days=rng.randint(5, 20))
        if reported_on >= today:
            break
        report = royalty_report_file(licence=licence, period_start=start, period_end=end, by=user, today=reported_on,
                                     base_amount_fen=level * rng.randint(80, 130) // 100)
        _backdate(report, submitted_at=_at(reported_on, rng))
        payment = report.payment
        if payment is not None:
            _backdate(payment, created_at=_at(reported_on, rng))
            voucher.refresh_from_db()
            if voucher.balance_fen >= payment.charge_fen:
                paid_on = min(reported_on + timedelta(days=rng.randint(2, 12)), today - timedelta(days=1))
                payment, _secret = payment_start(payment=payment_apply_voucher(payment=payment, voucher=voucher,
                                                                               by=user))
                _backdate(payment, succeeded_at=_at(paid_on, rng))
        filed += 1
        start = end + timedelta(days=1)
        if start > licence.ends_on:
            break
    return filed
