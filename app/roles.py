"""Roles and portals as data (SPEC §1). `flask seed-roles` writes them to the DB.

A permission is named after the action (`can_list`, `can_add`, `can_approve`,
...) on one view. `ROLE_PERMISSIONS` is the whole truth: seeding adds what is
listed and removes what is not, so the database cannot drift from this file.
The platform admin role gets every permission from FAB's own sync.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from .enums import Choice, LabelledEnum

PLATFORM_ADMIN = "平台管理员"
PLATFORM_SUPPORT = "平台客服"
COURT_ADMIN = "法院管理员"
COURT_USER = "法院用户"
MEDIATOR = "调解员"
ORGANISATION = "调解组织"
MINISTRY_USER = "部委用户"
LIAISON = "司法联络员"
PARTY = "当事人"
AGENT = "代理人"

ALL_ROLES = [
    PLATFORM_ADMIN,
    PLATFORM_SUPPORT,
    COURT_ADMIN,
    COURT_USER,
    MEDIATOR,
    ORGANISATION,
    MINISTRY_USER,
    LIAISON,
    PARTY,
    AGENT,
]


class Portal(LabelledEnum):
    """登录入口. The portal chosen at login decides which identity acts."""

    COURT = Choice("court", _l("Court portal"))
    MEDIATOR = Choice("mediator", _l("Mediator portal"))
    MINISTRY = Choice("ministry", _l("Ministry portal"))
    ORGANISATION = Choice("organisation", _l("Organisation portal"))
    GRASSROOTS = Choice("grassroots", _l("Grassroots portal"))
    PARTY = Choice("party", _l("Party"))
    AGENT = Choice("agent", _l("Agent"))
    PLATFORM = Choice("platform", _l("Platform back office"))

    @property
    def roles(self) -> tuple[str, ...]:
        return PORTAL_ROLES[self]


PORTAL_ROLES = {
    Portal.COURT: (COURT_ADMIN, COURT_USER),
    Portal.MEDIATOR: (MEDIATOR,),
    Portal.MINISTRY: (MINISTRY_USER,),
    Portal.ORGANISATION: (ORGANISATION,),
    Portal.GRASSROOTS: (LIAISON,),
    Portal.PARTY: (PARTY,),
    Portal.AGENT: (AGENT,),
    Portal.PLATFORM: (PLATFORM_ADMIN, PLATFORM_SUPPORT),
}


def portals_for_roles(role_names) -> list[Portal]:
    names = set(role_names)
    return [p for p in Portal if names & set(p.roles)]


READ = ["can_list", "can_show"]
CRUD = ["can_list", "can_show", "can_add", "can_edit", "can_delete"]

CASE_WORK = {
    "PreLitigationCaseView": ["can_list", "can_show", "can_add", "can_edit", "can_export"],
    "InLitigationCaseView": ["can_list", "can_show", "can_add", "can_edit", "can_export"],
    "InternetCaseView": ["can_list", "can_show", "can_edit", "can_export"],
    "HistoricalCaseView": ["can_list", "can_add"],
    "DeadlineView": ["can_list", "can_show"],
    "CaseDetailView": ["can_detail", "can_transition", "can_edit_info"],
    "CasePartyView": ["can_add", "can_edit", "can_delete"],
    "CaseAgentView": ["can_add", "can_edit", "can_delete"],
    "CaseApi": ["can_get", "can_info"],
    "AgreementView": ["can_read_agreements"],
    "DisputeView": ["can_list", "can_show"],
    "GrassrootsFiguresView": ["can_index"],
    "StatisticsView": ["can_report", "can_export"],
    # after mediation [FAQ 3.4–3.6]: the court's lists, 受理/立案审查, 转在线立案, the simulated intranet
    "JudicialConfirmationView": READ,
    "MediationDocumentView": READ,
    "FilingView": READ,
    "ApplicationDeadlineView": READ,
    "ApplicationDetailView": ["can_detail", "can_decide", "can_apply"],
    # 推送监控 and 重新推送 of the court's own pushes [FAQ 3.4, 3.6, 6.3, 6.5]
    "CourtPushView": ["can_list", "can_resend"],
    "SimulatedIntranetView": ["can_index", "can_result"],
    # 查看录像 [FAQ 4.2]
    "RecordingView": ["can_list_recordings"],
    # 证据 and 更换调解员 of the court's cases (Rules art 14)
    "EvidenceView": ["can_read"],
    "MediatorChangeView": ["can_decide"],
}
MEDIATOR_CASE_WORK = {
    "MyCaseView": ["can_list", "can_show", "can_export"],
    "DeadlineView": ["can_list", "can_show"],
    "CaseDetailView": ["can_detail", "can_transition", "can_edit_info"],
    "CasePartyView": ["can_add", "can_edit", "can_delete"],
    "CaseAgentView": ["can_add", "can_edit", "can_delete"],
    "CaseApi": ["can_get", "can_info"],
    "AgreementView": ["can_read_agreements", "can_write_agreements"],
    # applying on a party's behalf [FAQ 3.15]
    "ApplicationDetailView": ["can_detail", "can_apply"],
    # 视频调解, 上传录音录像, 查看录像 [FAQ 4.1, 4.2]
    "HearingView": ["can_call", "can_room"],
    "RecordingView": ["can_list_recordings", "can_upload_recordings"],
    # 留言 [issue 14 item 6]
    "CaseMessageView": ["can_post"],
    # 互联网调解: accept or decline; evidence 核验; conflicts of interest (Rules arts 12, 13)
    "InternetInboxView": ["can_index", "can_decide"],
    "EvidenceView": ["can_read", "can_verify"],
    "ConflictView": ["can_declare"],
}
PORTAL = {
    "PartyPortalView": ["can_index", "can_read", "can_sign"],
    # 申请司法确认 / 出具调解书, 同意, 在线立案 [FAQ 3.15, 3.16]; an agent needs special authorisation (workflow)
    "PortalApplicationView": ["can_view", "can_apply"],
    # 加入视频 [FAQ 4.1(1)]
    "HearingView": ["can_room"],
    # 实名认证 before signing [FAQ 3.13, Rules art 17]; 留言 on the own cases
    "IdentityView": ["can_index", "can_submit"],
    "CaseMessageView": ["can_portal", "can_post"],
    # 证据 and 更换调解员 (Rules art 14) on one's cases
    "EvidenceView": ["can_read", "can_upload"],
    "MediatorChangeView": ["can_ask", "can_decide"],
    # the case API over one's own cases (issue 15 item 16)
    "CaseApi": ["can_get", "can_info"],
}

# view (class_permission_name) -> permissions, per role. Which case a user may
# act on, and which transition, is decided per case by app/workflows.
ROLE_PERMISSIONS: dict[str, dict[str, list[str]]] = {
    PLATFORM_SUPPORT: {
        "SmsOutboxView": READ,
        "AuditLogView": READ,
        "CourtView": READ,
        "HomeView": ["can_index"],
        "OutboxView": READ + ["can_resend"],
        "UnansweredPushView": READ,
        "OrganisationPasswordView": ["can_reset"],
        "MultiVideoReviewView": ["can_review"],
        "IdentityReviewView": ["can_review"],
    },
    COURT_ADMIN: {
        "CourtStaffView": CRUD + ["can_import"],
        "InvitedMediatorView": ["can_list", "can_show", "can_add", "can_edit", "can_export"],
        "OtherMediatorView": ["can_list", "can_show", "can_add", "can_edit", "can_export"],
        "MediatorCertificationView": READ + ["can_approve", "can_reject"],
        "OrganisationCertificationView": READ + ["can_approve", "can_reject"],
        "OrganisationRosterView": ["can_list", "can_show", "can_add", "can_edit", "can_export"],
        "TribunalView": CRUD,
        "GrassrootsUnitView": CRUD,
        "AuditLogView": READ,
        "HomeView": ["can_index"],
        **CASE_WORK,
        "StatisticsView": ["can_report", "can_export", "can_dashboard"],
        "MultiVideoView": ["can_apply"],
    },
    COURT_USER: {
        "InvitedMediatorView": READ,
        "OtherMediatorView": READ,
        "OrganisationRosterView": READ,
        "TribunalView": READ,
        "GrassrootsUnitView": READ,
        "HomeView": ["can_index"],
        **CASE_WORK,
    },
    MEDIATOR: {
        "MyCertificationView": ["can_list", "can_apply"],
        "HomeView": ["can_index"],
        **MEDIATOR_CASE_WORK,
    },
    # 调解组织端: its cases and 分派, its mediators, its figures (SPEC §1; FAQ 6.2)
    ORGANISATION: {
        "HomeView": ["can_index"],
        "OrganisationPortalView": ["can_index", "can_dispatch", "can_mediators", "can_add_mediator"],
        "CaseApi": ["can_get", "can_info"],
        "StatisticsView": ["can_report", "can_export"],
    },
    MINISTRY_USER: {
        "HomeView": ["can_index"],
        "MinistryOrganisationView": ["can_list", "can_show", "can_unbind", "can_apply", "can_password"],
        "BindOrganisationView": ["can_index", "can_bind"],
        "MinistryCaseView": ["can_list", "can_show"],
        "CaseDetailView": ["can_detail", "can_transition"],
        "CaseApi": ["can_get", "can_info"],
        "StatisticsView": ["can_report", "can_export", "can_dashboard"],
    },
    LIAISON: {"HomeView": ["can_index"], "LiaisonView": ["can_index", "can_record", "can_detail"]},
    # 互联网调解 [FAQ 5.1(3)]: a party applies, chooses a mediator, the other side confirms or refuses
    PARTY: {"HomeView": ["can_index"], **PORTAL,
            "InternetApplyView": ["can_index", "can_apply", "can_show", "can_choose", "can_respond"]},
    AGENT: {"HomeView": ["can_index"], **PORTAL},
}
