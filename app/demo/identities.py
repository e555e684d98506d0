"""实名认证 (issue 14 item 4): the demo parties and the special agent sign in the demo cases, so they
are verified first — submitted with images and approved through 人工审核 by 陈客服 (13300000001);
刘代理's submission waits in 平台后台 › 实名审核 as the queue's sample."""
from __future__ import annotations

import io

from ..roles import Portal
from ..security import Scope
from ..workflows import identity
from ..workflows.accounts import find_user
from ..workflows.actor import Actor

# A 1×1 PNG stands in for the ID card's sides and the holding photo: the demo compares nothing.
PICTURE = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000b49444154789c6360000200000500017a5eab3f0000000049454e44ae426082")

#: (phone, name, ID number, portal, the review event or None: left 待审核)
DEMO_IDENTITIES = [
    ("13500000001", "张三", "110105198001010016", Portal.PARTY, "approve"),
    ("13500000002", "李四", "11010519850505002X", Portal.PARTY, "approve"),
    ("13500000003", "王律师", "110101197505050011", Portal.AGENT, "approve"),
    ("13500000004", "刘代理", "110102198203030024", Portal.AGENT, None),
]


def seed_identities() -> None:
    support = find_user("13300000001")
    reviewer = Actor(support.id, Scope(portal=Portal.PLATFORM, is_platform=True))
    for phone, name, id_number, portal, event in DEMO_IDENTITIES:
        user = find_user(phone)
        if user is None or identity.verification_of(user.id) is not None:
            continue
        person = Actor(user.id, Scope(portal=portal))
        verification = identity.submit(person, name, id_number, {side: io.BytesIO(PICTURE) for side in identity.SIDES})
        if event:
            identity.review(verification, event, reviewer)
