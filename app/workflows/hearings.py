"""视频调解: a case's video room, who may be in it, and the signaling between the browsers.

    (new) ──视频呼叫 (mediator; case 调解中; 申请人 / 被申请人 / both)──▶ 进行中
    进行中 ──视频呼叫 (a second invitation: the same room, rejoined)────▶ 进行中
    进行中 ──进入视频 (the mediator, or an invited party / agent)──────▶ 进行中
    进行中 ──离开视频 (closing the page leaves the room open)────────────▶ 进行中
    进行中 ──结束视频 (mediator)──────────────────────────────────────▶ 已结束
    已结束: the room page says so and the mediator starts a fresh 视频呼叫.

Who is admitted [FAQ 4.1 注意(3)]: the mediator always; until a 多路视频申请
of the case is approved (app/workflows/multi_video.py) one person per side at
a time; afterwards every party and agent of the case, up to
`VIDEO_MAX_PARTICIPANTS` in all. Only while the case is 调解中 [FAQ 4.1(1)].

Sources: [FAQ 4.1(1)] 视频调解 › 视频呼叫 on a 调解中 case, the parties accept;
[FAQ 4.1 注意(2)] a closed room page leaves the room, which can be re-entered,
and a second invitation finds the room existing; [FAQ 4.1 注意(3)] 多路视频;
SPEC §3.5.

Every call, entry, exit and end is a transition of the `hearing` machine, so
it is one audit row of the case (the engine writes codes). `NEW` is the state
of a room inside the transaction of its first call only.

Signaling (offers, answers, ICE candidates) is stored in `hearing_signal`
and read by polling, so any number of app processes serve one room. A
browser's entry gets a `session` (the id of its entry signal); the later
session offers to the earlier ones, and a re-entered page is a new session
the others connect to afresh. Presence is the last poll: a page that stopped
polling for `VIDEO_PRESENCE_SECONDS` is no longer in the room.

Media through Janus (`VIDEO_BACKEND = "janus"`, app/janus.py): the same
transitions, rooms, presence and polling; the media go through the SFU, so
signaling rows are not needed and a 多路视频 room may hold up to
`VIDEO_MAX_PARTICIPANTS_SFU`. The first call creates the hearing's VideoRoom
room (random id, secret, pin); every 进入视频 the machine allows gets a fresh
token for that entry, handed to that page only (`sfu_credentials`), and
leaving, re-entering from another page or 结束视频 revokes it (结束视频 also
destroys the room). Janus unreachable: 视频呼叫 and 进入视频 are refused with a
reason and nothing changes in the database; leaving and 结束视频 go on (a Janus
that is down holds no room). A Janus restarted since the call gets the same
room again at the next entry.
"""
from __future__ import annotations

import datetime as dt
import json
from typing import Optional

import sqlalchemy as sa
from flask import current_app
from flask_appbuilder.security.sqla.models import User
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .. import janus, transactions
from ..clock import utcnow
from ..enums import CaseStatus, HearingRole, HearingStatus as S, PartyRole, SmsKind
from ..extensions import db
from ..models import Case, Hearing, HearingParticipant, HearingSignal, case_shallow
from ..roles import Portal
from ..sms import send_sms
from . import DomainError, NotAllowed
from . import multi_video, recordings
from .actor import Actor
from .engine import Hint, Machine, Transition, flush_or_conflict

SIDES = ("APPLICANT", "RESPONDENT")
SIGNAL_KINDS = frozenset({"offer", "answer", "candidate"})
MAX_SIGNAL_BYTES = 64 * 1024
#: signals older than this are removed when someone enters (a room's history is not kept)
SIGNAL_KEEP = dt.timedelta(hours=1)

MEDIATOR = "mediator"
INVITED = "invited"


def _login_phone(actor: Actor) -> Optional[str]:
    if actor.user_id is None:
        return None
    return db.session.scalar(sa.select(User.username).where(User.id == actor.user_id))


def invitation(hearing: Hearing, actor: Actor) -> Optional[HearingParticipant]:
    """The acting party's or agent's invitation to this room (their participant row), if any."""
    portal = actor.scope.portal
    if portal not in (Portal.PARTY, Portal.AGENT):
        return None
    role = HearingRole.PARTY if portal is Portal.PARTY else HearingRole.AGENT
    phone = _login_phone(actor)
    return next((p for p in hearing.participants if p.role is role and p.phone and p.phone == phone), None)


def participant_of(hearing: Hearing, actor: Actor) -> Optional[HearingParticipant]:
    """The actor's row in the room: the mediator's (by account) or the invitation."""
    if actor.is_mediator_of(hearing.case):
        return next((p for p in hearing.participants
                     if p.role is HearingRole.MEDIATOR and p.user_id == actor.user_id), None)
    return invitation(hearing, actor)


ROLES = {
    MEDIATOR: lambda hearing, actor: actor.is_mediator_of(hearing.case),
    INVITED: lambda hearing, actor: invitation(hearing, actor) is not None,
}


def may_enter(hearing: Hearing, actor: Actor) -> bool:
    """The case's mediator, or a party / agent invited to this room."""
    return any(ROLES[r](hearing, actor) for r in ROLES)


def presence_seconds() -> int:
    return int(current_app.config.get("VIDEO_PRESENCE_SECONDS", 20))


def is_present(p: HearingParticipant, now: Optional[dt.datetime] = None) -> bool:
    if p.session is None or p.left_at is not None or p.last_seen_at is None:
        return False
    return p.last_seen_at >= (now or utcnow()) - dt.timedelta(seconds=presence_seconds())


def present(hearing: Hearing) -> list[HearingParticipant]:
    now = utcnow()
    return [p for p in hearing.participants if is_present(p, now)]


# --- guards: each returns None or a translated reason -------------------------

def _case_mediating(hearing, actor, data) -> Optional[str]:
    if hearing.case.status is not CaseStatus.MEDIATING:
        return _("Video mediation is only possible while the case is %(status)s.",
                 status=CaseStatus.MEDIATING.label)
    return None


def _sides_chosen(hearing, actor, data) -> Optional[str]:
    sides = data.get("sides") or ()
    if not sides or not set(sides) <= set(SIDES):
        return _("Choose whom to call: the applicant, the respondent or both.")
    if not [p for p in hearing.case.parties if p.role.name in sides and p.phone]:
        return _("The side you chose has no party with a mobile number.")
    return None


def _room_has_space(hearing, actor, data) -> Optional[str]:
    """[FAQ 4.1 注意(3)]: one person per side until 多路视频 is approved; the cap after."""
    me = participant_of(hearing, actor)
    if me is None or me.role is HearingRole.MEDIATOR:
        return None
    others = [p for p in present(hearing) if p.id != me.id]
    if multi_video.approved(hearing.case):
        cap = max_participants()
        if len(others) + 1 > cap:
            return _("The room is full: at most %(n)d people may be in it.", n=cap)
        return None
    same_side = [p for p in others if p.role is not HearingRole.MEDIATOR and p.side == me.side]
    if same_side:
        return _("%(name)s is already in the room for this side. Until a multi-party video application of "
                 "the case is approved, one person per side may be in the room.", name=same_side[0].name)
    return None


def max_participants() -> int:
    """The cap of an approved 多路视频 room: larger through the SFU than in a mesh of browsers."""
    if janus.sfu() is not None:
        return int(current_app.config.get("VIDEO_MAX_PARTICIPANTS_SFU", 25))
    return int(current_app.config.get("VIDEO_MAX_PARTICIPANTS", 9))


# --- effects -------------------------------------------------------------------

SfuUnavailable = recordings.SfuUnavailable


def _undo(what: str, fn) -> None:
    """Undo a step taken in Janus if the transaction that took it rolls back (the call or the entry
    failed after it): no room or entry token outlives the rows that name it."""
    def undo():
        try:
            fn()
        except janus.JanusError as exc:
            current_app.logger.warning("janus: undoing %s: %s", what, exc)
    transactions.on_rollback(db.session(), undo)


def _create_room(server, hearing: Hearing) -> None:
    room, secret = hearing.sfu_room, hearing.sfu_secret
    server.create_room(room, secret, hearing.sfu_pin, publishers=max_participants(),
                       description=f"hearing#{hearing.id}")
    _undo("a room", lambda: server.destroy_room(room, secret))


def _sfu(hearing: Hearing, step, required: bool = True):
    """Run `step(server)` against Janus when it is the backend. Its failure refuses the transition when
    `required` (entering needs Janus); leaving and ending go on without it (a Janus that is down has
    no room or tokens left to remove)."""
    server = janus.sfu()
    if server is None:
        return None
    try:
        if hearing.sfu_room is None:  # the first call (or the first entry after switching to Janus)
            hearing.sfu_room, hearing.sfu_secret, hearing.sfu_pin = (janus.new_room_id(), janus.new_secret(),
                                                                     janus.new_secret())
            _create_room(server, hearing)
        try:
            return step(server)
        except janus.JanusError:
            if not required or server.exists(hearing.sfu_room):
                raise
            _create_room(server, hearing)  # Janus restarted and forgot its rooms: the same room again
            return step(server)
    except janus.JanusError as exc:
        current_app.logger.warning("janus: %s", exc)
        if required:
            raise recordings.sfu_unavailable() from exc
        return None


def _revoke(hearing: Hearing, p: HearingParticipant):
    def step(server):
        if p.sfu_token:
            server.revoke(hearing.sfu_room, hearing.sfu_secret, p.sfu_token, feed=p.session)
        p.sfu_token = None
    return step


def _ensure(hearing, role, name, phone=None, side=None, party_id=None, agent_id=None, user_id=None):
    for p in hearing.participants:
        if p.role is role and ((role is HearingRole.MEDIATOR and p.user_id == user_id)
                               or (role is not HearingRole.MEDIATOR and p.phone == phone)):
            return p, False
    p = HearingParticipant(role=role, name=name, phone=phone, side=side, party_id=party_id, agent_id=agent_id,
                           user_id=user_id)
    hearing.participants.append(p)
    return p, True


def _mediator_name(case: Case, actor: Actor) -> str:
    if case.mediator is not None and case.mediator.user_id == actor.user_id:
        return case.mediator.name
    user = db.session.get(User, actor.user_id) if actor.user_id else None
    return (user.first_name or user.username) if user else str(_l("Mediator"))


def _call(hearing, actor, data):
    case = hearing.case
    mediator = _mediator_name(case, actor)
    _ensure(hearing, HearingRole.MEDIATOR, mediator, user_id=actor.user_id)
    sides = sorted(set(data["sides"]))
    for party in case.parties:
        if party.role.name not in sides:
            continue
        people = [(HearingRole.PARTY, party.name, party.phone, None)]
        people += [(HearingRole.AGENT, a.name, a.phone, a.id) for a in party.agents]
        for role, name, phone, agent_id in people:
            if not phone:
                continue
            p, _new = _ensure(hearing, role, name, phone=phone, side=party.role.name, party_id=party.id,
                              agent_id=agent_id)
            p.invited_at = utcnow()
            send_sms(phone, SmsKind.NOTICE, _(
                "Mediator %(mediator)s invites you to the video mediation of case "
                "%(number)s (%(cause)s). Log in to the platform and press Join video.",
                mediator=mediator, number=str(case), cause=case.cause))
    hearing.sides = sorted(set(hearing.sides or ()) | set(sides))
    db.session.flush()
    _sfu(hearing, lambda server: None)  # the room exists before anyone enters it


def _signal(hearing, me, kind, from_session=None, to_session=None, payload=None) -> HearingSignal:
    signal = HearingSignal(hearing_id=hearing.id, from_participant_id=me.id, from_session=from_session,
                           to_session=to_session, kind=kind, payload=payload)
    db.session.add(signal)
    return signal


def _join(hearing, actor, data):
    me = participant_of(hearing, actor)
    if me is None:  # the case's mediator entering a room another mediator of the organisation called
        me, _new = _ensure(hearing, HearingRole.MEDIATOR, _mediator_name(hearing.case, actor),
                           user_id=actor.user_id)
    db.session.flush()
    db.session.execute(sa.delete(HearingSignal).where(HearingSignal.hearing_id == hearing.id,
                                                      HearingSignal.created_at < utcnow() - SIGNAL_KEEP))
    signal = _signal(hearing, me, "join")
    db.session.flush()
    signal.from_session = signal.id
    now = utcnow()
    if me.sfu_token:
        _sfu(hearing, _revoke(hearing, me), required=False)  # an earlier page of theirs is out of the SFU room

    def admit(server):
        token = me.sfu_token = janus.new_secret()
        server.admit(hearing.sfu_room, hearing.sfu_secret, token)
        _undo("an entry token", lambda: server.remove_token(token))
    _sfu(hearing, admit)
    me.session, me.joined_at, me.last_seen_at, me.left_at = signal.id, now, now, None
    recordings.note_entry(hearing)


def _leave(hearing, actor, data):
    me = participant_of(hearing, actor)
    if me is None or me.session is None or me.session != data.get("session"):
        return  # already out (another page of theirs took over, or they left)
    _signal(hearing, me, "leave", from_session=me.session)
    if me.sfu_token:
        _sfu(hearing, _revoke(hearing, me), required=False)
    me.session, me.left_at = None, utcnow()


def _end(hearing, actor, data):
    now = utcnow()
    hearing.ended_at = now
    me = participant_of(hearing, actor)
    for p in hearing.participants:
        if p.session is not None:
            p.session, p.left_at = None, now
    if me is not None:
        _signal(hearing, me, "end")
    recordings.finish_all(hearing)

    def close(server):
        server.destroy_room(hearing.sfu_room, hearing.sfu_secret)  # everyone still in it is out
        for p in hearing.participants:
            if p.sfu_token:
                server.remove_token(p.sfu_token)
                p.sfu_token = None
    if hearing.sfu_room is not None:
        _sfu(hearing, close, required=False)
    # an ended room is never entered again: its credentials leave the database even if Janus was down
    hearing.sfu_room = hearing.sfu_secret = hearing.sfu_pin = None
    for p in hearing.participants:
        p.sfu_token = None


TRANSITIONS = [
    Transition(event="call", label=_l("Video call"), sources=frozenset({S.NEW, S.OPEN}), target=S.OPEN,
               who=frozenset({MEDIATOR}), guards=(_case_mediating, _sides_chosen), effect=_call),
    Transition(event="join", label=_l("Enter the video room"), sources=frozenset({S.OPEN}), target=S.OPEN,
               who=frozenset({MEDIATOR, INVITED}), guards=(_case_mediating, _room_has_space), effect=_join),
    Transition(event="leave", label=_l("Leave the video room"), sources=frozenset({S.OPEN}), target=S.OPEN,
               who=frozenset({MEDIATOR, INVITED}), effect=_leave),
    Transition(event="end", label=_l("End the video"), sources=frozenset({S.OPEN}), target=S.ENDED,
               who=frozenset({MEDIATOR}), effect=_end),
]

HINTS = {
    "call": Hint(fields=("sides",), css="btn-primary"),
    "join": Hint(css="btn-primary"),
    "leave": Hint(css="btn-default"),
    "end": Hint(css="btn-danger", confirm=_l("End the video for everyone in the room?")),
}

MACHINE = Machine(name="hearing", transitions=TRANSITIONS, roles=ROLES, hints=HINTS, noun=_l("video room"),
                  conflict_message=_l("The video room was changed in the meantime. Reload the page and try "
                                      "again."))


# --- what the views call ----------------------------------------------------------

def live_room(case: Case) -> Optional[Hearing]:
    """The case's open room, if there is one (a second call rejoins it)."""
    return db.session.scalar(sa.select(Hearing).where(Hearing.case_id == case.id, Hearing.status == S.OPEN)
                             .order_by(Hearing.id.desc()).limit(1))


def latest_room(case: Case) -> Optional[Hearing]:
    return db.session.scalar(sa.select(Hearing).where(Hearing.case_id == case.id)
                             .order_by(Hearing.id.desc()).limit(1))


def is_live(hearing: Hearing) -> bool:
    """Open, on a case still 调解中: a room one may be in."""
    return hearing.status is S.OPEN and hearing.case.status is CaseStatus.MEDIATING


def may_call(case: Case, actor: Actor) -> bool:
    """Whether 视频调解 shows on the case page: the case's mediator, while it is 调解中."""
    return actor.is_mediator_of(case) and case.status is CaseStatus.MEDIATING


def call(case: Case, actor: Actor, sides) -> Hearing:
    """视频呼叫: invite the chosen sides into the live room, or into a new one."""
    if not actor.is_mediator_of(case):
        raise NotAllowed(_("You may not %(event)s this %(subject)s.", event=str(MACHINE["call"].label),
                           subject=str(MACHINE.noun)))
    hearing = live_room(case)
    if hearing is None:
        hearing = Hearing(case=case, status=S.NEW, sides=[], created_by_id=actor.user_id)
        db.session.add(hearing)
        db.session.flush()
    MACHINE.apply(hearing, "call", actor, sides=list(sides or ()))
    return hearing


def join(hearing: Hearing, actor: Actor) -> HearingParticipant:
    """进入视频: a new session of the actor in the room; the others will connect to it."""
    MACHINE.apply(hearing, "join", actor)
    return participant_of(hearing, actor)


def leave(hearing: Hearing, actor: Actor, session: Optional[int]) -> None:
    if hearing.status is S.OPEN and may_enter(hearing, actor):
        MACHINE.apply(hearing, "leave", actor, session=session)


def end(hearing: Hearing, actor: Actor, expected_version: Optional[int] = None) -> None:
    MACHINE.apply(hearing, "end", actor, expected_version)


def sfu_credentials(hearing: Hearing, me: HearingParticipant) -> Optional[dict]:
    """What the page of an entry the machine admitted needs to enter the SFU room; None under the mesh.
    Only the `join` step's answer carries it, to that page."""
    if hearing.sfu_room is None or not me.sfu_token:
        return None
    return {"room": hearing.sfu_room, "pin": hearing.sfu_pin, "token": me.sfu_token, "feed": me.session}


def _me_in(hearing: Hearing, actor: Actor, session) -> HearingParticipant:
    if not may_enter(hearing, actor):
        raise NotAllowed(_("You are not invited to this video room."))
    me = participant_of(hearing, actor)
    if me is None or session is None or me.session != session:
        raise Superseded(_("You entered this room from another page; this page has left it."))
    return me


class Superseded(DomainError):
    """The page's session is no longer the actor's session in the room (409)."""

    status_code = 409


def _roster(hearing: Hearing, me_id: int) -> list[dict]:
    case = hearing.case
    return [{"session": p.session, "name": p.name, "role": p.role.label,
             "side": PartyRole[p.side].label_for(case.case_type) if p.side else "",
             "me": p.id == me_id, "mediator": p.role is HearingRole.MEDIATOR}
            for p in present(hearing)]


def poll(hearing: Hearing, actor: Actor, session: Optional[int], after: int) -> dict:
    """The signals for this page since `after`, and who is in the room; counts as presence."""
    if not may_enter(hearing, actor):
        raise NotAllowed(_("You are not invited to this video room."))
    if not is_live(hearing):
        return {"open": False, "signals": [], "roster": []}
    me = _me_in(hearing, actor, session)
    me.last_seen_at = utcnow()
    rows = db.session.scalars(sa.select(HearingSignal).where(
        HearingSignal.hearing_id == hearing.id, HearingSignal.id > after,
        sa.or_(HearingSignal.to_session == session,
               sa.and_(HearingSignal.to_session.is_(None), HearingSignal.from_session != session)))
        .order_by(HearingSignal.id).limit(200)).all()
    flush_or_conflict()
    return {
        "open": True,
        "signals": [{"id": s.id, "from": s.from_session, "kind": s.kind,
                     "data": json.loads(s.payload) if s.payload else None} for s in rows],
        "last": rows[-1].id if rows else after,
        "roster": _roster(hearing, me.id),
    }


def send_signal(hearing: Hearing, actor: Actor, session: Optional[int], to_session, kind: str, data) -> None:
    """An offer, answer or ICE candidate for one other page in the room."""
    me = _me_in(hearing, actor, session)
    if hearing.status is not S.OPEN:
        raise DomainError(_("The video room was ended."))
    if kind not in SIGNAL_KINDS:
        raise DomainError(_("Unknown operation."))
    payload = json.dumps(data, ensure_ascii=False)
    if len(payload.encode()) > MAX_SIGNAL_BYTES:
        raise DomainError(_("The message is too large."))
    target = next((p for p in present(hearing) if p.session == to_session), None)
    if target is None or target.id == me.id:
        raise DomainError(_("That participant is no longer in the room."))
    _signal(hearing, me, kind, from_session=session, to_session=to_session, payload=payload)
    db.session.flush()


def invitations_for(phone: str, as_agent: bool) -> list[tuple[Case, Hearing]]:
    """The open rooms a party's (or agent's) login is invited to: the 加入视频 banner of the portal."""
    role = HearingRole.AGENT if as_agent else HearingRole.PARTY
    rows = db.session.execute(
        sa.select(Case, Hearing).join(Hearing, Hearing.case_id == Case.id).options(*case_shallow())
        .join(HearingParticipant, HearingParticipant.hearing_id == Hearing.id)
        .where(Hearing.status == S.OPEN, Case.status == CaseStatus.MEDIATING,
               HearingParticipant.role == role, HearingParticipant.phone == phone)
        .order_by(Hearing.id.desc())).all()
    return [(c, h) for c, h in rows]


def party_sides(case: Case) -> list[tuple[str, str, str]]:
    """(code, label, who) of the sides the mediator may call, in the case's wording (申请人 / 原告 …)."""
    sides = []
    for role in (PartyRole.APPLICANT, PartyRole.RESPONDENT):
        people = [p.name + "".join(f"、{a.name}（{a.agent_type.label}）" for a in p.agents)
                  for p in case.parties if p.role is role]
        if people:
            sides.append((role.name, role.label_for(case.case_type), "；".join(people)))
    return sides


def available_events(hearing: Hearing, actor: Actor):
    return MACHINE.available(hearing, actor)

