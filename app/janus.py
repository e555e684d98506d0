"""Janus, the SFU behind `VIDEO_BACKEND = "janus"`: the app's server side of its HTTP API.

The app creates one VideoRoom room per hearing, with a random id, secret and
pin, and destroys it when the hearing ends (app/workflows/hearings.py decides
when; this module only speaks the protocol). Janus runs with an API secret and
token authentication (deploy/janus, scripts/janus-server): this server uses the
API secret, which never leaves it; a browser the workflow admits gets one token
for its entry, added here to Janus (admin API `add_token`) and to the room's
`allowed` list, and removed again when the entry ends — so the pin alone, or a
token of an earlier entry, does not get anyone in.

Each call is a short Janus session of its own (create, attach, message,
destroy): nothing is held between requests, so any app process can serve any
room. Errors are `JanusError`; the workflow turns them into a Chinese reason.
"""
from __future__ import annotations

import json
import secrets
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Optional

from flask import current_app

VIDEOROOM = "janus.plugin.videoroom"
#: VideoRoom's "no such room" and "no such participant": the room or entry is gone already
_GONE = {426, 428}


class JanusError(RuntimeError):
    """Janus did not answer, or answered with an error."""


def new_secret() -> str:
    return secrets.token_urlsafe(24)


def new_room_id() -> int:
    # below 2**53, so the browser's JSON numbers hold it exactly
    return secrets.randbelow(2 ** 52) + 1


@dataclass(frozen=True)
class Janus:
    api_url: str
    admin_url: str
    api_secret: str
    admin_secret: str
    timeout: float = 10.0

    # --- transport -------------------------------------------------------------------
    def _post(self, url: str, body: dict) -> dict:
        body = {**body, "transaction": secrets.token_hex(8)}
        request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as resp:
                answer = json.loads(resp.read().decode())
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise JanusError(f"Janus at {url}: {exc}") from exc
        if answer.get("janus") == "error":
            error = answer.get("error") or {}
            raise JanusError(f"Janus: {error.get('code')} {error.get('reason')}")
        return answer

    def _api(self, path: str, body: dict) -> dict:
        return self._post(self.api_url.rstrip("/") + path, {**body, "apisecret": self.api_secret})

    def _admin(self, body: dict) -> dict:
        return self._post(self.admin_url, {**body, "admin_secret": self.admin_secret})

    def videoroom(self, body: dict, gone_ok: bool = False) -> dict:
        """One synchronous VideoRoom request in a session of its own; its `plugindata.data`."""
        session = self._api("", {"janus": "create"})["data"]["id"]
        try:
            handle = self._api(f"/{session}", {"janus": "attach", "plugin": VIDEOROOM})["data"]["id"]
            answer = self._api(f"/{session}/{handle}", {"janus": "message", "body": body})
        finally:
            try:
                self._api(f"/{session}", {"janus": "destroy"})
            except JanusError:
                pass  # the session times out on its own
        data = (answer.get("plugindata") or {}).get("data") or {}
        code = data.get("error_code")
        if code and not (gone_ok and code in _GONE):
            raise JanusError(f"VideoRoom {body.get('request')}: {code} {data.get('error')}")
        return data

    # --- rooms ---------------------------------------------------------------------
    def create_room(self, room: int, secret: str, pin: str, publishers: int, description: str,
                    rec_dir: Optional[str] = None) -> None:
        body = {"request": "create", "room": room, "permanent": False, "secret": secret, "pin": pin,
                "admin_key": self.admin_secret, "description": description, "is_private": True,
                "publishers": publishers, "allowed": [], "audiocodec": "opus", "videocodec": "vp8",
                "bitrate": 512000, "fir_freq": 10, "record": False, "lock_record": True}
        if rec_dir:
            body["rec_dir"] = rec_dir
        self.videoroom(body)

    def destroy_room(self, room: int, secret: str) -> None:
        self.videoroom({"request": "destroy", "room": room, "secret": secret}, gone_ok=True)

    def exists(self, room: int) -> bool:
        return bool(self.videoroom({"request": "exists", "room": room}).get("exists"))

    def participants(self, room: int) -> list[dict]:
        return self.videoroom({"request": "listparticipants", "room": room}).get("participants") or []

    # --- entries -------------------------------------------------------------------
    def admit(self, room: int, secret: str, token: str) -> None:
        """Let one browser in: `token` authenticates its Janus requests and is on the room's list."""
        self._admin({"janus": "add_token", "token": token, "plugins": [VIDEOROOM]})
        self.videoroom({"request": "allowed", "room": room, "secret": secret, "action": "add",
                        "allowed": [token]})

    def revoke(self, room: int, secret: str, token: str, feed: Optional[int] = None) -> None:
        """End one entry: its token stops working and its publisher (if in) is kicked out."""
        if feed is not None:
            self.videoroom({"request": "kick", "room": room, "secret": secret, "id": feed}, gone_ok=True)
        self.videoroom({"request": "allowed", "room": room, "secret": secret, "action": "remove",
                        "allowed": [token]}, gone_ok=True)
        self.remove_token(token)

    def remove_token(self, token: str) -> None:
        try:
            self._admin({"janus": "remove_token", "token": token})
        except JanusError as exc:
            if "not found" not in str(exc).lower() and "490" not in str(exc):
                raise

    def tokens(self) -> list[str]:
        return [t["token"] for t in (self._admin({"janus": "list_tokens"}).get("data") or {}).get("tokens", [])]

    # --- recording -----------------------------------------------------------------
    def record(self, room: int, secret: str, on: bool, rec_dir: Optional[str] = None) -> None:
        """Start or stop recording every publisher of the room (one .mjr per stream, in `rec_dir`)."""
        if rec_dir:
            self.videoroom({"request": "edit", "room": room, "secret": secret, "new_rec_dir": rec_dir})
        self.videoroom({"request": "enable_recording", "room": room, "secret": secret, "record": bool(on)},
                       gone_ok=not on)


def from_config(config) -> Optional[Janus]:
    if config.get("VIDEO_BACKEND", "mesh") != "janus":
        return None
    missing = [k for k in ("JANUS_URL", "JANUS_ADMIN_URL", "JANUS_API_SECRET", "JANUS_ADMIN_SECRET")
               if not config.get(k)]
    if missing:
        raise RuntimeError("VIDEO_BACKEND=janus needs " + ", ".join(missing))
    return Janus(api_url=config.get("JANUS_API_URL") or config["JANUS_URL"], admin_url=config["JANUS_ADMIN_URL"],
                 api_secret=config["JANUS_API_SECRET"], admin_secret=config["JANUS_ADMIN_SECRET"],
                 timeout=float(config.get("JANUS_TIMEOUT_SECONDS") or 10))


def sfu() -> Optional[Janus]:
    """The configured Janus, or None for the mesh."""
    return from_config(current_app.config)
