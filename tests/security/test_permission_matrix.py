"""The permission matrix: every role × every object × every action, one test per cell, through HTTP only
(Django's test client, logged in with force_login). MATRIX below is the one table; docs/security.md shows the
same table and test_the_documented_matrix_is_the_tested_matrix keeps the two in step.

Outcomes: a status code (200, 400, 403, 404), `302` (done, redirected on), `refused` (redirected back with an
error message and nothing done), `login` (redirected to a login page). Every 200 answer is also searched for
the private text of the parties the role does not act for (world.SECRETS): a holder never sees another
holder's drafts, batches or members, a licensee never another licensee's licences, vouchers or hidden needs.

The world is built once per module and each test runs in a transaction rolled back afterwards, so every cell
starts from the same world however the cells before it changed it."""

import json
from pathlib import Path

import pytest
from django.contrib.messages import constants as message_levels
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from wagtail.test.utils.form_data import inline_formset, nested_form_data, rich_text, streamfield

from tests.security.world import ROLES, SECRETS, build_world
from tests.worlds import module_world

DOC = Path(__file__).resolve().parents[2] / "docs" / "security.md"


def _listing_form(action: str) -> dict:
    """The Wagtail page editor's POST for a listing: summary, body, the empty comments formset, the button."""
    data = nested_form_data({
        "summary": "MATRIX-EDITED-SUMMARY",
        "body": streamfield([("paragraph", rich_text("<p>已在两座储能电站试用。</p>"))]),
        "comments": inline_formset([]),
    })
    data[f"action-{action}"] = action
    return data


def _today() -> str:
    return timezone.localdate().isoformat()


def _notice(w) -> dict:
    return {"licensee": w.l1.pk, "legal_name": w.l1.name_zh, "uscc": w.l1.uscc, "contact_name": "张三",
            "contact_email": "buyer@example.cn", "contact_phone": "", "field_of_use": "电池制造",
            "terms_sha256": w.b_pub.terms_version.sha256, "accept": "on"}


def _draft(w) -> dict:
    return {"selected": [w.a_draft.patent.pk], "fee_form": "lump_sum", "terms": w.a_pub.terms_version.terms_id,
            "lump_sum": "1000.00", "duration_years": "3", "payment_method": "一次性付清", "contact_name": "王老师",
            "contact_email": "tto@example.edu.cn", "action": "draft"}


def _need_form(w) -> dict:
    return {"organisation": w.l1.pk, "title": "A new need", "description": "Battery management.",
            "horizon_years": "3", "public": "on"}


def _announcement(w) -> dict:
    return {"cnipa_number": "KFXK2026000077", "announced_on": _today()}


def _cnipa_file(w) -> dict:
    """An upload CNIPA never published (not a list of announcements): refused with its reason, nothing recorded."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    return {"file": SimpleUploadedFile("announcements.csv", b"not,a,cnipa,list\n", content_type="text/csv")}


def _royalty_period(w) -> dict:
    start = w.l1_report.period_end.toordinal() + 1
    from datetime import date
    begin = date.fromordinal(start)
    return {"period_start": begin.isoformat(), "period_end": date.fromordinal(start + 89).isoformat(),
            "base_amount": "100.00"}


def _u(name, *args):
    """A URL by name, its arguments taken from the world (attribute paths) when they are strings."""
    def build(w):
        values = []
        for arg in args:
            value = w
            for part in arg.split("."):
                value = getattr(value, part)
            values.append(value)
        return reverse(name, args=values)
    build.route = name
    return build


def _q(build, query: str):
    return _named(f"{build.route}?{query.split('=')[0]}=", lambda w: build(w) + "?" + query.format(w=w))


def _named(route: str, build):
    """A URL builder with the route the documentation names it by."""
    build.route = route
    return build


GET, POST, JSON = "GET", "POST", "JSON"

# object, action, method, url(world), body(world) or None, outcomes in ROLES order:
#   anonymous, licensee member, licensee admin, holder member, holder admin, editor, IP office, superuser
MATRIX = [
    # --- organisation ---------------------------------------------------------------------------------------
    ("organisation", "profile of holder A", GET, _u("organisation_detail", "holder_a.slug"), None,
     "200 200 200 200 200 200 200 200"),
    ("organisation", "list of organisations", GET, _u("organisation_list"), None,
     "login 200 200 200 200 200 200 200"),
    ("organisation", "edit holder A's profile (form)", GET, _u("organisation_edit", "holder_a.slug"), None,
     "login 403 403 403 200 403 403 200"),
    ("organisation", "edit holder A's profile", POST, _u("organisation_edit", "holder_a.slug"),
     lambda w: {"name_zh": w.holder_a.name_zh, "name_en": "Holder A University", "province": "北京市",
                "city": "", "website": "", "contact_email": "", "contact_phone": "", "description": "edited",
                "is_holder": "on"},
     "login 403 403 403 302 403 403 302"),
    ("organisation", "edit holder B's profile (form)", GET, _u("organisation_edit", "holder_b.slug"), None,
     "login 403 403 403 403 403 403 200"),
    ("organisation", "add a member to holder A", POST, _u("organisation_detail", "holder_a.slug"),
     lambda w: {"email": "new-member@example.cn", "role": "member"},
     "403 403 403 403 302 403 403 302"),
    ("organisation", "remove a member of holder A", POST,
     _u("membership_remove", "holder_a.slug", "a_member_membership.pk"), None,
     "login 403 403 403 302 403 403 302"),
    # --- API token ------------------------------------------------------------------------------------------
    ("API token", "token page", GET, _u("api_token"), None,
     "login 200 200 200 200 200 200 200"),
    # --- securitization pool --------------------------------------------------------------------------------
    ("pool", "list of pools", GET, _u("pool_list"), None,
     "login 404 404 404 404 404 200 200"),
    ("pool", "new pool (form)", GET, _u("pool_new"), None,
     "login 404 404 404 404 404 200 200"),
    ("pool", "preview of a draft pool", GET, _u("pool_detail", "office_pool.pk"), None,
     "login 404 404 404 404 404 200 200"),
    # --- patent ---------------------------------------------------------------------------------------------
    ("patent", "portfolio", GET, _u("portfolio"), None,
     "login 403 403 200 200 403 403 403"),
    ("patent", "portfolio of holder B", GET, _q(_u("portfolio"), "holder={w.holder_b.slug}"), None,
     "login 403 403 403 403 403 200 200"),
    ("patent", "portfolio as CSV", GET, _named("portfolio_export", lambda w: reverse("portfolio_export", args=["csv"])),
     None, "login 403 403 200 200 403 403 403"),
    ("patent", "portfolio of holder B as XLSX", GET,
     _q(_named("portfolio_export", lambda w: reverse("portfolio_export", args=["xlsx"])), "holder={w.holder_b.slug}"),
     None, "login 403 403 403 403 403 200 200"),
    ("patent", "detail of holder A's patent", GET, _u("patent_detail", "a_draft.patent.pk"), None,
     "login 404 404 200 200 404 200 200"),
    ("patent", "detail of holder B's patent", GET, _u("patent_detail", "b_draft.patent.pk"), None,
     "login 404 404 404 404 404 200 200"),
    ("patent", "grade override on holder A's patent", POST, _u("patent_grade", "a_draft.patent.pk"),
     lambda w: {"grade": "A", "reason": "Core patent of our battery line."},
     "login 404 404 302 302 404 404 302"),
    ("patent", "grade override on holder B's patent", POST, _u("patent_grade", "b_draft.patent.pk"),
     lambda w: {"grade": "A", "reason": "Core patent of our battery line."},
     "login 404 404 404 404 404 404 302"),
    ("patent", "tags on holder A's patent", POST, _u("patent_tags", "a_draft.patent.pk"),
     lambda w: {"tags": "battery, core"}, "login 404 404 302 302 404 404 302"),
    ("patent", "tags on holder B's patent", POST, _u("patent_tags", "b_draft.patent.pk"),
     lambda w: {"tags": "battery, core"}, "login 404 404 404 404 404 404 302"),
    ("patent", "standing for open licensing of holder A's patent", POST, _u("patent_standing", "a_draft.patent.pk"),
     lambda w: {"pledged": "on"}, "login 404 404 302 302 404 404 302"),
    ("patent", "standing for open licensing of holder B's patent", POST, _u("patent_standing", "b_draft.patent.pk"),
     lambda w: {"pledged": "on"}, "login 404 404 404 404 404 404 302"),
    # --- inventory batch ------------------------------------------------------------------------------------
    ("inventory batch", "upload (form)", GET, _u("inventory_upload"), None,
     "login 403 403 200 200 403 403 403"),
    ("inventory batch", "upload into holder B (form)", GET, _q(_u("inventory_upload"), "holder={w.holder_b.slug}"),
     None, "login 403 403 403 403 403 403 200"),
    ("inventory batch", "list", GET, _u("batch_list"), None, "login 403 403 200 200 403 403 403"),
    ("inventory batch", "detail of holder A's batch", GET, _u("batch_detail", "a_batch.pk"), None,
     "login 404 404 200 200 404 200 200"),
    ("inventory batch", "detail of holder B's batch", GET, _u("batch_detail", "b_batch.pk"), None,
     "login 404 404 404 404 404 200 200"),
    ("inventory batch", "status.json of holder A's batch", GET, _u("batch_status", "a_batch.pk"), None,
     "login 404 404 200 200 404 200 200"),
    ("inventory batch", "status.json of holder B's batch", GET, _u("batch_status", "b_batch.pk"), None,
     "login 404 404 404 404 404 200 200"),
    ("inventory batch", "error report of holder A's batch", GET, _u("batch_error_report", "a_batch.pk"), None,
     "login 404 404 200 200 404 200 200"),
    ("inventory batch", "error report of holder B's batch", GET, _u("batch_error_report", "b_batch.pk"), None,
     "login 404 404 404 404 404 200 200"),
    # --- declaration ----------------------------------------------------------------------------------------
    ("declaration", "list", GET, _u("declaration_list"), None, "login 403 403 200 200 403 403 403"),
    ("declaration", "create (form)", GET, _q(_u("declare"), "patent={w.a_draft.patent.pk}"), None,
     "login 403 403 200 200 403 403 403"),
    ("declaration", "create a draft", POST, _u("declare"), _draft, "login 403 403 302 302 403 403 403"),
    ("declaration", "detail of holder A's draft", GET, _u("declaration_detail", "a_draft.pk"), None,
     "404 404 404 200 200 404 200 200"),
    ("declaration", "detail of holder B's draft", GET, _u("declaration_detail", "b_draft.pk"), None,
     "404 404 404 404 404 404 200 200"),
    ("declaration", "detail of a published declaration", GET, _u("declaration_detail", "a_pub.pk"), None,
     "200 200 200 200 200 200 200 200"),
    ("declaration", "publish holder A's draft", POST, _u("declaration_file", "a_draft.pk"), None,
     "login 404 404 refused 302 404 404 302"),
    ("declaration", "publish holder B's draft", POST, _u("declaration_file", "b_draft.pk"), None,
     "login 404 404 404 404 404 404 302"),
    ("declaration", "withdraw holder A's declaration", POST, _u("declaration_file_withdrawal", "a_pub.pk"),
     lambda w: {"reason": "Licensed exclusively."}, "login 404 404 403 302 404 404 302"),
    ("declaration", "withdraw holder B's declaration", POST, _u("declaration_file_withdrawal", "b_pub.pk"),
     lambda w: {"reason": "Licensed exclusively."}, "login 404 404 404 404 404 404 302"),
    # CNIPA's announcements are entered by the holder's administrator (a plain member is refused by the service).
    ("declaration", "record CNIPA's announcement of holder A's declaration", POST,
     _u("declaration_record_announcement", "a_pub.pk"), _announcement, "login 404 404 403 302 404 404 302"),
    ("declaration", "record CNIPA's announcement of holder B's declaration", POST,
     _u("declaration_record_announcement", "b_pub.pk"), _announcement, "login 404 404 404 404 404 404 302"),
    # No withdrawal is pending on holder A's declaration: who may act gets past the permission and is refused
    # the transition (400), who may not never learns that much.
    ("declaration", "record the withdrawal announcement of holder A's declaration", POST,
     _u("declaration_record_withdrawal_announcement", "a_pub.pk"), _announcement,
     "login 404 404 403 400 404 404 400"),
    ("declaration", "record the withdrawal announcement of holder B's declaration", POST,
     _u("declaration_record_withdrawal_announcement", "b_pub.pk"), _announcement,
     "login 404 404 404 404 404 404 400"),
    ("declaration", "document of holder A's declaration (PDF)", GET,
     _named("declaration_document", lambda w: reverse("declaration_document", args=[w.a_pub.pk, "pdf"])), None,
     "login 404 404 200 200 404 404 200"),
    ("declaration", "document of holder B's declaration (JSON)", GET,
     _named("declaration_document", lambda w: reverse("declaration_document", args=[w.b_pub.pk, "json"])), None,
     "login 404 404 404 404 404 404 200"),
    ("declaration", "import CNIPA's announcements (form)", GET, _u("cnipa_announcements_import"), None,
     "login 403 403 403 403 403 200 200"),
    ("declaration", "import CNIPA's announcements", POST, _u("cnipa_announcements_import"), _cnipa_file,
     "login 403 403 403 403 403 400 400"),
    ("declaration", "discard holder A's draft", POST, _u("declaration_discard", "a_draft.pk"), None,
     "login 404 404 302 302 404 404 302"),
    ("declaration", "discard holder B's draft", POST, _u("declaration_discard", "b_draft.pk"), None,
     "login 404 404 404 404 404 404 302"),
    ("declaration", "consent on holder A's draft", POST, _u("consent_add", "a_draft.pk"),
     lambda w: {"kind": "pledgee", "party_name": "某银行", "signatory": "赵行长", "consented_on": _today()},
     "login 404 404 302 302 404 404 302"),
    ("declaration", "consent on holder B's draft", POST, _u("consent_add", "b_draft.pk"),
     lambda w: {"kind": "pledgee", "party_name": "某银行", "signatory": "赵行长", "consented_on": _today()},
     "login 404 404 404 404 404 404 302"),
    ("declaration", "gazette", GET, _u("gazette"), None, "200 200 200 200 200 200 200 200"),
    # --- licence --------------------------------------------------------------------------------------------
    ("licence", "take: the notice (form)", GET, _u("licence_take", "b_pub.pk"), None,
     "login 200 200 403 403 403 403 403"),
    ("licence", "take: give notice", POST, _u("licence_take", "b_pub.pk"), _notice,
     "login 302 302 403 403 403 403 403"),
    ("licence", "take on a draft", GET, _u("licence_take", "a_draft.pk"), None,
     "login 404 404 404 404 404 404 404"),
    ("licence", "list", GET, _u("licence_list"), None, "login 200 200 200 200 200 200 200"),
    ("licence", "detail of L1's licence", GET, _u("licence_detail", "l1_licence.pk"), None,
     "login 200 200 200 200 404 200 200"),
    ("licence", "detail of L2's licence", GET, _u("licence_detail", "l2_licence.pk"), None,
     "login 404 404 404 404 404 200 200"),
    ("licence", "pay L1's licence", JSON, _u("licence_pay", "l1_pending.pk"),
     lambda w: {"voucher": w.l1_voucher.pk}, "login 200 200 404 404 404 404 200"),
    ("licence", "pay L2's licence", JSON, _u("licence_pay", "l2_licence.pk"), lambda w: {},
     "login 404 404 404 404 404 404 409"),
    ("licence", "cancel L1's notice", POST, _u("licence_cancel", "l1_pending.pk"), None,
     "login 302 302 404 404 404 404 302"),
    # --- certificate ----------------------------------------------------------------------------------------
    ("certificate", "page of L1's licence", GET, _u("licence_certificate", "l1_licence.pk"), None,
     "login 200 200 200 200 404 200 200"),
    ("certificate", "page of L2's licence", GET, _u("licence_certificate", "l2_licence.pk"), None,
     "login 404 404 404 404 404 200 200"),
    ("certificate", "PDF of L1's licence", GET, _u("licence_certificate_pdf", "l1_licence.pk"), None,
     "login 200 200 200 200 404 200 200"),
    ("certificate", "PDF of L2's licence", GET, _u("licence_certificate_pdf", "l2_licence.pk"), None,
     "login 404 404 404 404 404 200 200"),
    ("certificate", "public verification", GET, _u("certificate_verify_number", "l1_licence.certificate_number"),
     None, "200 200 200 200 200 200 200 200"),
    # --- contract recording ---------------------------------------------------------------------------------
    ("contract recording", "deadlines", GET, _u("recording_list"), None, "login 200 200 200 200 200 200 200"),
    ("contract recording", "deadlines export", GET,
     _named("recording_export", lambda w: reverse("recording_export", args=["csv"])), None, "login 200 200 200 200 200 200 200"),
    ("contract recording", "pack of L1's licence", GET, _u("licence_recording", "l1_licence.pk"), None,
     "login 200 200 200 200 404 200 200"),
    ("contract recording", "pack of L2's licence", GET, _u("licence_recording", "l2_licence.pk"), None,
     "login 404 404 404 404 404 200 200"),
    ("contract recording", "pack export of L1's licence", GET,
     _named("licence_recording_export", lambda w: reverse("licence_recording_export", args=[w.l1_licence.pk, "csv"])),
     None,
     "login 200 200 200 200 404 200 200"),
    ("contract recording", "mark L1's licence recorded", POST, _u("licence_recording", "l1_licence.pk"),
     lambda w: {"recording_number": "2026990000123", "recorded_on": _today()},
     "login 302 302 302 302 404 403 403"),
    ("contract recording", "mark L2's licence recorded", POST, _u("licence_recording", "l2_licence.pk"),
     lambda w: {"recording_number": "2026990000123", "recorded_on": _today()},
     "login 404 404 404 404 404 403 403"),
    # --- royalty report -------------------------------------------------------------------------------------
    ("royalty report", "reports of L1's licence", GET, _u("royalty_reports", "l1_royalty.pk"), None,
     "login 200 200 200 200 404 200 200"),
    ("royalty report", "reports of L2's licence", GET, _u("royalty_reports", "l2_royalty.pk"), None,
     "login 404 404 404 404 404 200 200"),
    ("royalty report", "submit for L1's licence", POST, _u("royalty_reports", "l1_royalty.pk"), _royalty_period,
     "login 302 302 403 403 404 403 403"),
    ("royalty report", "submit for L2's licence", POST, _u("royalty_reports", "l2_royalty.pk"), _royalty_period,
     "login 404 404 404 404 404 403 403"),
    ("royalty report", "invoice of L1's report", GET, _u("royalty_invoice", "l1_report.pk"), None,
     "login 200 200 200 200 404 200 200"),
    ("royalty report", "invoice of L2's report", GET, _u("royalty_invoice", "l2_report.pk"), None,
     "login 404 404 404 404 404 200 200"),
    ("royalty report", "pay L1's invoice", JSON, _u("royalty_invoice_pay", "l1_report.pk"),
     lambda w: {"voucher": w.l1_voucher.pk}, "login 200 200 404 404 404 404 200"),
    ("royalty report", "pay L2's invoice", JSON, _u("royalty_invoice_pay", "l2_report.pk"),
     lambda w: {"voucher": w.l1_voucher.pk}, "login 404 404 404 404 404 404 404"),
    ("royalty report", "arrears", GET, _u("royalty_arrears"), None, "login 200 200 200 200 200 200 200"),
    # --- voucher --------------------------------------------------------------------------------------------
    ("voucher", "list", GET, _u("voucher_list"), None, "login 200 200 403 403 403 200 200"),
    ("voucher", "issue", POST, _u("voucher_issue"),
     lambda w: {"organisation": w.l1.pk, "amount": "500.00", "expires_on": "2099-12-31",
                "eligible_uses": ["licence_fees"], "note": ""},
     "login 403 403 403 403 403 302 302"),
    ("voucher", "use L2's voucher on L1's licence", JSON, _u("licence_pay", "l1_pending.pk"),
     lambda w: {"voucher": w.l2_voucher.pk}, "login 404 404 404 404 404 404 404"),
    # --- ledger statement -----------------------------------------------------------------------------------
    ("ledger statement", "index", GET, _u("statement_index"), None, "login 200 200 200 200 200 200 200"),
    ("ledger statement", "of licensee L1", GET, _u("statement_organisation", "l1.slug"), None,
     "login 200 200 403 403 403 200 200"),
    ("ledger statement", "of licensee L1 as CSV", GET,
     _q(_u("statement_organisation", "l1.slug"), "format=csv"), None, "login 200 200 403 403 403 200 200"),
    ("ledger statement", "of holder A", GET, _u("statement_organisation", "holder_a.slug"), None,
     "login 403 403 200 200 403 200 200"),
    ("ledger statement", "of holder B", GET, _u("statement_organisation", "holder_b.slug"), None,
     "login 403 403 403 403 403 200 200"),
    ("ledger statement", "of L1's licence", GET, _u("statement_licence", "l1_licence.pk"), None,
     "login 200 200 200 200 404 200 200"),
    ("ledger statement", "of L2's licence", GET, _u("statement_licence", "l2_licence.pk"), None,
     "login 404 404 404 404 404 200 200"),
    # --- need -----------------------------------------------------------------------------------------------
    ("need", "post (form)", GET, _u("need_new"), None, "login 200 200 403 403 403 403 403"),
    ("need", "post", POST, _u("need_new"), _need_form, "login 302 302 403 403 403 403 403"),
    ("need", "board", GET, _u("need_board"), None, "200 200 200 200 200 200 200 200"),
    ("need", "own needs", GET, _u("need_mine"), None, "login 200 200 403 403 403 403 403"),
    ("need", "detail of a public need", GET, _u("need_detail", "l1_need.pk"), None,
     "200 200 200 200 200 200 200 200"),
    ("need", "detail of L1's private need", GET, _u("need_detail", "l1_private_need.pk"), None,
     "404 200 200 404 404 404 200 200"),
    ("need", "detail of L2's private need", GET, _u("need_detail", "l2_private_need.pk"), None,
     "404 404 404 404 404 404 200 200"),
    ("need", "detail of L2's anonymous need", GET, _u("need_detail", "l2_anonymous_need.pk"), None,
     "200 200 200 200 200 200 200 200"),
    ("need", "propose holder A's listing", POST, _u("need_propose", "l1_need.pk"),
     lambda w: {"declaration": w.a_pub.pk, "message": "Our cathode patent fits."},
     "login 403 403 302 302 403 403 403"),
    ("need", "propose holder B's listing", POST, _u("need_propose", "l1_need.pk"),
     lambda w: {"declaration": w.b_pub.pk, "message": "Our cathode patent fits."},
     "login 403 403 403 403 403 403 403"),
    ("need", "close L1's need", POST, _u("need_close", "l1_need.pk"), None, "login 302 302 403 403 403 403 403"),
    ("need", "close L2's need", POST, _u("need_close", "l2_anonymous_need.pk"), None,
     "login 403 403 403 403 403 403 403"),
    ("need", "matches of L1's need", GET, _u("need_matches", "l1_need.pk"), None,
     "404 200 200 404 404 404 200 200"),
    ("need", "matches of L2's need", GET, _u("need_matches", "l2_anonymous_need.pk"), None,
     "404 404 404 404 404 404 200 200"),
    ("need", "needs matching holder A's listing", GET, _u("declaration_needs", "a_pub.pk"), None,
     "404 404 404 200 200 404 200 200"),
    ("need", "needs matching holder B's listing", GET, _u("declaration_needs", "b_pub.pk"), None,
     "404 404 404 404 404 404 200 200"),
    # --- listing page ---------------------------------------------------------------------------------------
    ("listing page", "view", GET, _named("listing page (Wagtail)", lambda w: w.a_listing.url), None,
     "200 200 200 200 200 200 200 200"),
    ("listing page", "admin edit of holder A's listing (form)", GET,
     _named("wagtailadmin_pages:edit", lambda w: reverse("wagtailadmin_pages:edit", args=[w.a_listing.pk])), None,
     "login login login 200 200 200 login 200"),
    ("listing page", "admin edit of holder B's listing (form)", GET,
     _named("wagtailadmin_pages:edit", lambda w: reverse("wagtailadmin_pages:edit", args=[w.b_listing.pk])), None,
     "login login login refused refused 200 login 200"),
    ("listing page", "submit holder A's listing for review", POST,
     _named("wagtailadmin_pages:edit", lambda w: reverse("wagtailadmin_pages:edit", args=[w.a_listing.pk])),
     lambda w: _listing_form("submit"),
     "login login login 302 302 302 login 302"),
    ("listing page", "publish in admin", POST,
     _named("wagtailadmin_pages:edit", lambda w: reverse("wagtailadmin_pages:edit", args=[w.a_listing.pk])),
     lambda w: _listing_form("publish"),
     "login login login ignored ignored 302 login 302"),
    # --- IP-office statistics dashboard ---------------------------------------------------------------------
    ("statistics dashboard", "dashboard", GET, _u("office_statistics"), None, "login 404 404 404 404 404 200 200"),
    ("statistics dashboard", "figures as CSV", GET, _q(_u("office_statistics"), "export=csv&table=figures"), None,
     "login 404 404 404 404 404 200 200"),
    ("statistics dashboard", "all tables as XLSX", GET, _q(_u("office_statistics"), "export=xlsx"), None,
     "login 404 404 404 404 404 200 200"),
    ("statistics dashboard", "drill-down", GET, _u("office_statistics_declarations"), None,
     "login 404 404 404 404 404 200 200"),
    ("statistics dashboard", "drill-down as CSV", GET, _q(_u("office_statistics_declarations"), "export=csv"), None,
     "login 404 404 404 404 404 200 200"),
    # --- audit log ------------------------------------------------------------------------------------------
    ("audit log", "entries", GET, _u("audit_log"), None, "login 403 403 200 200 403 200 200"),
    ("audit log", "entries as CSV", GET, _q(_u("audit_log"), "export=csv"), None,
     "login 403 403 200 200 403 200 200"),
    ("audit log", "entries as XLSX", GET, _q(_u("audit_log"), "export=xlsx"), None,
     "login 403 403 200 200 403 200 200"),
    ("audit log", "entries of L2's licence as CSV", GET,
     _q(_u("audit_log"), "model=licence&object={w.l2_licence.pk}&export=csv"), None,
     "login 403 403 200 200 403 200 200"),
    # --- notifications --------------------------------------------------------------------------------------
    ("notifications", "inbox", GET, _u("notification_list"), None, "login 200 200 200 200 200 200 200"),
    ("notifications", "open one's own", GET, _named("notification_open", lambda w: None), None,
     "login 302 302 302 302 302 302 302"),
    ("notifications", "open another person's", GET, _u("notification_open", "l2_notification.pk"), None,
     "login 404 404 404 404 404 404 404"),
    ("notifications", "mark all read", POST, _u("notifications_read_all"), None, "login 302 302 302 302 302 302 302"),
]


def _reloaded(obj):
    return type(obj).objects.get(pk=obj.pk)


# What a `302` must have done, for the actions whose redirect alone does not tell: when the effect is missing
# the cell reads `ignored` (redirected on, nothing done).
EFFECTS = {
    ("organisation", "edit holder A's profile"): lambda w: _reloaded(w.holder_a).description == "edited",
    ("organisation", "add a member to holder A"): lambda w: w.holder_a.memberships.filter(
        user__email="new-member@example.cn").exists(),
    ("organisation", "remove a member of holder A"): lambda w: not type(w.a_member_membership).objects.filter(
        pk=w.a_member_membership.pk).exists(),
    ("patent", "grade override on holder A's patent"): lambda w: _reloaded(w.a_draft.patent).grade_override == "A",
    ("patent", "grade override on holder B's patent"): lambda w: _reloaded(w.b_draft.patent).grade_override == "A",
    ("patent", "tags on holder A's patent"): lambda w: "core" in _reloaded(w.a_draft.patent).tags.names(),
    ("patent", "tags on holder B's patent"): lambda w: "core" in _reloaded(w.b_draft.patent).tags.names(),
    ("patent", "standing for open licensing of holder A's patent"): lambda w: _reloaded(w.a_draft.patent).pledged,
    ("patent", "standing for open licensing of holder B's patent"): lambda w: _reloaded(w.b_draft.patent).pledged,
    ("declaration", "record CNIPA's announcement of holder A's declaration"): lambda w: _reloaded(
        w.a_pub).state == "announced",
    ("declaration", "record CNIPA's announcement of holder B's declaration"): lambda w: _reloaded(
        w.b_pub).state == "announced",
    ("declaration", "create a draft"): lambda w: w.a_draft.patent.declarations.count() == 2,
    ("declaration", "publish holder A's draft"): lambda w: _reloaded(w.a_draft).state == "filed",
    ("declaration", "publish holder B's draft"): lambda w: _reloaded(w.b_draft).state == "filed",
    ("declaration", "withdraw holder A's declaration"): lambda w: _reloaded(w.a_pub).state == "withdrawal_filed",
    ("declaration", "withdraw holder B's declaration"): lambda w: _reloaded(w.b_pub).state == "withdrawal_filed",
    ("declaration", "discard holder A's draft"): lambda w: not type(w.a_draft).objects.filter(pk=w.a_draft.pk).exists(),
    ("declaration", "discard holder B's draft"): lambda w: not type(w.b_draft).objects.filter(pk=w.b_draft.pk).exists(),
    ("declaration", "consent on holder A's draft"): lambda w: w.a_draft.consents.exists(),
    ("declaration", "consent on holder B's draft"): lambda w: w.b_draft.consents.exists(),
    ("licence", "take: give notice"): lambda w: w.b_pub.licences.filter(licensee=w.l1).exists(),
    ("licence", "cancel L1's notice"): lambda w: _reloaded(w.l1_pending).state == "cancelled",
    ("contract recording", "mark L1's licence recorded"): lambda w: bool(_reloaded(w.l1_licence).recording_number),
    ("royalty report", "submit for L1's licence"): lambda w: w.l1_royalty.royalty_reports.count() == 2,
    ("voucher", "issue"): lambda w: w.l1.vouchers.count() == 2,
    ("need", "post"): lambda w: w.l1.needs.filter(title="A new need").exists(),
    ("need", "propose holder A's listing"): lambda w: w.l1_need.proposals.exists(),
    ("need", "close L1's need"): lambda w: _reloaded(w.l1_need).state == "closed",
    ("listing page", "submit holder A's listing for review"): lambda w: _reloaded(w.a_listing).current_workflow_state
    is not None,
    ("listing page", "publish in admin"): lambda w: _reloaded(w.a_listing).summary == "MATRIX-EDITED-SUMMARY",
}

CELLS = [(obj, action, role, outcome)
         for obj, action, _method, _url, _body, outcomes in MATRIX
         for role, outcome in zip(ROLES, outcomes.split(), strict=True)]
ROWS = {(obj, action): row for obj, action, *row in MATRIX}


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """The world, built once in an outer transaction that is rolled back when the module is done; each test's
    own transaction (the `db` fixture) nests inside it and is rolled back after the test."""
    with module_world(django_db_blocker):
        yield build_world()


def _request(client: Client, method: str, url: str, body):
    if method == GET:
        return client.get(url)
    if method == JSON:
        return client.post(url, json.dumps(body or {}), content_type="application/json")
    return client.post(url, body or {})


def _is_login(location: str) -> bool:
    return "/accounts/login/" in location or location.startswith("/admin/login/")


def _observed(response) -> str:
    if response.status_code != 302:
        return str(response.status_code)
    location = response["Location"]
    if _is_login(location):
        return "login"
    errors = [m for m in get_messages(response.wsgi_request) if m.level >= message_levels.WARNING]
    return "refused" if errors else "302"


def _text(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode("utf-8", "replace")
    return response.content.decode("utf-8", "replace")


# A cell refused before the view does its work (403, 404, a redirect to the login page) is decided by the
# permission checks' plain lookups (membership, the holder's own rows: equality and EXISTS, the same SQL on either
# engine), so the PostgreSQL run leaves it to the SQLite run (one_backend) and keeps every cell the view answers
# (200 with the leak check, done, refused, ignored, 400, 409): the same views, scoping querysets and writes on
# both engines, in a third of the cells. The SQLite run has the whole matrix.
REFUSALS = {"403", "404", "login"}


def _cell(obj, action, role, expected):
    marks = [pytest.mark.one_backend] if expected in REFUSALS else []
    return pytest.param(obj, action, role, expected, marks=marks, id=f"{obj}|{action}|{role}")


@pytest.mark.parametrize(("obj", "action", "role", "expected"), [_cell(*cell) for cell in CELLS])
def test_permission_cell(world, db, client, obj, action, role, expected):
    method, url_of, body_of, _outcomes = ROWS[(obj, action)]
    user = world.users[role]
    if user is not None:
        client.force_login(user)
    if (obj, action) == ("notifications", "open one's own"):
        url = reverse("notification_open", args=[world.notifications[role].pk]) if user else reverse(
            "notification_open", args=[world.l2_notification.pk])
    else:
        url = url_of(world)
    response = _request(client, method, url, body_of(world) if body_of else None)

    observed = _observed(response)
    effect = EFFECTS.get((obj, action))
    if observed == "302" and effect is not None and not effect(world):
        observed = "ignored"
    detail = _text(response)[:600] if observed != expected and not response.get("Content-Type", "").startswith(
        ("application/pdf", "application/vnd")) else ""
    assert observed == expected, f"{method} {url} as {role}: {observed}, expected {expected}. {detail}"
    if response.status_code == 200 and not response.get("Content-Type", "").startswith(
            ("application/pdf", "application/vnd.openxmlformats")):
        body = _text(response)
        leaked = [secret for secret, entitled in SECRETS.items() if role not in entitled and secret in body]
        assert not leaked, f"{method} {url} as {role} shows {leaked}"


# --- the documented matrix ----------------------------------------------------------------------------------

LABELS = {"anonymous": "anonymous", "licensee_member": "licensee member", "licensee_admin": "licensee admin",
          "holder_member": "holder member", "holder_admin": "holder admin", "editor": "editor",
          "ip_office": "IP office", "superuser": "superuser"}


def matrix_rows() -> list[tuple[str, ...]]:
    """MATRIX as the documentation's rows: object, action, request (method and route name), one cell a role."""
    return [(obj, action, f"{method} {url.route}", *outcomes.split())
            for obj, action, method, url, _body, outcomes in MATRIX]


def documented_rows(text: str) -> list[tuple[str, ...]]:
    """The rows of the table under "## Permission matrix" in docs/security.md, backticks dropped."""
    section = text.split("## Permission matrix", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        if not line.startswith("|"):
            continue
        cells = tuple(c.strip().replace("`", "") for c in line.strip().strip("|").split("|"))
        if cells[0] == "object" or set(cells[0]) <= {"-", ":"}:
            continue
        rows.append(cells)
    return rows


def test_the_documented_matrix_is_the_tested_matrix():
    header = "| object | action | request | " + " | ".join(LABELS[r] for r in ROLES) + " |"
    text = DOC.read_text(encoding="utf-8")
    assert header in text
    assert documented_rows(text) == matrix_rows()


def test_every_role_and_a_cell_of_each_outcome_is_in_the_matrix():
    outcomes = {outcome for *_x, outcome in CELLS}
    assert {"200", "302", "403", "404", "login", "refused", "ignored"} <= outcomes
    assert len(ROLES) == 8 and len(CELLS) == len(MATRIX) * len(ROLES)


# Each private text is shown to someone entitled to it, so its absence elsewhere means something.
SHOWN_TO_THE_IP_OFFICE = {
    "SECRET-A-DRAFT-TITLE": _u("declaration_detail", "a_draft.pk"),
    "secret-a-batch-file": _u("batch_detail", "a_batch.pk"),
    "a-member-secret@example.cn": _u("organisation_detail", "holder_a.slug"),
    "SECRET-L1-FIELD-OF-USE": _u("licence_detail", "l1_licence.pk"),
    "CX2026-SECRETL1": _u("voucher_list"),
    "SECRET-L1-PRIVATE-NEED": _u("need_detail", "l1_private_need.pk"),
    "SECRET-B-DRAFT-TITLE": _u("declaration_detail", "b_draft.pk"),
    "secret-b-batch-file": _u("batch_detail", "b_batch.pk"),
    "SECRET-L2-FIELD-OF-USE": _u("licence_detail", "l2_licence.pk"),
    "CX2026-SECRETL2": _u("voucher_list"),
    "SECRET-L2-PRIVATE-NEED": _u("need_detail", "l2_private_need.pk"),
    "秘密二号公司": _u("licence_list"),
    "L2SECRET": _u("licence_list"),
    "76,543.21": _u("royalty_invoice", "l2_report.pk"),
}


@pytest.mark.parametrize("secret", list(SECRETS))
def test_each_private_text_is_shown_where_it_is_entitled(world, db, client, secret):
    client.force_login(world.users["ip_office"])
    with translation.override("en"):
        response = client.get(SHOWN_TO_THE_IP_OFFICE[secret](world))
    assert response.status_code == 200 and secret in _text(response)


def markdown_table() -> str:
    """The matrix as docs/security.md shows it (see there how to print it after adding rows)."""
    lines = ["| object | action | request | " + " | ".join(LABELS[r] for r in ROLES) + " |",
             "|---|---|---|" + "---|" * len(ROLES)]
    for obj, action, request, *cells in matrix_rows():
        lines.append(f"| {obj} | {action} | `{request}` | " + " | ".join(cells) + " |")
    return "\n".join(lines)

