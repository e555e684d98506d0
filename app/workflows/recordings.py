"""录音录像 of a case: recorded in a hearing, or uploaded; played and deleted [FAQ 4.1(2), 4.2].

    (new) ──开始录制 (mediator; case 调解中; the room is open)──▶ 录制中
    录制中 ──录制结束 (mediator; also when the room ends)─────────▶ 可播放
    (new) ──上传录音录像 (mediator; case 调解中; checked by content)──▶ 可播放
    录制中 / 可播放 ──删除 (mediator, confirmed)────────────────────▶ gone; the audit row keeps it

Who sees them: the case's mediator and its court's staff, nobody else [FAQ 4.2].
Deleting a case deletes its recordings' files [FAQ 3.3] (`delete_case_files`,
called from the case's `delete` transition).

The bytes are in the file store (app/storage.py): an upload is streamed into
it in fixed-size chunks, checked by its first bytes (webm/mkv, mp4/m4a, mp3,
wav) and by `RECORDING_MAX_BYTES` while it streams; a refused upload leaves
nothing behind. A hearing's recording grows chunk by chunk as the mediator's
browser uploads what MediaRecorder produced (`append_chunk`, not a transition:
the state does not change), so a closed tab loses only the last seconds; when
it is finished the WebM gets its duration written into its header, so the
player can show the length and seek.

Recorded on the server (VIDEO_BACKEND=janus with JANUS_RECORDINGS_DIR): the
mediator's 开始录制 makes Janus record every stream of the room into a folder of
the recording's own (`sfu_dir`), 停止录制 (or the room's end) stops it, and
`flask worker` converts the folder with janus-pp-rec — each participant's
video to WebM, their audio to Ogg Opus — into the file store; the first file
becomes this row, each further one a row of its own, the same list, playback
and permissions as the browser's recordings:

    录制中 ──停止录制 (mediator; also the room's end)──▶ 录制中 (finished_at: waiting for the worker)
    录制中 ──转换 (the platform, in `flask worker`)───────▶ 可播放
    录制中 ──(nothing was recorded)──────────────────────▶ gone

Sources: [FAQ 4.1(2)] 上传录音录像 as 音视频佐证; [FAQ 4.2] 查看录像, 查看或删除;
[FAQ 3.3] deleting a case; SPEC §3.5.
"""
from __future__ import annotations

import datetime as dt
import glob
import logging
import os
import re
import secrets
import shutil
import struct
import subprocess
import tempfile
from itertools import chain
from typing import Optional

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .. import janus, transactions
from ..clock import local, utcnow
from ..enums import CaseStatus, HearingStatus, RecordingSource, RecordingStatus as S
from ..extensions import db
from ..models import Case, Hearing, Recording
from ..storage import Refused, StoreError, TooLarge, chunks_of, delete_after_commit, delete_on_rollback, file_store
from . import Conflict, DomainError, NotAllowed
from .actor import SYSTEM, Actor
from .engine import Hint, Machine, Transition, flush_or_conflict

log = logging.getLogger("court.recordings")

DEFAULT_MAX_BYTES = 2 * 1024 ** 3
PREFIX = "recordings"

MEDIATOR = "mediator"
SYSTEM_ROLE = "system"

ROLES = {
    MEDIATOR: lambda rec, actor: actor.is_mediator_of(rec.case),
    SYSTEM_ROLE: lambda rec, actor: actor.system,
}


def max_bytes() -> int:
    return int(current_app.config.get("RECORDING_MAX_BYTES", DEFAULT_MAX_BYTES))


def may_view(case: Case, actor: Actor) -> bool:
    """[FAQ 4.2]: the case's mediator and the case's court."""
    return actor.is_mediator_of(case) or actor.is_court_staff_of(case)


def may_upload(case: Case, actor: Actor) -> bool:
    """Whether 上传录音录像 shows: the case's mediator, while it is 调解中."""
    return actor.is_mediator_of(case) and case.status is CaseStatus.MEDIATING


def playable(rec: Recording) -> bool:
    """Its bytes are in the store (a recording Janus made has none until the worker converted it)."""
    return bool(rec.file_key)


def check_view(case: Case, actor: Actor) -> None:
    if not may_view(case, actor):
        raise NotAllowed(_("Only the case's mediator and court may see its recordings."))


# --- what a file is, by its first bytes ---------------------------------------------

#: (extension, content type) by what the file starts with
def media_kind(head: bytes) -> Optional[tuple[str, str]]:
    """webm / mkv (EBML), mp4 / m4a (ftyp), mp3 (ID3 or an MPEG audio frame), wav (RIFF…WAVE)."""
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return ("webm", "video/webm") if b"webm" in head[:64] else ("mkv", "video/x-matroska")
    if head[4:8] == b"ftyp":
        return ("m4a", "audio/mp4") if head[8:12] in (b"M4A ", b"M4B ") else ("mp4", "video/mp4")
    if head[:3] == b"ID3" or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return ("mp3", "audio/mpeg")
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return ("wav", "audio/wav")
    return None


def _check_media(head: bytes) -> None:
    if not head:
        raise Refused(_("The file is empty."))
    if media_kind(head) is None:
        raise Refused(_("The file is not an audio or video recording (webm, mp4, m4a, mp3 or wav are "
                        "accepted)."))


def human_size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def _too_large_message() -> str:
    return _("The file is larger than the limit of %(size)s.", size=human_size(max_bytes()))


# --- recorded by Janus ----------------------------------------------------------------

class SfuUnavailable(DomainError):
    """Janus did not answer or refused the app's request (503)."""

    status_code = 503


def sfu_unavailable() -> SfuUnavailable:
    return SfuUnavailable(_("The video server cannot be reached. Try again in a moment; if it persists, "
                            "tell the platform's staff."))


def on_server(hearing: Optional[Hearing]) -> bool:
    """Whether this room's recordings are made by Janus rather than in the mediator's browser."""
    return (hearing is not None and hearing.sfu_room is not None and janus.sfu() is not None
            and bool(current_app.config.get("JANUS_RECORDINGS_DIR")))


def _janus_record(rec: Recording, on: bool) -> None:
    hearing = db.session.get(Hearing, rec.hearing_id) if rec.hearing_id else None
    server = janus.sfu()
    if hearing is None or hearing.sfu_room is None or server is None:
        return
    folder = os.path.join(current_app.config["JANUS_RECORDINGS_DIR"], rec.sfu_dir)
    try:
        server.record(hearing.sfu_room, hearing.sfu_secret, on, rec_dir=folder if on else None)
    except janus.JanusError as exc:
        log.warning("janus: %s", exc)
        if on:
            raise sfu_unavailable() from exc
        # stopping: the room may be gone already, and Janus closes its files when a room goes


def _feeds(hearing: Hearing) -> dict:
    return {str(p.session): p.name for p in hearing.participants if p.session is not None}


def note_entry(hearing: Hearing) -> None:
    """Someone entered the room: a recording Janus is making learns whose stream is whose."""
    for rec in db.session.scalars(sa.select(Recording).where(
            Recording.hearing_id == hearing.id, Recording.status == S.RECORDING,
            Recording.sfu_dir.is_not(None), Recording.finished_at.is_(None))):
        rec.sfu_feeds = {**(rec.sfu_feeds or {}), **_feeds(hearing)}


# --- guards ----------------------------------------------------------------------

def _case_mediating(rec, actor, data) -> Optional[str]:
    if rec.case.status is not CaseStatus.MEDIATING:
        return _("Recordings are made and uploaded while the case is %(status)s.",
                 status=CaseStatus.MEDIATING.label)
    return None


def _room_open(rec, actor, data) -> Optional[str]:
    hearing = db.session.get(Hearing, rec.hearing_id) if rec.hearing_id else None
    if hearing is None or hearing.status is not HearingStatus.OPEN:
        return _("The video room was ended.")
    return None


def _named(rec, actor, data) -> Optional[str]:
    return None if (data.get("file_name") or "").strip() else _("Choose a file to upload.")


def _declared_size(rec, actor, data) -> Optional[str]:
    """A request that says it is over the limit is refused before it is read."""
    declared = data.get("declared_size")
    if declared is not None and declared > max_bytes():
        return _too_large_message()
    if declared == 0:
        return _("The file is empty.")
    return None


def _in_browser(rec, actor, data) -> Optional[str]:
    return _("The recording is being made on the video server.") if rec.sfu_dir else None


def _on_the_server(rec, actor, data) -> Optional[str]:
    return None if rec.sfu_dir else _("The recording is being made in the browser.")


def _stopped(rec, actor, data) -> Optional[str]:
    return None if rec.finished_at is not None else _("The recording is still running.")


def _confirmed(rec, actor, data) -> Optional[str]:
    return None if data.get("confirm") else _("Confirm the deletion: it cannot be undone.")


# --- effects -------------------------------------------------------------------

def _begin(rec, actor, data):
    if rec.sfu_dir:  # Janus records into the recording's folder; the worker stores the result
        _janus_record(rec, True)
        return
    stored = file_store().put(iter(()), prefix=PREFIX, suffix=".webm")
    delete_on_rollback(db.session, stored.key)
    rec.file_key = stored.key


def _store_upload(rec, actor, data):
    try:
        stored = file_store().put(data["stream"], prefix=PREFIX, limit=max_bytes(), check=_check_media)
    except TooLarge:
        raise DomainError(_too_large_message())
    except Refused as exc:
        raise DomainError(str(exc))
    delete_on_rollback(db.session, stored.key)
    head = b"".join(file_store().iter_range(stored.key, 0, 63))
    ext, content_type = media_kind(head)
    name = data["file_name"].strip().replace("\\", "/").rsplit("/", 1)[-1][:200]
    rec.file_key, rec.size, rec.sha256 = stored.key, stored.size, stored.sha256
    rec.file_name = name if name.lower().endswith("." + ext) else f"{name}.{ext}"[:200]
    rec.content_type = content_type
    rec.finished_at = utcnow()


def _finalise(rec, actor, data):
    """Write the duration into a recorded WebM's header and hash the result."""
    store = file_store()
    if data.get("duration_ms"):
        rec.duration_ms = max(rec.duration_ms or 0, int(data["duration_ms"]))
    patch = None
    if rec.content_type == "video/webm" and rec.duration_ms and rec.size:
        patch = webm_duration_patch(b"".join(store.iter_range(rec.file_key, 0, 65535)), rec.duration_ms)
    if patch is not None:
        head, consumed = patch
        stored = store.put(chain([head], store.iter_range(rec.file_key, consumed)), prefix=PREFIX,
                           suffix=".webm")
        delete_on_rollback(db.session, stored.key)
        delete_after_commit(db.session, rec.file_key)
        rec.file_key, rec.size, rec.sha256 = stored.key, stored.size, stored.sha256
    else:
        rec.size, rec.sha256 = store.size(rec.file_key), store.sha256(rec.file_key)
    rec.finished_at = utcnow()


def _stop(rec, actor, data):
    _janus_record(rec, False)
    hearing = db.session.get(Hearing, rec.hearing_id) if rec.hearing_id else None
    if hearing is not None:
        rec.sfu_feeds = {**(rec.sfu_feeds or {}), **_feeds(hearing)}
    if data.get("duration_ms"):
        rec.duration_ms = max(rec.duration_ms or 0, int(data["duration_ms"]))
    elif rec.duration_ms is None:
        rec.duration_ms = int((utcnow() - rec.created_at).total_seconds() * 1000)
    rec.finished_at = utcnow()


def _store_converted(rec, actor, data):
    """A file janus-pp-rec wrote: into the store, hashed; the row is this file now."""
    with open(data["path"], "rb") as f:
        stored = file_store().put(chunks_of(f), prefix=PREFIX, suffix=data["suffix"])
    delete_on_rollback(db.session, stored.key)
    rec.file_key, rec.size, rec.sha256 = stored.key, stored.size, stored.sha256
    rec.file_name, rec.content_type = data["file_name"][:200], data["content_type"]
    rec.duration_ms = data.get("duration_ms") or rec.duration_ms
    rec.finished_at = rec.finished_at or utcnow()
    rec.sfu_dir = None


def _raw_folder_goes_after_commit(sfu_dir: Optional[str]) -> None:
    """A recording Janus made, deleted before the worker converted it: its raw folder goes too."""
    base = current_app.config.get("JANUS_RECORDINGS_DIR")
    if sfu_dir and base:
        folder = os.path.join(base, sfu_dir)
        transactions.after_commit(db.session(), lambda: remove_folder(folder))


def _delete_file(rec, actor, data):
    if rec.file_key:
        delete_after_commit(db.session, rec.file_key)
    if rec.sfu_dir:
        if rec.finished_at is None:
            _janus_record(rec, False)  # Janus stops writing into the folder first
        _raw_folder_goes_after_commit(rec.sfu_dir)


TRANSITIONS = [
    Transition(event="start", label=_l("Start recording"), sources=frozenset({S.NEW}), target=S.RECORDING,
               who=frozenset({MEDIATOR}), guards=(_case_mediating, _room_open), effect=_begin),
    Transition(event="upload", label=_l("Upload recording"), sources=frozenset({S.NEW}), target=S.READY,
               who=frozenset({MEDIATOR}), guards=(_case_mediating, _named, _declared_size), effect=_store_upload),
    Transition(event="finish", label=_l("Finish recording"), sources=frozenset({S.RECORDING}), target=S.READY,
               who=frozenset({MEDIATOR, SYSTEM_ROLE}), guards=(_in_browser,), effect=_finalise),
    Transition(event="stop", label=_l("Stop recording"), sources=frozenset({S.RECORDING}), target=S.RECORDING,
               who=frozenset({MEDIATOR, SYSTEM_ROLE}), guards=(_on_the_server,), effect=_stop),
    Transition(event="convert", label=_l("Convert the recording"), sources=frozenset({S.NEW, S.RECORDING}),
               target=S.READY, who=frozenset({SYSTEM_ROLE}), effect=_store_converted),
    Transition(event="discard", label=_l("Discard the empty recording"), sources=frozenset({S.RECORDING}),
               target=None, who=frozenset({SYSTEM_ROLE}), guards=(_on_the_server, _stopped)),
    Transition(event="delete", label=_l("Delete"), sources=frozenset({S.RECORDING, S.READY}), target=None,
               who=frozenset({MEDIATOR}), guards=(_confirmed,), effect=_delete_file),
]

HINTS = {
    "delete": Hint(fields=("confirm",), css="btn-danger",
                   confirm=_l("Delete this recording? The file is removed and cannot be restored.")),
}

MACHINE = Machine(name="recording", transitions=TRANSITIONS, roles=ROLES, hints=HINTS, noun=_l("recording"),
                  unaudited=frozenset({"chunks"}))


# --- what the views call ----------------------------------------------------------

def recordings_of(case: Case) -> list[Recording]:
    return list(db.session.scalars(sa.select(Recording).where(Recording.case_id == case.id)
                                   .order_by(Recording.id.desc())))


def _new(case: Case, actor: Actor, source: RecordingSource, name: str, content_type: str,
         hearing: Optional[Hearing] = None) -> Recording:
    rec = Recording(case=case, hearing_id=hearing.id if hearing else None, status=S.NEW, source=source,
                    file_key="", file_name=name[:200] or "-", content_type=content_type, size=0,
                    created_by_id=actor.user_id, created_by_name=_actor_name(case, actor))
    db.session.add(rec)
    db.session.flush()
    return rec


def _actor_name(case: Case, actor: Actor) -> str:
    if case.mediator is not None and case.mediator.user_id == actor.user_id:
        return case.mediator.name
    return ""


def upload(case: Case, actor: Actor, file_name: str, stream, declared_size: Optional[int]) -> Recording:
    """上传录音录像: the stream goes to the store in chunks; refused, nothing is kept."""
    rec = _new(case, actor, RecordingSource.UPLOADED, file_name or "", "application/octet-stream")
    MACHINE.apply(rec, "upload", actor, file_name=file_name or "", stream=stream, declared_size=declared_size)
    return rec


def start(hearing: Hearing, actor: Actor) -> Recording:
    """The mediator's browser starts recording the hearing; a recording left open by a closed tab ends."""
    for stale in db.session.scalars(sa.select(Recording).where(Recording.hearing_id == hearing.id,
                                                               Recording.status == S.RECORDING,
                                                               Recording.finished_at.is_(None))):
        finish(stale, actor)
    name = _("Video mediation %(time)s", time=local(utcnow()).strftime("%Y-%m-%d %H%M%S")) + ".webm"
    rec = _new(hearing.case, actor, RecordingSource.RECORDED, name, "video/webm", hearing)
    if on_server(hearing):
        rec.sfu_dir = f"recording-{rec.id}-{secrets.token_hex(4)}"
        rec.sfu_feeds = _feeds(hearing)
    MACHINE.apply(rec, "start", actor)
    return rec


def append_chunk(rec: Recording, actor: Actor, seq: int, stream, elapsed_ms: Optional[int]) -> int:
    """One piece of a running recording, in order; a piece sent twice (a retry) is kept once."""
    if not actor.is_mediator_of(rec.case):
        raise NotAllowed(_("Only the case's mediator records its hearings."))
    if rec.status is not S.RECORDING:
        raise DomainError(_("The recording has ended."))
    if seq < rec.chunks:
        return rec.size
    if seq > rec.chunks:
        raise Conflict(_("A piece of the recording is missing; expected piece %(n)d.", n=rec.chunks))
    store = file_store()
    blocks = chunks_of(stream)
    if rec.size < 64:
        # the file's first 64 bytes must be WebM's; MediaRecorder's first pieces can be a byte long
        existing = b"".join(store.iter_range(rec.file_key, 0, rec.size - 1)) if rec.size else b""
        first = b""
        for block in blocks:  # a socket hands out what has arrived: gather what the check needs
            first += block
            if len(existing + first) >= 64:
                break
        if not _starts_like_webm(existing + first):
            raise DomainError(_("The recording is not a WebM stream."))
        blocks = chain([first], blocks)
    try:
        rec.size = store.append(rec.file_key, blocks, limit=max_bytes())
    except TooLarge:
        raise DomainError(_too_large_message())
    except StoreError as exc:
        raise DomainError(str(exc))
    rec.chunks += 1
    if elapsed_ms is not None and elapsed_ms >= 0:
        rec.duration_ms = max(rec.duration_ms or 0, elapsed_ms)
    flush_or_conflict()
    return rec.size


def _starts_like_webm(head: bytes) -> bool:
    if len(head) >= 64:
        return media_kind(head[:64]) == ("webm", "video/webm")
    return len(head) > 0 and b"\x1a\x45\xdf\xa3".startswith(head[:4])


def finish(rec: Recording, actor: Actor, duration_ms: Optional[int] = None) -> Recording:
    """停止录制: the browser's recording is complete now; Janus's stops and waits for the worker."""
    return MACHINE.apply(rec, "stop" if rec.sfu_dir else "finish", actor, duration_ms=duration_ms)


def finish_all(hearing: Hearing) -> None:
    """The room ended: every recording still running in it is finished (the platform acts)."""
    for rec in db.session.scalars(sa.select(Recording).where(Recording.hearing_id == hearing.id,
                                                             Recording.status == S.RECORDING,
                                                             Recording.finished_at.is_(None))):
        finish(rec, SYSTEM)


#: Janus's files: videoroom-<room>-user-<feed>-<time>-<audio|video>[-<m-line>].mjr
_MJR = re.compile(r"-user-(\d+)-(\d+)-(audio|video)(?:-\d+)?\.mjr$")
#: what each medium becomes (janus-pp-rec: VP8 → webm, Opus → opus/ogg)
_TARGET = {"video": (".webm", "video/webm"), "audio": (".opus", "audio/ogg")}
#: the worker waits this long after 停止录制 before reading Janus's files
SETTLE = dt.timedelta(seconds=3)


def _converted(folder: str, out: str) -> list[tuple[str, str, str]]:
    """(feed, medium, path) of each .mjr in `folder` janus-pp-rec could convert, in recording order."""
    tool = current_app.config.get("JANUS_PP_REC") or "/usr/bin/janus-pp-rec"
    done = []
    for src in sorted(glob.glob(os.path.join(folder, "*.mjr")), key=lambda p: ("-video" not in p, p)):
        match = _MJR.search(src)
        if match is None:
            continue
        feed, _time, medium = match.groups()
        suffix = _TARGET[medium][0]
        dst = os.path.join(out, os.path.basename(src)[:-4] + suffix)
        result = subprocess.run([tool, src, dst], capture_output=True, timeout=3600, check=False)
        if result.returncode != 0 or not os.path.exists(dst) or os.path.getsize(dst) == 0:
            log.warning("janus-pp-rec %s: exit %s %s", src, result.returncode, result.stderr[-300:])
            continue
        done.append((feed, medium, dst))
    return done


def convert_next() -> Optional[str]:
    """`flask worker`: convert one recording Janus finished into the store (the caller commits, then
    removes the folder this returns); None when there is nothing to do. Two workers converting the
    same recording: the second one's flush meets the version column, its files are removed."""
    base = current_app.config.get("JANUS_RECORDINGS_DIR")
    if not base:
        return None
    rec = db.session.scalar(sa.select(Recording).where(
        Recording.status == S.RECORDING, Recording.sfu_dir.is_not(None),
        Recording.finished_at <= utcnow() - SETTLE).order_by(Recording.id).limit(1))
    if rec is None:
        return None
    folder = os.path.join(base, rec.sfu_dir)
    title = rec.file_name.rsplit(".", 1)[0]
    feeds = rec.sfu_feeds or {}
    with tempfile.TemporaryDirectory() as out:
        files = _converted(folder, out)
        if not files:
            MACHINE.apply(rec, "discard", SYSTEM)
            return folder
        hearing = db.session.get(Hearing, rec.hearing_id) if rec.hearing_id else None
        for i, (feed, medium, path) in enumerate(files):
            suffix, content_type = _TARGET[medium]
            who = feeds.get(feed) or _("Participant")
            name = (_("%(recording)s %(name)s video", recording=title, name=who) if medium == "video"
                    else _("%(recording)s %(name)s audio", recording=title, name=who)) + suffix
            target = rec if i == 0 else _new(rec.case, SYSTEM, RecordingSource.RECORDED, name, content_type,
                                             hearing)
            if i:
                target.created_by_id, target.created_by_name = rec.created_by_id, rec.created_by_name
                target.finished_at, target.duration_ms = rec.finished_at, rec.duration_ms
            MACHINE.apply(target, "convert", SYSTEM, path=path, suffix=suffix, file_name=name,
                          content_type=content_type, duration_ms=rec.duration_ms)
    return folder


def remove_folder(folder: str) -> None:
    """After the commit: Janus's raw files of a converted recording are not kept."""
    shutil.rmtree(folder, ignore_errors=True)


def delete(rec: Recording, actor: Actor, confirm: bool, expected_version: Optional[int] = None) -> None:
    MACHINE.apply(rec, "delete", actor, expected_version, confirm=confirm)


def delete_case_files(case: Case) -> None:
    """[FAQ 3.3]: the case is being deleted; its recordings' files go once that commits
    (the rows go with the case, ON DELETE CASCADE)."""
    for key, sfu_dir in db.session.execute(sa.select(Recording.file_key, Recording.sfu_dir)
                                           .where(Recording.case_id == case.id)):
        if key:
            delete_after_commit(db.session, key)
        _raw_folder_goes_after_commit(sfu_dir)


def available_events(rec: Recording, actor: Actor):
    return MACHINE.available(rec, actor)


# --- WebM: the duration MediaRecorder cannot write -------------------------------------

_EBML, _SEGMENT, _INFO, _DURATION, _SCALE = 0x1A45DFA3, 0x18538067, 0x1549A966, 0x4489, 0x2AD7B1


def _read_id(buf: bytes, pos: int) -> tuple[int, int]:
    first = buf[pos]
    length = next(i for i in range(1, 5) if first & (0x80 >> (i - 1)))
    return int.from_bytes(buf[pos:pos + length], "big"), pos + length


def _read_size(buf: bytes, pos: int) -> tuple[Optional[int], int]:
    first = buf[pos]
    length = next(i for i in range(1, 9) if first & (0x80 >> (i - 1)))
    value = first & (0xFF >> length)
    for b in buf[pos + 1:pos + length]:
        value = (value << 8) | b
    unknown = value == (1 << (7 * length)) - 1
    return (None if unknown else value), pos + length


def _size8(value: int) -> bytes:
    return bytes([0x01]) + value.to_bytes(7, "big")


def webm_duration_patch(head: bytes, duration_ms: int) -> Optional[tuple[bytes, int]]:
    """(the new beginning of the file, how many old bytes it replaces), or None when the header
    already has a duration or is not the simple live layout MediaRecorder writes (EBML header,
    Segment, Info first, no SeekHead before it). Pure: bytes in, bytes out."""
    try:
        ident, pos = _read_id(head, 0)
        if ident != _EBML:
            return None
        size, pos = _read_size(head, pos)
        pos += size
        ident, pos = _read_id(head, pos)
        if ident != _SEGMENT:
            return None
        seg_size, seg_start = _read_size(head, pos)
        ident, pos = _read_id(head, seg_start)
        if ident != _INFO:
            return None
        info_size, info_start = _read_size(head, pos)
        info_end = info_start + info_size
        if info_size is None or info_end > len(head):
            return None
        scale, p = 1_000_000, info_start
        while p < info_end:
            child, q = _read_id(head, p)
            child_size, q = _read_size(head, q)
            if child == _DURATION:
                return None
            if child == _SCALE:
                scale = int.from_bytes(head[q:q + child_size], "big")
            p = q + child_size
    except (IndexError, StopIteration, TypeError):
        return None
    duration = struct.pack(">d", duration_ms * 1_000_000 / scale)
    info = head[info_start:info_end] + b"\x44\x89\x88" + duration
    new_info = b"\x15\x49\xa9\x66" + _size8(len(info)) + info
    growth = len(new_info) - (info_end - seg_start)
    segment_size = b"\x01\xff\xff\xff\xff\xff\xff\xff" if seg_size is None else _size8(seg_size + growth)
    prefix = head[:_pos_of_segment_size(head)] + segment_size + new_info
    return prefix, info_end


def _pos_of_segment_size(head: bytes) -> int:
    """Where the Segment's size starts (after the EBML header and the Segment id)."""
    _ident, pos = _read_id(head, 0)
    size, pos = _read_size(head, pos)
    return pos + size + 4
