"""Reference data every installation has: the seven ministries of 总对总 [FAQ 6.7]."""
from __future__ import annotations

from ..enums import CertificationPath
from ..extensions import db
from ..models import Ministry
from .common import get

# SPEC §2 / [FAQ 6.7]: 工商联 and 人民银行 organisations apply to courts from the
# ministry side; for the others the court adds the organisation first.
MINISTRIES = [
    ("acfic", "中华全国工商联", CertificationPath.MINISTRY_APPLIES),
    ("pbc", "中国人民银行", CertificationPath.MINISTRY_APPLIES),
    ("cbirc", "银保监会", CertificationPath.COURT_ADDS),
    ("acftu", "全国总工会", CertificationPath.COURT_ADDS),
    ("ndrc", "国家发改委", CertificationPath.COURT_ADDS),
    ("cnipa", "国家知识产权局", CertificationPath.COURT_ADDS),
    ("acfroc", "中国侨联", CertificationPath.COURT_ADDS),
]
# [FAQ 6.2(1)]: 工商联 organisation passwords are reset by platform staff.
PASSWORD_RESET_BY_PLATFORM = {"acfic"}


def seed_reference() -> None:
    for order, (code, name, path) in enumerate(MINISTRIES):
        if get(Ministry, code=code) is None:
            db.session.add(Ministry(code=code, name=name, certification_path=path, sort_order=order,
                                    password_reset_by_platform=code in PASSWORD_RESET_BY_PLATFORM))
    db.session.flush()
