"""The face-verification adapter of 实名认证 [FAQ 3.13, Rules art 17] (config `FACE_VERIFIER`).

A submission (name, ID number, the photo holding the ID card) is offered to the
adapter first. It answers one of:

- `FaceOutcome.PASSED` — the provider compared the face with the photo the
  public-security identity service holds for that name and ID number: the
  identity is 已认证 at once (`identity.face_pass`, the platform acting);
- `FaceOutcome.MANUAL` — it cannot decide (no provider, a poor photo, the
  service is away): the submission waits for 人工审核 in 平台后台 › 实名审核.

An adapter never refuses on its own: a doubtful face goes to a person.

The local default `ManualReviewOnly` answers MANUAL for everything, so every
submission is reviewed by platform staff. A province plugs in its provider by
naming a class with the same `check` method, e.g.
`FACE_VERIFIER=province_adapters.ctid:CtidFaceVerifier`: a client of the
公安部 CTID 网上身份认证 (or the provincial 政务服务 face service, 腾讯/阿里 实人认证)
that sends the name, the ID number and the holding photo (JPEG/PNG bytes),
and returns PASSED only on the provider's explicit match above its threshold,
MANUAL on anything else (a timeout included). The adapter is called inside
the request; it must answer within a few seconds.
"""
from __future__ import annotations

import enum
import importlib
from dataclasses import dataclass
from typing import Protocol

from flask import current_app


class FaceOutcome(enum.Enum):
    PASSED = "passed"
    MANUAL = "manual"


@dataclass(frozen=True)
class FaceResult:
    outcome: FaceOutcome
    #: the provider's reference for the check (kept in the log), if any
    reference: str = ""


class FaceVerifier(Protocol):
    def check(self, name: str, id_number: str, holding_photo: bytes) -> FaceResult: ...


class ManualReviewOnly:
    """The local default: no face provider; platform staff review every submission."""

    def check(self, name: str, id_number: str, holding_photo: bytes) -> FaceResult:
        return FaceResult(FaceOutcome.MANUAL)


def face_verifier() -> FaceVerifier:
    """The configured adapter (`FACE_VERIFIER`, "module:Class")."""
    spec = current_app.config.get("FACE_VERIFIER") or "app.identity_check:ManualReviewOnly"
    module_name, _colon, class_name = spec.partition(":")
    return getattr(importlib.import_module(module_name), class_name)()
