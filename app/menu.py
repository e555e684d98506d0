"""The left sidebar, with the FAQ's menu names [FAQ 2.1–2.4, 3.2, 7.1–7.3].

FAB's own menu is two levels deep and sits in the top bar; the FAQ's menus
are three levels deep on the left. The tree is data: a leaf names its endpoint
and the permission that shows it, a group shows when any child shows. Hiding
an item is not the protection (every view checks its own permission).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional

from flask import request, url_for
from flask_babel import lazy_gettext as _l


@dataclass
class Leaf:
    label: object
    endpoint: str
    permission: tuple[str, str]
    args: dict = field(default_factory=dict)
    #: the endpoints that mark this leaf active; by default every page of its view
    active_on: tuple[str, ...] = ()
    #: shown only when this condition (named; the caller of `visible_menu` answers it) holds: the same
    #: screen the FAQ names differently per account
    when: Optional[str] = None

    def is_active(self, endpoint: str | None) -> bool:
        if endpoint is None:
            return False
        if self.active_on:
            return endpoint in self.active_on
        return endpoint.split(".")[0] == self.endpoint.split(".")[0]


#: `Leaf.when`: the account's ministry applies to courts for its organisations, or binds them
MINISTRY_APPLIES, MINISTRY_BINDS = "ministry_applies", "ministry_binds"
#: every name a `Leaf.when` may carry
CONDITIONS = (MINISTRY_APPLIES, MINISTRY_BINDS)


@dataclass
class Group:
    label: object
    children: list
    icon: str = "fa-folder"


MENU = [
    Group(_l("Mediation case management"), [
        Group(_l("Pre-litigation delegated mediation"), [
            Leaf(_l("Case management"), "PreLitigationCaseView.list", ("can_list", "PreLitigationCaseView")),
            Leaf(_l("Applications for a mediation document"), "MediationDocumentView.list",
                 ("can_list", "MediationDocumentView")),
        ]),
        Leaf(_l("In-litigation mediation"), "InLitigationCaseView.list", ("can_list", "InLitigationCaseView")),
        Leaf(_l("Internet mediation"), "InternetCaseView.list", ("can_list", "InternetCaseView")),
        Leaf(_l("Add historical case"), "HistoricalCaseView.add", ("can_add", "HistoricalCaseView")),
        Leaf(_l("Cases due or overdue"), "DeadlineView.list", ("can_list", "DeadlineView")),
        Leaf(_l("Applications due or overdue"), "ApplicationDeadlineView.list",
             ("can_list", "ApplicationDeadlineView")),
        Leaf(_l("Push monitor"), "CourtPushView.index", ("can_list", "CourtPushView")),
    ], icon="fa-balance-scale"),
    Group(_l("Online judicial confirmation"), [
        Leaf(_l("Judicial confirmation management"), "JudicialConfirmationView.list",
             ("can_list", "JudicialConfirmationView")),
    ], icon="fa-gavel"),
    Group(_l("Online filing"), [
        Group(_l("Ordinary civil cases"), [
            Leaf(_l("To file"), "FilingView.list", ("can_list", "FilingView"), {"_flt_0_status": "PENDING"}),
        ]),
    ], icon="fa-file-text-o"),
    Group(_l("Intranet case-handling system (simulated)"), [
        Leaf(_l("Simulated intranet case-handling system"), "SimulatedIntranetView.index",
             ("can_index", "SimulatedIntranetView")),
    ], icon="fa-exchange"),
    Group(_l("My cases"), [
        Leaf(_l("My cases"), "MyCaseView.list", ("can_list", "MyCaseView")),
        Leaf(_l("Internet applications to accept"), "InternetInboxView.index", ("can_index", "InternetInboxView")),
    ], icon="fa-briefcase"),
    Group(_l("Internet mediation"), [
        Leaf(_l("Apply for internet mediation"), "InternetApplyView.apply", ("can_apply", "InternetApplyView"),
             active_on=("InternetApplyView.apply",)),
        Leaf(_l("My internet mediation applications"), "InternetApplyView.index",
             ("can_index", "InternetApplyView"), active_on=("InternetApplyView.index", "InternetApplyView.show",
                                                             "InternetApplyView.mediators")),
    ], icon="fa-globe"),
    Group(_l("My cases"), [
        Leaf(_l("Documents to sign"), "PartyPortalView.index", ("can_index", "PartyPortalView")),
    ], icon="fa-pencil"),
    Group(_l("Organisation portal"), [
        Leaf(_l("Our cases"), "OrganisationPortalView.index", ("can_index", "OrganisationPortalView"),
             active_on=("OrganisationPortalView.index", "OrganisationPortalView.dispatch")),
        Leaf(_l("Our mediators"), "OrganisationPortalView.mediators", ("can_mediators", "OrganisationPortalView"),
             active_on=("OrganisationPortalView.mediators",)),
    ], icon="fa-users"),
    Group(_l("Grassroots portal"), [
        Leaf(_l("Dispute resolution"), "LiaisonView.index", ("can_index", "LiaisonView")),
    ], icon="fa-home"),
    Group(_l("Organisation management"), [
        Group(_l("Mediation organisation management"), [
            # one screen, two FAQ names: here for ministries that bind [FAQ 6.1, 6.2(2)], under
            # 名册管理 for those that apply to courts [FAQ 6.7(1)]; never both in one sidebar
            Leaf(_l("Mediation organisation management"), "MinistryOrganisationView.list",
                 ("can_list", "MinistryOrganisationView"), when=MINISTRY_BINDS),
            Leaf(_l("Bind mediation organisation"), "BindOrganisationView.index", ("can_index", "BindOrganisationView")),
        ]),
        Leaf(_l("Ministry cases"), "MinistryCaseView.list", ("can_list", "MinistryCaseView")),
    ], icon="fa-link"),
    Group(_l("Quality and efficiency indicators"), [
        # [FAQ 2.4] 【案件统计报表查询】 and its 注 【案件统计报表】-【报表明细查询】
        Group(_l("Case statistics reports"), [
            Leaf(_l("Case statistics report"), "StatisticsView.report", ("can_report", "StatisticsView"),
                 active_on=("StatisticsView.report",)),
            Leaf(_l("Report detail query"), "StatisticsView.detail", ("can_report", "StatisticsView"),
                 active_on=("StatisticsView.detail",)),
        ]),
        Leaf(_l("Dashboard"), "StatisticsView.dashboard", ("can_dashboard", "StatisticsView"),
             active_on=("StatisticsView.dashboard",)),
        Leaf(_l("My exports"), "StatisticsView.jobs", ("can_export", "StatisticsView"),
             active_on=("StatisticsView.jobs", "StatisticsView.job")),
    ], icon="fa-bar-chart"),
    Group(_l("Court management"), [
        Leaf(_l("Court users"), "CourtStaffView.list", ("can_list", "CourtStaffView")),
    ], icon="fa-university"),
    Group(_l("Roster management"), [
        Group(_l("Invited mediator roster management"), [
            Leaf(_l("Invited mediator roster"), "InvitedMediatorView.list", ("can_list", "InvitedMediatorView")),
            Leaf(_l("Mediator certification"), "MediatorCertificationView.list",
                 ("can_list", "MediatorCertificationView")),
        ]),
        Group(_l("Other mediator roster management"), [
            Leaf(_l("Other mediator roster"), "OtherMediatorView.list", ("can_list", "OtherMediatorView")),
        ]),
        Group(_l("Invited organisation roster management"), [
            Leaf(_l("Invited organisation roster"), "OrganisationRosterView.list",
                 ("can_list", "OrganisationRosterView")),
            Leaf(_l("Invited organisation certification"), "OrganisationCertificationView.list",
                 ("can_list", "OrganisationCertificationView")),
        ]),
        # [FAQ 6.7(1)] 部委端 【名册管理】-【调解组织名册管理】-【调解组织名册】 › 申请法院认证: the
        # ministry's organisations (组织管理 › 调解组织管理 for the others), for ministries that apply
        Group(_l("Mediation organisation roster management"), [
            Leaf(_l("Mediation organisation roster"), "MinistryOrganisationView.list",
                 ("can_apply", "MinistryOrganisationView"), when=MINISTRY_APPLIES),
        ]),
    ], icon="fa-address-book"),
    Group(_l("Source governance"), [
        Group(_l("People's court roster management"), [
            Leaf(_l("People's court management"), "TribunalView.list", ("can_list", "TribunalView")),
            Leaf(_l("Grassroots unit management"), "GrassrootsUnitView.list", ("can_list", "GrassrootsUnitView")),
        ]),
        Leaf(_l("Grassroots dispute resolution"), "DisputeView.list", ("can_list", "DisputeView")),
        Leaf(_l("Grassroots figures"), "GrassrootsFiguresView.index", ("can_index", "GrassrootsFiguresView")),
    ], icon="fa-sitemap"),
    Group(_l("My settings"), [
        Leaf(_l("Certified courts"), "MyCertificationView.list", ("can_list", "MyCertificationView")),
    ], icon="fa-cog"),
    Group(_l("Platform back office"), [
        Leaf(_l("Courts"), "CourtView.list", ("can_list", "CourtView")),
        Leaf(_l("Ministries"), "MinistryView.list", ("can_list", "MinistryView")),
        Leaf(_l("Holidays and workdays"), "HolidayView.list", ("can_list", "HolidayView")),
        Leaf(_l("SMS records"), "SmsOutboxView.list", ("can_list", "SmsOutboxView")),
        Leaf(_l("Push records"), "OutboxView.list", ("can_list", "OutboxView")),
        Leaf(_l("Pushes without an outcome"), "UnansweredPushView.list", ("can_list", "UnansweredPushView")),
        Leaf(_l("Organisation passwords"), "OrganisationPasswordView.search", ("can_reset", "OrganisationPasswordView")),
        Leaf(_l("Multi-party video review"), "MultiVideoReviewView.list", ("can_review", "MultiVideoReviewView")),
        Leaf(_l("Real-name review"), "IdentityReviewView.list", ("can_review", "IdentityReviewView")),
        Leaf(_l("Users"), "UserDBModelView.list", ("can_list", "UserDBModelView")),
        Leaf(_l("Roles"), "RoleModelView.list", ("can_list", "RoleModelView")),
    ], icon="fa-server"),
    Group(_l("Operation log"), [
        Leaf(_l("Audit trail"), "AuditLogView.list", ("can_list", "AuditLogView")),
    ], icon="fa-history"),
]


@dataclass
class Shown:
    label: str
    url: str | None = None
    active: bool = False
    icon: str = ""
    children: list = field(default_factory=list)


def visible_menu(has_access, holds: Callable[[str], bool] = lambda condition: True,
                 cache=None, key=None) -> list[Shown]:
    """The tree the acting user may see, with the current page marked; `holds(name)` answers `Leaf.when`.

    The tree without the marks depends only on what `has_access` and `holds` answer and on the
    language, so with a `cache` it is built once per `key` (app/permission_cache.py), which must
    therefore carry the answers of `holds` for `CONDITIONS`, and only marked per page."""
    tree = cache.get(key) if cache is not None else None
    if tree is None:
        tree = _visible_tree(has_access, holds)
        if cache is not None:
            cache.put(key, tree)
    endpoint = request.endpoint
    return [_marked(node, endpoint) for node in tree]


def _visible_tree(has_access, holds) -> list[tuple]:
    """(node, label, url, children) for every node the user may see; groups without a child drop out."""

    def walk(node):
        if isinstance(node, Leaf):
            if not has_access(*node.permission) or (node.when is not None and not holds(node.when)):
                return None
            return node, str(node.label), url_for(node.endpoint, **node.args), ()
        kids = tuple(k for k in (walk(c) for c in node.children) if k is not None)
        return (node, str(node.label), None, kids) if kids else None

    return [s for s in (walk(n) for n in MENU) if s is not None]


def _marked(entry: tuple, endpoint: str | None) -> Shown:
    node, label, url, kids = entry
    if isinstance(node, Leaf):
        return Shown(label, url, node.is_active(endpoint))
    children = [_marked(k, endpoint) for k in kids]
    return Shown(label, None, any(k.active for k in children), node.icon, children)
