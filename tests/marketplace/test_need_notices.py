"""A posted need reaches the holders whose listings answer it: its matching runs as a task (the immediate backend
here runs it when the posting commits), and each holder hears of the need once, in the app and by e-mail, however
many of its listings match, with a link to the need; never twice for the same need unless the buyer edits it."""

import io
from datetime import date

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

from marketplace.listings import services as listings
from marketplace.matching import tasks as matching_tasks
from marketplace.models import MatchSide, Need, NeedNotice, StoredMatch
from marketplace.needs.services import need_update
from marketplace.parties.models import Notification
from tests.licensing.factories import DeclarationFactory, eligible_patent, holder_admin, holder_member
from tests.parties.factories import MembershipFactory, OrganisationFactory

pytestmark = pytest.mark.django_db

BMS = (
    "一种锂离子电池组热管理系统",
    "本发明公开了一种锂离子电池组的热管理系统，通过液冷板和温度传感器控制电芯温度，防止储能电池热失控。",
    "H01M 10/613",
    1,
)
BMS_COOLING = (
    "一种储能电池组液冷热管理装置",
    "本发明公开了一种储能锂离子电池组的液冷热管理装置，由温度传感器控制电芯温度，防止电池热失控。",
    "H01M 10/625",
    1,
)
VIDEO = ("一种视频图像压缩编码方法", "基于帧间预测的视频压缩编码方法，降低码率。", "H04N 19/503", 3)
NEED_FORM = {
    "title": "储能电池热管理技术",
    "description": "我们生产集装箱储能产品，需要锂离子电池组的热管理和温度控制方案，防止热失控。",
    "technology_field": "1",
    "ipc_prefix": "H01M",
    "budget_min": "",
    "budget_max": "80000",
    "horizon_years": "3",
    "expected_annual_net_sales": "",
    "preferred_fee_form": "",
    "region": "江苏",
    "deadline": "",
    "public": "on",
}
KIND = "need.matches_listings"


def listing(spec, django_capture_on_commit_callbacks, *, holder=None):
    title, abstract, ipc, field = spec
    extra = {"holder": holder} if holder else {}
    patent = eligible_patent(
        title=title,
        abstract=abstract,
        main_ipc=ipc,
        ipc_codes=[ipc],
        ipc_subclass=ipc[:4],
        technology_field=field,
        grade_score=70,
        filing_date=date(2022, 5, 1),
        **extra,
    )
    declaration = DeclarationFactory(patent=patent, holder=patent.holder)
    with django_capture_on_commit_callbacks(execute=True):
        return listings.declaration_file(declaration=declaration, by=holder_admin(declaration.holder))


@pytest.fixture
def buyer():
    organisation = OrganisationFactory(is_licensee=True, is_holder=False)
    return organisation, MembershipFactory(organisation=organisation).user


def post_need(client, buyer, django_capture_on_commit_callbacks, **changes) -> Need:
    organisation, user = buyer
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("need_new"), {**NEED_FORM, "organisation": organisation.pk, **changes})
    assert response.status_code == 302, response.content.decode()[:2000]
    return Need.objects.latest("pk")


def told(user) -> list[Notification]:
    return list(Notification.objects.filter(user=user, kind=KIND))


def test_a_holder_with_two_matching_listings_hears_of_a_new_need_once_with_a_link_to_it(
    client, demo_pages, buyer, django_capture_on_commit_callbacks
):
    bms = listing(BMS, django_capture_on_commit_callbacks)
    cooling = listing(BMS_COOLING, django_capture_on_commit_callbacks, holder=bms.holder)
    video = listing(VIDEO, django_capture_on_commit_callbacks)
    holder_user, video_user = holder_member(bms.holder), holder_member(video.holder)
    mail.outbox.clear()

    need = post_need(client, buyer, django_capture_on_commit_callbacks)

    [notice] = told(holder_user)
    assert notice.url == reverse("need_detail", args=[need.pk]) and notice.params["need"] == need.title
    best = StoredMatch.objects.get(side=MatchSide.NEED, need=need, rank=1).declaration
    assert notice.params["count"] == 2 and best in (bms, cooling) and notice.params["patent"] == best.patent.number
    # Nothing else about this need reaches the holder (no alert per listing), and nothing the others.
    assert Notification.objects.filter(user=holder_user).count() == 1
    assert not Notification.objects.filter(user=video_user).exists()
    assert not Notification.objects.filter(user=buyer[1]).exists()
    to_holder = [m for m in mail.outbox if m.to == [holder_user.email]]
    assert len(to_holder) == 1 and need.title in to_holder[0].body
    assert reverse("need_detail", args=[need.pk]) in to_holder[0].body

    # The holder reads it in its language and follows the link to the need.
    client.force_login(holder_user)
    with translation.override("en"):
        page = client.get(reverse("notification_list")).content.decode()
        assert f"A company needs what your patents do: “{need.title}”" in page
        assert "matches 2 of your listings" in page
    opened = client.get(reverse("notification_open", args=[notice.pk]))
    assert opened.status_code == 302 and opened.url == notice.url
    assert client.get(opened.url).status_code == 200
    # Read on an English page, the link goes on in English.
    with translation.override("en"):
        assert client.get(reverse("notification_open", args=[notice.pk])).url == f"/en/needs/{need.pk}/"


def test_a_need_is_not_told_twice_but_an_edited_need_is_told_again(client, demo_pages, buyer, django_capture_on_commit_callbacks):
    bms = listing(BMS, django_capture_on_commit_callbacks)
    holder_user = holder_member(bms.holder)
    need = post_need(client, buyer, django_capture_on_commit_callbacks)
    assert len(told(holder_user)) == 1
    mail.outbox.clear()

    # Its matching runs again (a second worker, a retried task) and the scheduled full refresh runs: silence.
    with django_capture_on_commit_callbacks(execute=True):
        matching_tasks.refresh_need_matches.enqueue(need.pk)
        call_command("refresh_matches", "--no-progress", stdout=io.StringIO())
    assert len(told(holder_user)) == 1 and not mail.outbox
    assert NeedNotice.objects.get(need=need, holder=bms.holder).need_revision == need.updated_at

    with django_capture_on_commit_callbacks(execute=True):
        need_update(need=need, by=buyer[1], region="江苏苏州", description=NEED_FORM["description"] + "液冷优先。")
    assert len(told(holder_user)) == 2
    assert sorted(m.to[0] for m in mail.outbox) == sorted(ms.user.email for ms in bms.holder.memberships.all())


def test_an_anonymous_need_hides_the_buyer_and_a_private_need_tells_no_holder(
    client, demo_pages, buyer, django_capture_on_commit_callbacks
):
    bms = listing(BMS, django_capture_on_commit_callbacks)
    holder_user = holder_member(bms.holder)

    post_need(client, buyer, django_capture_on_commit_callbacks, public="")
    assert not told(holder_user)

    post_need(client, buyer, django_capture_on_commit_callbacks, anonymous="on", title="储能电池热管理方案")
    [notice] = told(holder_user)
    assert buyer[0].name_zh not in str(notice.params)
    client.force_login(holder_user)
    with translation.override("en"):
        assert "a company that keeps its name hidden" in client.get(reverse("notification_list")).content.decode()
