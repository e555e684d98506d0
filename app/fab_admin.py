"""平台后台 › 用户 / 角色: FAB's account and role screens in Chinese (issue 15 item 4).

FAB's own views show English help texts, `True`, `None`, the synthetic e-mail
every account carries (`…@phone.invalid`, FAB requires one), the unused 用户组
and raw permission names (`can_list on DeadlineView`). These subclasses keep
FAB's behaviour, class names (endpoints and permissions) and say the same things in the
platform's words.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask import current_app
from flask_appbuilder.fields import QuerySelectMultipleField
from flask_appbuilder.models.sqla.filters import FilterNotEqual
from flask_appbuilder.fieldwidgets import Select2ManyWidget
from flask_appbuilder.security import views as fab_views
from flask_appbuilder.widgets import ListWidget, ShowWidget
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from . import clock
from .extensions import db
from .menu import MENU, Leaf

#: FAB's verbs, in words (a permission `can_<verb>` or FAB's `menu_access`)
VERBS = {
    "can_list": _l("list"), "can_show": _l("view details"), "can_add": _l("add"), "can_edit": _l("edit"),
    "can_delete": _l("delete"), "can_export": _l("export"), "can_download": _l("download"),
    "can_index": _l("open"), "menu_access": _l("see in the menu"), "can_get": _l("read through the API"),
    "can_info": _l("read through the API"), "can_post": _l("write through the API"),
    "can_put": _l("write through the API"),
    # the platform's own verbs (@permission_name on its custom pages) and FAB's account screens' own
    "can_review": _l("review"), "can_decide": _l("accept or decline"), "can_read": _l("read documents"),
    "can_sign": _l("sign"), "can_resend": _l("push again"), "can_mediators": _l("see the mediators"),
    "can_add_mediator": _l("add mediators"), "can_dispatch": _l("dispatch cases"), "can_import": _l("bulk import"),
    "can_dashboard": _l("see the dashboard"), "can_report": _l("see the report"),
    "can_result": _l("return results"), "can_approve": _l("approve"), "can_reject": _l("reject"),
    "can_userinfo": _l("see own account"), "userinfoedit": _l("edit own account"),
    "resetmypassword": _l("change own password"), "resetpasswords": _l("reset others' passwords"),
    "copyrole": _l("copy roles"), "can_choose": _l("choose a mediator"), "can_respond": _l("answer"),
    "can_apply": _l("apply"), "can_detail": _l("see the details"), "can_record": _l("record"),
    "can_bind": _l("bind"), "can_unbind": _l("unbind"), "can_reset": _l("reset the password"),
    "can_password": _l("reset the password"),
    "can_this_form_get": _l("open"), "can_this_form_post": _l("submit"), "can_chart": _l("see the chart"),
    "can_transition": _l("change the case's state"), "can_edit_info": _l("edit the mediation details"),
    "can_write_agreements": _l("draft and upload"), "can_read_agreements": _l("read documents"),
    "can_view": _l("view details"), "can_room": _l("enter the video room"), "can_call": _l("start a video call"),
    "can_upload_recordings": _l("upload recordings"), "can_list_recordings": _l("see recordings"),
    "can_submit": _l("submit"), "can_portal": _l("leave messages as a party"), "can_verify": _l("check evidence"),
    "can_upload": _l("upload"), "can_ask": _l("apply"), "can_declare": _l("declare"),
}

#: FAB's and the API's screens that have no sidebar entry or page title of their own
SCREENS = {
    "User's Statistics": _l("Account statistics"), "Base Permissions": _l("Base permissions"),
    "Views/Menus": _l("Pages and menus"), "Permission on Views/Menus": _l("Page permissions"),
    "MenuApi": _l("Menu API"), "CaseMessageView": _l("Case messages"),
    "HomeView": _l("Home page"), "UserInfoEditView": _l("Own account"), "ResetPasswordView": _l("Reset password"),
    "ResetMyPasswordView": _l("Change password"), "UserStatsChartView": _l("Account statistics"),
    "CasePartyView": _l("Case parties"), "CaseAgentView": _l("Case agents"), "CaseDetailView": _l("Case page"),
    "AgreementView": _l("Agreements and transcripts"), "ApplicationDetailView": _l("Application page"),
    "PortalApplicationView": _l("My applications"), "HearingView": _l("Video mediation"),
    "RecordingView": _l("Recordings"), "MultiVideoView": _l("Multi-party video application"),
    "IdentityView": _l("Real-name verification"), "EvidenceView": _l("Evidence"),
    "MediatorChangeView": _l("Change of mediator"), "ConflictView": _l("Conflict declaration"),
    "Security": _l("Security"), "List Users": _l("Accounts"), "List Roles": _l("Roles"),
    "List Groups": _l("Groups"),
}

#: FAB's built-in role for visitors who are not logged in
_PUBLIC = _l("Visitors (not logged in)")


def _yes_no(value) -> str:
    return _("Yes") if value else _("No")


def _roles(roles) -> str:
    return "、".join(_role_name(r.name) for r in roles or [])


def _role_name(name: str) -> str:
    return str(_PUBLIC) if name == current_app.config.get("AUTH_ROLE_PUBLIC", "Public") else name


def _count(value) -> int:
    return value or 0


def _time(value) -> str:
    return clock.shown(value) if value else "—"


def _screen_names() -> dict:
    """A permission's view name → what the platform calls that screen."""
    cache = current_app.extensions.setdefault("court_screen_names", {})  # per language: the labels are lazy
    names = cache.get(str(get_locale()))
    if names is None:
        names = {view: str(label) for view, label in SCREENS.items()}

        def walk(node):
            if isinstance(node, Leaf):
                names.setdefault(node.permission[1], str(node.label))
            else:
                names.setdefault(str(node.label), str(node.label))
                for child in node.children:
                    walk(child)

        for node in MENU:
            walk(node)
        for view in current_app.appbuilder.baseviews:
            title = getattr(view, "list_title", None) or getattr(view, "show_title", None)
            if title and any(ord(ch) > 127 for ch in str(title)):
                names.setdefault(view.class_permission_name, str(title))
        cache[str(get_locale())] = names
    return names


def permission_text(pvm) -> str:
    """`案件管理：查看详情` for FAB's `can_show on PreLitigationCaseView`."""
    names = _screen_names()
    screen = names.get(pvm.view_menu.name, _("Other screen"))
    verb = VERBS.get(pvm.permission.name) or _("other operation")
    return f"{screen}：{verb}"


def _permissions(pvms) -> str:
    return "\n".join(sorted({permission_text(p) for p in pvms or []}))


def _all_permissions() -> list:
    model = current_app.appbuilder.sm.permissionview_model
    return sorted(db.session.scalars(sa.select(model)).all(), key=permission_text)


def _permissions_field():
    """The role form's permissions, named like the role page names them (not `can list on DeadlineView`)."""
    return QuerySelectMultipleField(_l("What the role may do"), query_func=_all_permissions,
                                    get_pk_func=lambda pvm: pvm.id, get_label=permission_text,
                                    widget=Select2ManyWidget())


class UserDBModelView(fab_views.UserDBModelView):
    # FAB's class name: it is the endpoint (menu, links) and the permission's view name
    list_widget = ListWidget
    list_title = _l("Accounts")
    show_title = _l("Account")
    add_title = _l("Add account")
    edit_title = _l("Edit account")
    list_columns = ["first_name", "username", "active", "roles"]
    search_columns = ["first_name", "username", "active", "roles"]
    show_fieldsets = [
        (_l("Account"), {"fields": ["first_name", "username", "active", "roles"]}),
        (_l("Logins"), {"fields": ["last_login", "login_count", "fail_login_count", "created_on", "changed_on"],
                        "expanded": True}),
    ]
    user_show_fieldsets = show_fieldsets[:1]
    add_columns = ["first_name", "username", "active", "email", "roles", "password", "conf_password"]
    edit_columns = ["first_name", "username", "active", "email", "roles"]
    # FAB's role of the anonymous visitor (AUTH_ROLE_PUBLIC, config.py) is nobody's account role: not offered
    add_form_query_rel_fields = edit_form_query_rel_fields = {"roles": [["name", FilterNotEqual, "Public"]]}
    label_columns = {
        "first_name": _l("Name"),
        "last_name": _l("Surname"),
        "username": _l("Login (phone, credit code or name)"),
        "password": _l("Password"),
        "conf_password": _l("Confirm password"),
        "active": _l("Enabled"),
        "email": _l("E-mail address"),  # FAB's column is NOT NULL: required, whatever the label says
        "roles": _l("Roles of the account"),
        "last_login": _l("Last login (Beijing time)"),
        "login_count": _l("Logins"),
        "fail_login_count": _l("Failed logins in a row"),
        "created_on": _l("Created (Beijing time)"),
        "changed_on": _l("Changed (Beijing time)"),
    }
    description_columns = {
        "first_name": _l("The person's or organisation's name, as screens and the audit trail show it."),
        "username": _l("What the account logs in with: a phone number (an organisation: its credit code)."),
        "active": _l("Untick to stop the account logging in; accounts are never deleted."),
        "email": _l("Not used for logging in."),
        "roles": _l("What the account may do; the login portal decides which of its roles acts."),
        "password": _l("The account's password."),
        "conf_password": _l("The same password again."),
    }
    formatters_columns = {"active": _yes_no, "roles": _roles, "last_login": _time, "created_on": _time,
                          "changed_on": _time, "login_count": _count, "fail_login_count": _count}


class RoleModelView(fab_views.RoleModelView):
    list_widget = ListWidget
    show_widget = ShowWidget
    list_title = _l("Roles")
    show_title = _l("Role details")  # "Role" is a party's 诉讼地位
    add_title = _l("Add role")
    edit_title = _l("Edit role")
    related_views = []
    label_columns = {"name": _l("Role name"), "permissions": _l("What the role may do")}
    list_columns = ["name"]
    show_columns = ["name", "permissions"]
    search_columns = ["name"]
    formatters_columns = {"name": _role_name, "permissions": _permissions}
    add_form_extra_fields = {"permissions": _permissions_field()}
    edit_form_extra_fields = {"permissions": _permissions_field()}
