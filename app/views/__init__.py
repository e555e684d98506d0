"""Registers every screen on one AppBuilder. Menus come from `app/menu.py`."""
from __future__ import annotations

from flask import current_app, g, request
from flask_babel import get_locale

from ..extensions import csrf
from ..menu import CONDITIONS, MINISTRY_APPLIES, MINISTRY_BINDS, visible_menu
from ..roles import Portal
from ..security import active_portal, current_scope
from ..serving import local_path
from ..workflows import ministry as ministry_workflow
from .account import HomeView, PasswordResetView
from .after_mediation import (
    ApplicationDeadlineView,
    ApplicationDetailView,
    FilingView,
    JudicialConfirmationView,
    MediationDocumentView,
    PortalApplicationView,
    SimulatedIntranetView,
)
from .api import CaseApi
from . import page_texts
from .case_detail import CaseDetailView
from .agreements import AgreementView, PartyPortalView, SigningView
from .hearings import RAW_BODY_VIEWS, HearingView, MultiVideoReviewView, MultiVideoView, RecordingView, video_invitations
from .identity import IdentityImageView, IdentityReviewView, IdentityView, identity_banner
from .messages import CaseMessageView
from .grassroots import DisputeView, GrassrootsFiguresView, LiaisonView
from .internet import VIEWS as INTERNET_VIEWS
from .intranet_api import bp as intranet_api
from .ministry import (
    BindOrganisationView,
    MinistryOrganisationView,
    OrganisationCertificationView,
    OrganisationPasswordView,
    ResourcesView,
)
from .platform import OutboxView, UnansweredPushView
from .pushes import CourtPushView
from .cases import (
    CaseAgentView,
    CasePartyView,
    DeadlineView,
    HistoricalCaseView,
    InLitigationCaseView,
    InternetCaseView,
    MinistryCaseView,
    MyCaseView,
    PreLitigationCaseView,
)
from .court import CourtStaffView, GrassrootsUnitView, TribunalView
from .mediator import MyCertificationView
from .organisation import OrganisationPortalView
from .self_service import CodeLoginView, MediatorRegisterView
from .ministry_api import bp as ministry_api
from .statistics import StatisticsView
from .platform import AuditLogView, CourtView, HolidayView, MinistryView, SmsOutboxView
from .roster import (
    InvitedMediatorView,
    MediatorCertificationView,
    OrganisationRosterView,
    OtherMediatorView,
)

VIEWS = [
    CourtStaffView,
    InvitedMediatorView,
    OtherMediatorView,
    MediatorCertificationView,
    OrganisationRosterView,
    TribunalView,
    GrassrootsUnitView,
    MyCertificationView,
    CourtView,
    MinistryView,
    SmsOutboxView,
    AuditLogView,
    HolidayView,
    PasswordResetView,
    CodeLoginView,
    MediatorRegisterView,
    OrganisationPortalView,
    PreLitigationCaseView,
    InLitigationCaseView,
    InternetCaseView,
    HistoricalCaseView,
    MyCaseView,
    DeadlineView,
    CasePartyView,
    CaseAgentView,
    CaseDetailView,
    AgreementView,
    SigningView,
    PartyPortalView,
    LiaisonView,
    DisputeView,
    GrassrootsFiguresView,
    MinistryOrganisationView,
    BindOrganisationView,
    OrganisationCertificationView,
    ResourcesView,
    OrganisationPasswordView,
    OutboxView,
    UnansweredPushView,
    CourtPushView,
    MinistryCaseView,
    StatisticsView,
    JudicialConfirmationView,
    MediationDocumentView,
    FilingView,
    ApplicationDeadlineView,
    ApplicationDetailView,
    PortalApplicationView,
    SimulatedIntranetView,
    HearingView,
    RecordingView,
    MultiVideoView,
    MultiVideoReviewView,
    IdentityView,
    IdentityReviewView,
    IdentityImageView,
    CaseMessageView,
    *INTERNET_VIEWS,
]

__all__ = ["HomeView", "register", "VIEWS"]


#: screens of one portal's own identity (a party's cases, an organisation's, a liaison's unit, a ministry's
#: bindings, a mediator's certifications): they answer 403 on any other portal — even to the platform
#: admin, whose role holds every permission — so the sidebar does not offer them there
PORTAL_SCREENS = {
    "PartyPortalView": (Portal.PARTY, Portal.AGENT),
    "OrganisationPortalView": (Portal.ORGANISATION,),
    "LiaisonView": (Portal.GRASSROOTS,),
    "BindOrganisationView": (Portal.MINISTRY,),
    "MyCertificationView": (Portal.MEDIATOR,),
    "CourtPushView": (Portal.COURT,),
}


def _shown_in_sidebar(permission: str, view_name: str) -> bool:
    portals = PORTAL_SCREENS.get(view_name)
    if portals is not None and active_portal() not in portals:
        return False
    return current_app.appbuilder.sm.has_access(permission, view_name)


def _sidebar_condition(name: str) -> bool:
    """`Leaf.when` for the acting account (app/menu.py); the ministry's kind is read once per request
    (the cache key and both leaves ask for it)."""
    if "_ministry_applies" not in g:
        g._ministry_applies = ministry_workflow.applies_for_certification(current_scope())
    applies = g._ministry_applies
    return {MINISTRY_APPLIES: applies, MINISTRY_BINDS: not applies}[name]


def register(appbuilder) -> None:
    for view in VIEWS:
        appbuilder.add_view_no_menu(view)
    appbuilder.add_api(CaseApi)
    app = current_app._get_current_object()
    app.register_blueprint(ministry_api)
    app.register_blueprint(intranet_api)
    for name in RAW_BODY_VIEWS:  # they check CSRF themselves, after raising the body limit
        csrf.exempt(name)

    @app.after_request
    def _language_stays_on_the_page(response):
        """FAB's /lang/<code> goes back through its page history, which only its model views fill, so switching
        the language on a custom page (the party portal, statistics) landed on the home page; the links carry
        `?next=` (court/base.html)."""
        if request.endpoint == "LocaleView.index" and response.status_code == 302:
            target = local_path(request.args.get("next"))
            if target:
                response.headers["Location"] = target
        return response

    @app.context_processor
    def _court_context():
        def sidebar_menu():
            if "_sidebar" not in g:
                sm = current_app.appbuilder.sm
                permissions = sm.current_permission_key()
                if permissions is None:
                    g._sidebar = visible_menu(_shown_in_sidebar, _sidebar_condition)
                else:
                    conditions = tuple(_sidebar_condition(name) for name in CONDITIONS)
                    key = (permissions, conditions, active_portal(), str(get_locale()), request.script_root)
                    g._sidebar = visible_menu(_shown_in_sidebar, _sidebar_condition, sm.menu_cache, key)
            return g._sidebar

        def heading():
            user = getattr(g, "user", None)
            return page_texts.page_heading(sidebar_menu()) if user is not None and user.is_authenticated else ""

        return {
            "sidebar_menu": sidebar_menu,
            "html_lang": page_texts.html_lang,
            "page_heading": heading,
            "widget_texts": page_texts.widget_texts,
            "court_scope": current_scope,
            "get_locale": get_locale,
            "can": current_app.appbuilder.sm.has_access,
            "video_invitations": video_invitations,
            "identity_banner": identity_banner,
        }
