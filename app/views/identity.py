"""实名认证 [FAQ 3.13, Rules art 17]: the portal page, 平台后台 › 实名审核, and the ID images.

Who may use each screen (a view's permission, then the workflow's own check):

- `IdentityView` 实名认证 (/portal/identity): a party or agent, for themselves (当事人端, 代理人端).
- `IdentityReviewView` 实名审核 (/identity-review): platform staff (平台后台).
- `IdentityImageView` (/identity-image/<id>/<side>): the person and platform staff only; the
  mediator, the court, another party or anyone else gets 403 (`identity.image_key`). The images
  are sent with `no-store` and appear in no export.
"""
from __future__ import annotations

from flask import Response, abort, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _

from ..clock import local
from ..extensions import db
from ..models import IdentityVerification
from ..roles import Portal
from ..storage import file_store
from ..workflows import NotAllowed, NotFound, identity
from .edge import edge
from .scope import current_actor, portal_identity

IMAGE_TYPES = {b"\x89PNG": "image/png", b"\xff\xd8\xff": "image/jpeg"}


def identity_banner():
    """The portal's line about 实名认证 (a template global): (status, url), or None off the portal."""
    if getattr(g, "user", None) is None or not g.user.is_authenticated:
        return None
    actor = current_actor()
    if actor.scope.portal not in (Portal.PARTY, Portal.AGENT):
        return None
    return identity.status_of(actor.user_id), url_for("IdentityView.index")


def _image_url(ident: IdentityVerification, side: str) -> str | None:
    return url_for("IdentityImageView.image", iid=ident.id, side=side) if getattr(ident, f"{side}_key") else None


class IdentityView(BaseView):
    """当事人端 / 代理人端 › 实名认证: the state, and the form while it may be (re)submitted."""

    route_base = "/portal/identity"
    default_view = "index"

    def _page(self, form=None):
        portal_identity()  # 403 off the party and agent portals
        actor = current_actor()
        ident = identity.verification_of(actor.user_id)
        return self.render_template(
            "identity/portal.html", title=_("Real-name verification"), ident=ident,
            status=ident.status if ident is not None else identity.status_of(None),
            actions=identity.available_identity_actions(ident, actor), form=form or {},
            sides=[(s, identity.SIDE_LABELS[s], _image_url(ident, s) if ident else None) for s in identity.SIDES],
            local=local, mask=identity.mask)

    @expose("/")
    @has_access
    def index(self):
        return self._page()

    @expose("/", methods=["POST"])
    @has_access
    @permission_name("submit")
    @edge(refused="_refused")
    def submit(self):
        portal_identity()
        files = {side: request.files[side].stream for side in identity.SIDES
                 if side in request.files and request.files[side].filename}
        ident = identity.submit(current_actor(), request.form.get("name", ""), request.form.get("id_number", ""),
                                files)
        flash(_("Submitted: %(status)s.", status=ident.status.label), "success")
        return redirect(url_for(".index"))

    def _refused(self, exc):
        if isinstance(exc, NotAllowed):
            abort(403)
        return self._page(form=request.form)


class IdentityReviewView(BaseView):
    """平台后台 › 实名审核: the queue, one submission with its images, 通过 / 驳回."""

    route_base = "/identity-review"
    default_view = "list"

    @expose("/")
    @has_access
    @permission_name("review")
    def list(self):
        if not current_actor().scope.is_platform:
            abort(403)
        return self.render_template("identity/review_list.html", title=_("Real-name review"),
                                    rows=identity.review_queue(), local=local, mask=identity.mask)

    @expose("/<int:iid>")
    @has_access
    @permission_name("review")
    def detail(self, iid, exc=None):
        actor = current_actor()
        if not actor.scope.is_platform:
            abort(403)
        ident = db.session.get(IdentityVerification, iid) or abort(404)
        return self.render_template(
            "identity/review.html", title=_("Real-name review"), ident=ident,
            events=identity.available_identity_actions(ident, actor), local=local,
            sides=[(s, identity.SIDE_LABELS[s], _image_url(ident, s)) for s in identity.SIDES],
            reason=request.form.get("reason", ""))

    @expose("/<int:iid>/<event>", methods=["POST"])
    @has_access
    @permission_name("review")
    @edge(refused="_refused")
    def review(self, iid, event):
        ident = db.session.get(IdentityVerification, iid) or abort(404)
        identity.review(ident, event, current_actor(), request.form.get("reason", ""),
                        request.form.get("version", type=int))
        flash(_("%(event)s: done.", event=identity.MACHINE[event].label), "success")
        return redirect(url_for(".list"))

    def _refused(self, iid, event, exc):
        if isinstance(exc, NotAllowed):
            abort(403)
        if isinstance(exc, NotFound):
            abort(404)
        return self.detail(iid)


class IdentityImageView(BaseView):
    """One ID image, to the person and platform staff only: everyone else, logged in or not, 403."""

    route_base = "/identity-image"

    @expose("/<int:iid>/<side>")
    def image(self, iid, side):
        if getattr(g, "user", None) is None or not g.user.is_authenticated:
            abort(403)
        ident = db.session.get(IdentityVerification, iid)
        if ident is None or side not in identity.SIDES:
            abort(404)
        if not identity.may_read_images(ident, current_actor()):
            abort(403)
        key = getattr(ident, f"{side}_key") or abort(404)  # deleted after the retention
        store = file_store()
        head = next(store.iter_range(key, 0, 7), b"")
        mimetype = next((t for magic, t in IMAGE_TYPES.items() if head.startswith(magic)), "application/octet-stream")
        resp = Response(store.iter_range(key), mimetype=mimetype)
        resp.headers["Cache-Control"] = "no-store, private"
        resp.headers["X-Content-Type-Options"] = "nosniff"
        resp.headers["Content-Disposition"] = "inline"
        return resp
