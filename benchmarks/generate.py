"""Generate the national-scale benchmark data set (issues 7 and 17).

    .venv/bin/python -m benchmarks.generate [--url URL] [--cases N] [--courts N] [--no-parties] [--no-audit] [--force]

The schema comes from the Alembic migrations and the roles from `seed`, as in
production; courts and the court admin the harness logs in as go through the
ORM and the app's account helper; the bulk (organisations, mediators with
their accounts, certifications, cases, parties, the party-name bigrams of
app/name_grams.py, audit rows) goes straight
through the DBAPI: `COPY` on PostgreSQL, `executemany` in 10k batches on
SQLite. Everything is seeded, so two runs with the same size give the same
data.

Shape: `--courts 24` (the default) is 北京 and 天津 as in issue 7; a larger
number adds generated basic courts of the other provinces (with their high
and intermediate courts) whose case load falls off as 16/rank after the
named ones (朝阳 = 16, the harness's court, stays the largest): a few large
courts, many small. Mediators and organisations are in proportion to the
cases (one mediator per 200 cases, one organisation per 2,000, at least one
mediator per court). Each case has two parties and its audit trail: the
create row and one row per transition its status implies (指派/受理,
申请结案, 结案/终止), chained as app/audit.py chains them (seq, prev_hash,
row_hash; the chain head is kept current), so `flask audit verify` holds.

Resumable: every step commits with its row in `bench_progress`; cases go in
chunks of `CHUNK`, each with its own seeded generator, so an interrupted run
continues where it stopped (`exists()` is true once the last step is done).
On PostgreSQL the secondary indexes of the big tables are dropped
before the cases and rebuilt after them (their definitions are kept in
`bench_progress`), and loading runs with `session_replication_role =
replica` (no FK triggers per row; the rows are consistent by construction).

Enum columns store the member *name* (db_enum: `sa.Enum(enum_class)` with
`native_enum=False` persists names, and the CHECK lists names).
"""
from __future__ import annotations

import argparse
import bisect
import datetime as dt
from hashlib import sha256
import itertools
import json
import operator
import os
import random
import sys
import time

import sqlalchemy as sa

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA_DIR = os.path.join(ROOT, "benchmarks", "data")
DEFAULT_URL = "sqlite:///" + os.path.join(DATA_DIR, "bench.db")

PASSWORD = "Demo@2026"
ADMIN_PHONE = "13800000001"  # 法院管理员 of the busiest court (京0105)
SEED = 20260701
BATCH = 10_000

SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
            "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
GIVEN = ("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国红梅志强海燕玉兰春梅雪梅丹婷晶鹏飞宇浩然子涵"
         "欣怡梓轩雨桐思远佳怡俊杰文博嘉懿一诺宏伟晓东立新建华丽娟永红新民淑珍玉珍凤英桂芳亮辉斌波宁")
CAUSES = ["买卖合同纠纷", "民间借贷纠纷", "金融借款合同纠纷", "信用卡纠纷", "物业服务合同纠纷", "房屋租赁合同纠纷",
          "机动车交通事故责任纠纷", "劳务合同纠纷", "装饰装修合同纠纷", "服务合同纠纷", "离婚后财产纠纷",
          "赡养纠纷", "抚养费纠纷", "相邻关系纠纷", "网络购物合同纠纷", "保险合同纠纷", "建设工程施工合同纠纷",
          "追索劳动报酬纠纷", "医疗损害责任纠纷", "股权转让纠纷", "债权转让合同纠纷", "供用热力合同纠纷"]
COMPANY_WORDS = ["华信", "中联", "鼎盛", "恒达", "金桥", "瑞丰", "宏远", "天成", "安泰", "博雅", "嘉禾", "联创",
                 "永安", "东方", "新世纪", "盛世", "智远", "汇通", "长城", "和美"]
COMPANY_KINDS = ["科技有限公司", "商贸有限公司", "物业管理有限公司", "建筑工程有限公司", "小额贷款有限公司",
                 "房地产开发有限公司", "保险股份有限公司", "银行股份有限公司北京分行", "汽车销售服务有限公司"]
ROADS = ["建国路", "朝阳北路", "中关村大街", "学院路", "长安街", "西直门外大街", "丰台路", "京顺路", "通惠河北路"]
TERMINATION = ["WITHDRAWN", "UNREACHABLE", "REFUSES_MEDIATION", "TOO_FAR_APART", "EXPIRED", "REFUSES_SIGN", "OTHER"]
ORG_TYPES = ["PEOPLES", "INDUSTRY", "COMMERCIAL", "LAWYER", "OTHER"]

# 北京: the high court, four intermediate courts and the basic courts with their real codes;
# weights ≈ relative case load (朝阳 first, so the harness's court has the most cases).
INTERMEDIATES = [("北京市第一中级人民法院", "京01"), ("北京市第二中级人民法院", "京02"),
                 ("北京市第三中级人民法院", "京03"), ("北京市第四中级人民法院", "京04")]
BASICS = [  # name, code, district, intermediate index, weight
    ("北京市朝阳区人民法院", "京0105", "朝阳区", 2, 16), ("北京市海淀区人民法院", "京0108", "海淀区", 0, 12),
    ("北京市东城区人民法院", "京0101", "东城区", 2, 5), ("北京市西城区人民法院", "京0102", "西城区", 1, 6),
    ("北京市丰台区人民法院", "京0106", "丰台区", 1, 8), ("北京市石景山区人民法院", "京0107", "石景山区", 0, 3),
    ("北京市门头沟区人民法院", "京0109", "门头沟区", 0, 2), ("北京市房山区人民法院", "京0111", "房山区", 1, 4),
    ("北京市通州区人民法院", "京0112", "通州区", 2, 6), ("北京市顺义区人民法院", "京0113", "顺义区", 2, 4),
    ("北京市昌平区人民法院", "京0114", "昌平区", 0, 6), ("北京市大兴区人民法院", "京0115", "大兴区", 1, 6),
    ("北京市怀柔区人民法院", "京0116", "怀柔区", 2, 2), ("北京市平谷区人民法院", "京0117", "平谷区", 2, 2),
    ("北京市密云区人民法院", "京0118", "密云区", 2, 2), ("北京市延庆区人民法院", "京0119", "延庆区", 0, 1),
    ("北京互联网法院", "京0491", "海淀区", 3, 8), ("北京金融法院", "京74", "西城区", 3, 3),
    ("北京知识产权法院", "京73", "海淀区", 3, 2), ("北京铁路运输法院", "京7101", "丰台区", 3, 1),
    ("天津市和平区人民法院", "津0101", "和平区", None, 3), ("天津市河西区人民法院", "津0103", "河西区", None, 3),
    ("天津市南开区人民法院", "津0104", "南开区", None, 3), ("天津市滨海新区人民法院", "津0116", "滨海新区", None, 4),
]



# The other provinces, for `--courts` beyond the 24 named basic courts.
PROVINCES = [("河北省", "冀"), ("山西省", "晋"), ("内蒙古自治区", "蒙"), ("辽宁省", "辽"), ("吉林省", "吉"),
             ("黑龙江省", "黑"), ("上海市", "沪"), ("江苏省", "苏"), ("浙江省", "浙"), ("安徽省", "皖"),
             ("福建省", "闽"), ("江西省", "赣"), ("山东省", "鲁"), ("河南省", "豫"), ("湖北省", "鄂"),
             ("湖南省", "湘"), ("广东省", "粤"), ("广西壮族自治区", "桂"), ("海南省", "琼"), ("重庆市", "渝"),
             ("四川省", "川"), ("贵州省", "黔"), ("云南省", "滇"), ("西藏自治区", "藏"), ("陕西省", "陕"),
             ("甘肃省", "甘"), ("青海省", "青"), ("宁夏回族自治区", "宁"), ("新疆维吾尔自治区", "新")]
PLACE = "安平宁远兴和长永昌泰庆福明嘉华阳新城清泉丰德江河山东西南北中"
DISTRICTS_PER_CITY = 8
CHUNK = int(os.environ.get("BENCH_CHUNK", 250_000))  # cases per step (smaller: to try resuming)
WEEKEND_SHARE = 0.2  # cases received on a Saturday or Sunday, relative to a working day


def national_courts(n_extra: int) -> list[tuple[str, str, str, str, int, float]]:
    """(name, code, district, province, city index, weight) of generated basic courts, rank 25 on."""
    out = []
    for k in range(n_extra):
        province, abbr = PROVINCES[k % len(PROVINCES)]
        j = k // len(PROVINCES)
        c, d = j // DISTRICTS_PER_CITY + 1, j % DISTRICTS_PER_CITY + 1
        city = PLACE[c // len(PLACE)] + PLACE[c % len(PLACE)] + "市"
        district = PLACE[(d * 7) % len(PLACE)] + PLACE[(d * 11 + c) % len(PLACE)] + "区"
        out.append((f"{province}{city}{district}人民法院", f"{abbr}{c:02d}{d:02d}", district, province, c,
                    16 / (len(BASICS) + 1 + k)))
    return out


def city_name(c: int) -> str:
    return PLACE[c // len(PLACE)] + PLACE[c % len(PLACE)] + "市"


def sqlite_path(url: str) -> str | None:
    u = sa.engine.make_url(url)
    return u.database if u.get_backend_name() == "sqlite" else None


PROGRESS_DDL = "CREATE TABLE IF NOT EXISTS bench_progress (step VARCHAR(64) PRIMARY KEY, info TEXT)"


def progress(url: str) -> dict[str, dict] | None:
    """The steps done so far ({step: info}), or None when there is no data set at all."""
    path = sqlite_path(url)
    if path is not None and not os.path.exists(path):
        return None
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            insp = sa.inspect(conn)
            if not insp.has_table("bench_progress"):
                if insp.has_table("mediation_case") and conn.execute(
                        sa.text("SELECT count(*) FROM mediation_case")).scalar():
                    return {"done": {}}  # a data set from before bench_progress (issue 7)
                return None
            return {s: json.loads(i or "{}") for s, i in conn.execute(sa.text("SELECT step, info FROM bench_progress"))}
    except sa.exc.OperationalError:
        return None
    finally:
        engine.dispose()


def exists(url: str) -> bool:
    """The data set is complete (the last step of `generate` is recorded)."""
    return "done" in (progress(url) or {})


def bench_app(url: str):
    from app import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False, "TESTING": False,
                       "SERVER_NAME": None, "SECRET_KEY": "bench-" + "x" * 40})


# --- deterministic fake data -----------------------------------------------------

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
BIRTH_FROM = dt.date(1950, 1, 1)


class Faker:
    """Seeded fake values. `random()` and an index instead of `choice`/`randrange`: this runs
    tens of millions of times for 10 M cases, and is three times faster that way."""

    def __init__(self, seed):
        self.r = random.Random(seed)
        self.rnd = self.r.random
        self.phones: set[str] = set()

    def pick(self, seq):
        return seq[int(self.rnd() * len(seq))]

    def name(self) -> str:
        pick = self.pick
        return pick(SURNAMES) + (pick(GIVEN) + pick(GIVEN) if self.rnd() < 0.7 else pick(GIVEN))

    def phone(self) -> str:
        while True:
            p = self.loose_phone()
            if p not in self.phones:
                self.phones.add(p)
                return p

    def loose_phone(self) -> str:
        """A party's phone: need not be unique."""
        return f"1{self.pick('3456789')}{int(self.rnd() * 10**9):09d}"

    def id_number(self, region: str = "110105") -> str:
        rnd = self.rnd
        birth = BIRTH_FROM + dt.timedelta(days=int(rnd() * 365 * 55))
        body = f"{region}{birth:%Y%m%d}{int(rnd() * 1000):03d}"
        return body + "10X98765432"[sum(map(operator.mul, map(int, body), ID_WEIGHTS)) % 11]

    def credit_code(self, n: int) -> str:
        return f"9111{n:014d}"[:18]

    def company(self) -> str:
        pick = self.pick
        return "北京" + pick(COMPANY_WORDS) + pick(COMPANY_WORDS) + pick(COMPANY_KINDS)

    def address(self, district: str) -> str:
        return f"北京市{district}{self.pick(ROADS)}{int(self.rnd() * 299) + 1}号"


# --- loaders: one interface over sqlite3 executemany and psycopg COPY ----------------

BIG_TABLES = ("mediation_case", "case_party", "case_name_gram", "audit_log")


class Loader:
    """A DBAPI connection in a transaction; `commit_step` ends a step with its progress row."""

    def __init__(self, url: str):
        self.url = url
        self.path = sqlite_path(url)
        if self.path is not None:
            import sqlite3

            self.conn = sqlite3.connect(self.path, isolation_level=None)
            for pragma in ("journal_mode=WAL", "synchronous=OFF", "cache_size=-1000000", "temp_store=MEMORY",
                           "foreign_keys=OFF"):
                self.conn.execute(f"PRAGMA {pragma}")
            self.conn.execute("BEGIN")
        else:
            import psycopg

            u = sa.engine.make_url(url)
            self.conn = psycopg.connect(
                dbname=u.database, user=u.username, password=u.password, host=u.host, port=u.port)
            self.conn.execute("SET session_replication_role = replica")
            self.conn.execute("SET maintenance_work_mem = '1GB'")
        # values as the driver takes them: SQLite stores dates as SQLAlchemy's text formats
        self.ts = _sqlite_datetime if self.path is not None else _same
        self.day = _sqlite_date if self.path is not None else _same
        self.execute(PROGRESS_DDL)

    @property
    def is_sqlite(self) -> bool:
        return self.path is not None

    def execute(self, sql: str, params=()):
        if not self.is_sqlite:
            sql = sql.replace("?", "%s")
        return self.conn.execute(sql, params)

    def scalar(self, sql: str, params=()):
        return self.execute(sql, params).fetchone()[0]

    def load(self, table: str, columns: list[str], rows) -> int:
        n = 0
        if self.is_sqlite:
            sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
            it = iter(rows)
            while batch := list(itertools.islice(it, BATCH)):
                self.conn.executemany(sql, batch)
                n += len(batch)
            return n
        with self.conn.cursor() as cur:
            with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    n += 1
        return n

    def commit_step(self, step: str, info: dict | None = None) -> None:
        self.execute("INSERT INTO bench_progress (step, info) VALUES (?, ?)", (step, json.dumps(info or {})))
        if self.is_sqlite:
            self.conn.execute("COMMIT")
            self.conn.execute("BEGIN")
        else:
            self.conn.commit()

    def close(self) -> None:
        if self.is_sqlite:
            self.conn.execute("COMMIT")
        else:
            self.conn.commit()
        self.conn.close()


def _sqlite_datetime(v):
    """SQLAlchemy's SQLite storage format for DATETIME (DATE is `isoformat()`)."""
    return None if v is None else v.strftime("%Y-%m-%d %H:%M:%S.%f")


def _sqlite_date(v):
    return None if v is None else v.isoformat()


def _same(v):
    return v


# --- the audit chain, as app/audit.py computes it ------------------------------------

def _js(v) -> str:
    """A JSON scalar as `json.dumps(ensure_ascii=False)` writes it, for this vocabulary (no quotes,
    backslashes or control characters in the strings)."""
    if v is None:
        return "null"
    if isinstance(v, str):
        return '"' + v + '"'
    return str(v)


def chain_text(seq: int, at: dt.datetime, actor_id, actor_name, ip: str, action: str, entity_id: int,
               court_id: int, summary: str, before: str, after: str) -> str:
    """The canonical content `app.audit.row_digest` hashes (sorted keys, compact separators), written
    out by hand: json.dumps three times per row made generating 10 M cases' trails twice as slow.
    `before`/`after` are JSON texts with sorted keys; checked against row_digest on the first rows
    of every chunk."""
    return (f'{{"action":"{action}","actor_id":{_js(actor_id)},"actor_name":{_js(actor_name)},"after":{after},'
            f'"at":"{at.isoformat(sep=" ", timespec="microseconds")}","before":{before},"case_id":{entity_id},'
            f'"court_id":{court_id},"entity":"mediation_case","entity_id":{entity_id},"ip":"{ip}","seq":{seq},'
            f'"summary":"{summary}","v":1}}')


AUDIT_COLS = ["at", "actor_id", "actor_name", "ip", "action", "entity", "entity_id", "court_id", "case_id",
              "summary", "before", "after", "seq", "prev_hash", "row_hash"]


# --- steps -------------------------------------------------------------------------

def migrate_and_seed(url: str, n_courts: int) -> dict:
    """Schema by Alembic, roles and ministries by `seed`, courts and the court admin by the ORM."""
    from flask_migrate import upgrade

    from app.commands import seed_roles
    from app.demo import seed_reference
    from app.enums import CourtLevel
    from app.extensions import db
    from app.models import Court, CourtStaff
    from app.workflows.accounts import ensure_account, set_password
    from app.workflows.rosters import court_roles

    app = bench_app(url)
    with app.app_context():
        upgrade()
        seed_roles()
        seed_reference()
        high = Court(name="北京市高级人民法院", code="京", level=CourtLevel.HIGH, province="北京市", city="北京市")
        tj_high = Court(name="天津市高级人民法院", code="津", level=CourtLevel.HIGH, province="天津市", city="天津市")
        db.session.add_all([high, tj_high])
        mids = [Court(name=n, code=c, level=CourtLevel.INTERMEDIATE, parent=high, province="北京市", city="北京市")
                for n, c in INTERMEDIATES]
        tj_mid = Court(name="天津市第一中级人民法院", code="津01", level=CourtLevel.INTERMEDIATE, parent=tj_high,
                       province="天津市", city="天津市")
        db.session.add_all(mids + [tj_mid])
        basics, weights = [], []
        for name, code, district, mid, w in BASICS:
            parent = mids[mid] if mid is not None else tj_mid
            province = "天津市" if code.startswith("津") else "北京市"
            basics.append(Court(name=name, code=code, level=CourtLevel.BASIC, parent=parent, province=province,
                                city=district))
            weights.append(w)
        highs, cities = {}, {}
        for name, code, district, province, c, w in national_courts(max(0, n_courts - len(BASICS))):
            abbr = code[0]
            if province not in highs:
                highs[province] = Court(name=f"{province}高级人民法院", code=abbr, level=CourtLevel.HIGH,
                                        province=province, city=None)
            if (province, c) not in cities:
                cities[province, c] = Court(name=f"{province}{city_name(c)}中级人民法院", code=f"{abbr}{c:02d}",
                                            level=CourtLevel.INTERMEDIATE, parent=highs[province],
                                            province=province, city=city_name(c))
            basics.append(Court(name=name, code=code, level=CourtLevel.BASIC, parent=cities[province, c],
                                province=province, city=district))
            weights.append(w)
        db.session.add_all(basics)
        db.session.flush()
        chaoyang = basics[0]
        user, _created = ensure_account(ADMIN_PHONE, "王立新", court_roles(True), password=PASSWORD)
        db.session.add(CourtStaff(court=chaoyang, user=user, name="王立新", phone=ADMIN_PHONE, is_admin=True,
                                  position="立案庭庭长"))
        probe = type("U", (), {})()
        set_password(probe, PASSWORD)
        db.session.commit()
        info = {
            "basic_courts": [(c.id, c.code, c.city, w) for c, w in zip(basics, weights)],
            "password_hash": probe.password,
            "mediator_role_id": db.session.scalar(sa.text("SELECT id FROM ab_role WHERE name = :n"),
                                                  {"n": _mediator_role()}),
            "ministry_ids": list(db.session.scalars(sa.text("SELECT id FROM ministry ORDER BY id"))),
        }
        db.session.remove()
        db.engine.dispose()
    return info


def _mediator_role() -> str:
    from app.roles import MEDIATOR

    return MEDIATOR


def reference(ld: Loader, info: dict, n_mediators: int, n_orgs: int) -> dict:
    """Organisations, mediators with their accounts, certifications (one step)."""
    fk = Faker(SEED)
    fk.phones.add(ADMIN_PHONE)
    r = fk.r
    T = ld.ts
    now = dt.datetime.fromisoformat(info["now"])
    long_ago, decided = T(now - dt.timedelta(days=800)), T(now - dt.timedelta(days=790))
    counts = {}
    courts = info["basic_courts"]
    court_ids = [c[0] for c in courts]
    cum = list(itertools.accumulate(c[3] for c in courts))

    # organisations (no login account: an organisation's account is optional)
    org_base = ld.scalar("SELECT coalesce(max(id), 0) FROM organisation")
    orgs = []
    for i in range(n_orgs):
        court = r.choices(courts, cum_weights=cum)[0]
        kind = r.choice(ORG_TYPES)
        name = f"{court[2]}{r.choice(COMPANY_WORDS)}{['人民调解委员会', '行业调解中心', '商事调解中心', '律师调解工作室', '调解中心'][ORG_TYPES.index(kind)]}{i + 1}"
        ministry = r.choice(info["ministry_ids"]) if r.random() < 0.3 else None
        orgs.append((org_base + i + 1, name, f"5211{i:014d}", kind, "北京市", court[2], fk.address(court[2]),
                     fk.name(), fk.phone(), ministry, court[0]))
    counts["organisation"] = ld.load(
        "organisation", ["id", "name", "credit_code", "org_type", "province", "city", "address", "contact_name",
                         "contact_phone", "ministry_id"], (o[:10] for o in orgs))
    org_courts: dict[int, list[int]] = {}
    rows = []
    for o in orgs:
        certified = {o[10]} | ({r.choice(court_ids)} if r.random() < 0.3 else set())
        for cid in certified:
            org_courts.setdefault(cid, []).append(o[0])
            rows.append((o[0], cid, "CERTIFIED", long_ago, decided))
    counts["organisation_court"] = ld.load(
        "organisation_court", ["organisation_id", "court_id", "status", "applied_at", "decided_at"], rows)

    # mediators: an ab_user (same password hash for all), its role, the mediator row, certifications;
    # the first one of each court makes sure no court is without a mediator
    user_base = ld.scalar("SELECT coalesce(max(id), 0) FROM ab_user")
    med_base = ld.scalar("SELECT coalesce(max(id), 0) FROM mediator")
    mediators = []
    for i in range(max(n_mediators, len(courts))):
        court = courts[i] if i < len(courts) else r.choices(courts, cum_weights=cum)[0]
        org = r.choice(org_courts.get(court[0], [None])) if r.random() < 0.4 else None
        mediators.append((med_base + i + 1, user_base + i + 1, fk.name(), fk.phone(), court[0], org))
    now_t = T(now)
    counts["ab_user"] = ld.load(
        "ab_user", ["id", "first_name", "last_name", "username", "password", "active", "email", "login_count",
                    "fail_login_count", "created_on", "changed_on"],
        ((m[1], m[2], "", m[3], info["password_hash"], True, f"{m[3]}@phone.invalid", 0, 0, now_t, now_t)
         for m in mediators))
    role = info["mediator_role_id"]
    counts["ab_user_role"] = ld.load("ab_user_role", ["user_id", "role_id"], ((m[1], role) for m in mediators))
    counts["mediator"] = ld.load(
        "mediator", ["id", "user_id", "name", "phone", "id_number", "identity", "organisation_id", "expertise",
                     "created_at"],
        ((m[0], m[1], m[2], m[3], fk.id_number(), r.choice(["INVITED"] * 8 + ["JUDGE", "OTHER"]), m[5],
          r.choice(CAUSES), long_ago) for m in mediators))
    rows = []
    for m in mediators:
        certified = {m[4]} | ({r.choice(court_ids)} if r.random() < 0.2 else set())
        for cid in certified:
            rows.append((m[0], cid, "CERTIFIED", long_ago, decided))
    counts["mediator_court"] = ld.load(
        "mediator_court", ["mediator_id", "court_id", "status", "applied_at", "decided_at"], rows)
    return counts


def pools(ld: Loader) -> tuple[dict, dict]:
    """Per court: the certified (mediator id, organisation id, user id, phone), and the certified
    organisation ids; read back from the database, so a resumed run sees what the first one wrote."""
    meds: dict[int, list] = {}
    for cid, mid, org, uid, phone in ld.execute(
            "SELECT mc.court_id, m.id, m.organisation_id, m.user_id, m.phone FROM mediator_court mc "
            "JOIN mediator m ON m.id = mc.mediator_id ORDER BY mc.court_id, m.id").fetchall():
        meds.setdefault(cid, []).append((mid, org, uid, phone))
    orgs: dict[int, list] = {}
    for cid, oid in ld.execute("SELECT court_id, organisation_id FROM organisation_court "
                               "ORDER BY court_id, organisation_id").fetchall():
        orgs.setdefault(cid, []).append(oid)
    return meds, orgs


def day_counts(n_cases: int, days: int, today: dt.date) -> list[tuple[dt.date, int]]:
    """Cases received per day, oldest first: the working days full, weekends at WEEKEND_SHARE."""
    span = [today - dt.timedelta(days=days - 1 - k) for k in range(days)]
    w = [WEEKEND_SHARE if d.weekday() >= 5 else 1.0 for d in span]
    total, acc, given, out = sum(w), 0.0, 0, []
    for d, x in zip(span, w):
        acc += x
        upto = round(n_cases * acc / total)
        out.append((d, upto - given))
        given = upto
    return out


def drop_indexes(ld: Loader) -> list[str]:
    """PostgreSQL: drop the secondary indexes and unique constraints of the big tables; return the
    statements that recreate them."""
    restore = []
    for table in BIG_TABLES:
        for name, definition in ld.execute(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = ?::regclass AND contype = 'u'", (table,)).fetchall():
            restore.append(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
            ld.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
        for name, definition in ld.execute(
                "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
                "WHERE x.indrelid = ?::regclass AND NOT x.indisprimary "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid)", (table,)).fetchall():
            restore.append(definition)
            ld.execute(f"DROP INDEX {name}")
    return restore


def load_cases(ld: Loader, info: dict, k: int, i0: int, i1: int, parties: bool, audit: bool,
               meds: dict, orgs: dict, seq: dict, head: list) -> dict:
    """Cases i0..i1-1 (0-based, ids are case_base + i + 1), their parties and audit rows: chunk k."""
    fk = Faker(f"{SEED}:{k}")
    r = fk.r
    rnd = fk.rnd
    T, D = ld.ts, ld.day
    now = dt.datetime.fromisoformat(info["now"])
    today = now.date()
    courts = info["basic_courts"]
    cum = info["_cum"]
    case_base = info["case_base"]
    days, ends = info["_days"], info["_ends"]
    court_of = r.choices(courts, cum_weights=cum, k=i1 - i0)
    party_rows: list = []
    audit_rows: list = []
    checks = [50]  # rows compared with app.audit.row_digest
    from app.audit import row_digest
    from app.name_grams import gram_rows

    def trail(case_id, cid, number, case_type, cause, amount, day, created, status, mediator, org, assigned,
              closed, reason):
        """The case's audit rows (codes, as the engine writes them), chained."""
        initial = status if status in ("TO_ASSIGN", "TO_ACCEPT") else (
            "TO_ACCEPT" if case_type == "INTERNET" else "TO_ASSIGN")
        ip = f"10.{cid % 250}.{int(rnd() * 256)}.{int(rnd() * 254) + 1}"
        med_uid, med_phone = (mediator[2], mediator[3]) if mediator else (None, None)
        # JSON texts with sorted keys (see chain_text)
        events = [(created, None, None, "CREATE", number, "null",
                   f'{{"case_type":"{case_type}","cause":"{cause}","claim_amount":"{amount:.2f}","court_id":{cid},'
                   f'"id":{case_id},"number":"{number}","received_on":"{day.isoformat()}","status":"{initial}"}}')]
        if status not in ("TO_ASSIGN", "TO_ACCEPT"):
            ev, uid, uname = ("accept", med_uid, med_phone) if initial == "TO_ACCEPT" else ("assign", None, None)
            events.append((assigned, uid, uname, "TRANSITION", f"case.{ev}",
                           f'{{"mediator_id":null,"organisation_id":null,"status":"{initial}"}}',
                           f'{{"event":"{ev}","machine":"case","mediator_id":{_js(mediator[0] if mediator else None)},'
                           f'"organisation_id":{_js(org)},"reason":null,"status":"MEDIATING"}}'))
        if status in ("CLOSE_REQUESTED", "ENDED"):
            at = (closed - dt.timedelta(hours=2)) if closed else min(assigned + dt.timedelta(days=5), now)
            events.append((at, med_uid, med_phone, "TRANSITION", "case.apply_close", '{"status":"MEDIATING"}',
                           '{"event":"apply_close","machine":"case","reason":null,"status":"CLOSE_REQUESTED"}'))
        if status in ("ENDED", "TERMINATED"):
            ev, src = ("close", "CLOSE_REQUESTED") if status == "ENDED" else ("terminate", "MEDIATING")
            tail = f',"termination_reason":"{reason}"' if reason else ""
            events.append((closed, med_uid, med_phone, "TRANSITION", f"case.{ev}",
                           f'{{"closed_at":null,"status":"{src}"}}',
                           f'{{"closed_at":"{closed.isoformat()}","event":"{ev}","machine":"case","reason":null,'
                           f'"status":"{status}"{tail}}}'))
        seq_no, prev = head
        for at, actor_id, actor_name, action, summary, before, after in events:
            seq_no += 1
            digest = sha256(f"{prev}\n".encode() + chain_text(
                seq_no, at, actor_id, actor_name, ip, action, case_id, cid, summary, before, after).encode()
            ).hexdigest()
            if checks[0]:
                checks[0] -= 1
                row = {"seq": seq_no, "at": at, "actor_id": actor_id, "actor_name": actor_name, "ip": ip,
                       "action": action, "entity": "mediation_case", "entity_id": case_id, "court_id": cid,
                       "case_id": case_id, "summary": summary, "before": json.loads(before),
                       "after": json.loads(after)}
                if row_digest(row, prev) != digest:
                    raise RuntimeError(f"chain_text differs from app.audit.row_digest for {row}")
            audit_rows.append((T(at), actor_id, actor_name, ip, action, "mediation_case", case_id, cid, case_id,
                               summary, None if before == "null" else before, after, seq_no, prev, digest))
            prev = digest
        head[:] = [seq_no, prev]

    def cases():
        for i in range(i0, i1):
            cid, code, district, _w = court_of[i - i0]
            day = days[bisect.bisect_right(ends, i)]
            age = (today - day).days
            n = seq[(cid, day.year)] = seq.get((cid, day.year), 0) + 1
            number = f"（{day.year}）{code}民诉前调{n}号"
            x = rnd()
            case_type = "PRE_LITIGATION" if x < 0.7 else ("IN_LITIGATION" if x < 0.9 else "INTERNET")
            source = {"PRE_LITIGATION": "COURT", "IN_LITIGATION": "INTRANET", "INTERNET": "INTERNET"}[case_type]
            simple = case_type == "IN_LITIGATION" and r.random() < 0.3
            intranet = f"（{day.year}）{code}民初{n}号" if case_type == "IN_LITIGATION" else None
            cause = fk.pick(CAUSES)
            amount = round(10 ** 3 + 3 * rnd(), 2)
            # open cases are recent; almost everything older than two months is closed
            p_closed = min(0.985, 0.1 + age / 60)
            if rnd() < p_closed:
                status = "ENDED" if rnd() < 0.65 else "TERMINATED"
            else:
                status = fk.pick(["TO_ASSIGN", "TO_ACCEPT", "MEDIATING", "MEDIATING", "MEDIATING",
                                   "CLOSE_REQUESTED"])
            created = dt.datetime.combine(day, dt.time(8 + int(rnd() * 10), int(rnd() * 60), int(rnd() * 60)))
            mediator = org = None
            assigned = None
            if status != "TO_ASSIGN":
                pool = meds.get(cid)
                if pool and (rnd() < 0.8 or not orgs.get(cid)):
                    mediator = fk.pick(pool)
                    org = mediator[1]
                elif orgs.get(cid):
                    org = fk.pick(orgs[cid])
                assigned = min(created + dt.timedelta(hours=int(rnd() * 47) + 1), now)
            closed = reason = None
            deadline = None
            clock = day
            if status in ("ENDED", "TERMINATED"):
                closed = min((assigned or created) + dt.timedelta(days=int(rnd() * 60) + 1, hours=int(rnd() * 8)), now)
                if status == "TERMINATED":
                    reason = fk.pick(TERMINATION)
            elif status in ("TO_ASSIGN", "TO_ACCEPT"):
                deadline = day + dt.timedelta(days=5)
            elif status == "MEDIATING":
                clock = assigned.date()
                deadline = clock + dt.timedelta(days=(7 if simple else 15) if case_type == "IN_LITIGATION" else 30)
            a, b = fk.name(), None
            if rnd() < 0.35:
                b = fk.company()
            else:
                b = fk.name()
            case_id = case_base + i + 1
            if parties:
                party_rows.append((case_id, "APPLICANT", "PERSON", a, fk.loose_phone(), fk.id_number(), None, None,
                                   fk.address(district)))
                if b.endswith(("公司", "分行")):
                    party_rows.append((case_id, "RESPONDENT", "ORGANISATION", b, fk.loose_phone(), None,
                                       fk.credit_code(int(rnd() * 10**12)), fk.name(), fk.address(district)))
                else:
                    party_rows.append((case_id, "RESPONDENT", "PERSON", b, fk.loose_phone(), fk.id_number(), None,
                                       None, fk.address(district)))
            if audit:
                trail(case_id, cid, number, case_type, cause, amount, day, created, status, mediator, org,
                      assigned, closed, reason)
            yield (case_id, case_type, number, intranet, cid, cause, amount, source, False, simple,
                   f"双方因{cause}发生争议，申请人请求被申请人支付{amount:.2f}元。", f"{a}、{b}",
                   mediator[0] if mediator else None, org, status, reason, T(created), D(day), T(assigned),
                   D(clock), D(deadline), 0, T(closed), 1)

    counts = {"mediation_case": 0, "case_party": 0, "case_name_gram": 0, "audit_log": 0}
    gen = cases()
    step = 50_000
    names, court = CASE_COLS.index("party_names"), CASE_COLS.index("court_id")
    while batch := list(itertools.islice(gen, step)):
        counts["mediation_case"] += ld.load("mediation_case", CASE_COLS, batch)
        # the party-name search index the ORM keeps on every flush (app/name_grams.py)
        counts["case_name_gram"] += ld.load("case_name_gram", ["gram", "case_id", "court_id"],
                                            gram_rows((row[0], row[court], row[names]) for row in batch))
        if parties:
            counts["case_party"] += ld.load("case_party", PARTY_COLS, party_rows)
            party_rows.clear()
        if audit:
            counts["audit_log"] += ld.load("audit_log", AUDIT_COLS, audit_rows)
            audit_rows.clear()
    return counts


CASE_COLS = ["id", "case_type", "number", "intranet_number", "court_id", "cause", "claim_amount", "source",
             "has_ministry", "simple_procedure", "summary", "party_names", "mediator_id", "organisation_id",
             "status", "termination_reason", "created_at", "received_on", "assigned_at", "clock_started_on",
             "deadline", "extended_days", "closed_at", "version"]
PARTY_COLS = ["case_id", "role", "kind", "name", "phone", "id_number", "credit_code", "legal_representative",
              "address"]


def finish(ld: Loader, restore: list[str]) -> None:
    """Rebuild what `drop_indexes` dropped, set the sequences, ANALYZE."""
    tables = ["organisation", "organisation_court", "ab_user", "ab_user_role", "mediator", "mediator_court",
              "mediation_case", "case_party", "audit_log"]
    if ld.is_sqlite:
        ld.conn.execute("COMMIT")
        ld.conn.execute("ANALYZE")
        ld.conn.execute("PRAGMA journal_mode=DELETE")
        ld.conn.execute("BEGIN")
        return
    ld.conn.commit()
    ld.conn.autocommit = True
    ld.execute("SET session_replication_role = DEFAULT")
    existing = {n for (n,) in ld.execute("SELECT indexname FROM pg_indexes WHERE schemaname = 'public'").fetchall()}
    existing |= {n for (n,) in ld.execute("SELECT conname FROM pg_constraint").fetchall()}
    for stmt in restore:
        name = stmt.split()[5] if stmt.startswith("ALTER") else stmt.split(" ON ")[0].split()[-1]
        if name in existing:
            continue
        t0 = time.perf_counter()
        ld.execute(stmt)
        print(f"  {stmt[:110]}  {time.perf_counter() - t0:.0f} s", flush=True)
    for t in tables:
        ld.execute(f"SELECT setval(pg_get_serial_sequence('{t}', 'id'), (SELECT coalesce(max(id), 1) FROM {t}))")
    t0 = time.perf_counter()
    ld.execute("VACUUM (ANALYZE)")
    print(f"  VACUUM (ANALYZE)  {time.perf_counter() - t0:.0f} s", flush=True)
    ld.conn.autocommit = False


def rebuild_summary(url: str) -> int:
    """The statistics summary the ORM keeps current (app/workflows/stat_summary.py): the cases went in around
    it, so every court-month is computed once here, as `flask stats rebuild` does. The number of buckets."""
    from app.extensions import db
    from app.workflows import stat_summary

    app = bench_app(url)
    with app.app_context():
        buckets = stat_summary.rebuild(db.session)
        db.session.commit()
    return buckets


def generate(url: str, n_cases: int, parties: bool = True, force: bool = False, n_mediators: int | None = None,
             n_orgs: int | None = None, days: int = 730, n_courts: int = len(BASICS), audit: bool = True) -> None:
    """Build the data set, or finish an interrupted build (`force` starts over)."""
    path = sqlite_path(url)
    done = progress(url) or {}
    if "done" in done and not force:
        print(f"data set complete at {url}")
        return
    if force or "schema" not in done:
        if path is not None:
            if os.path.exists(path):
                os.remove(path)
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        else:
            engine = sa.create_engine(url)
            with engine.begin() as conn:
                conn.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            engine.dispose()
        done = {}
    t0 = time.perf_counter()
    if "schema" not in done:
        info = migrate_and_seed(url, n_courts)
        info.update(now=dt.datetime.now().replace(microsecond=0).isoformat(), cases=n_cases, days=days,
                    parties=parties, audit=audit,
                    mediators=n_mediators if n_mediators is not None else max(100, n_cases // 200),
                    organisations=n_orgs if n_orgs is not None else max(20, n_cases // 2000))
        ld = Loader(url)
        ld.commit_step("schema", info)
        print(f"migrations + seed + {len(info['basic_courts'])} basic courts: {time.perf_counter() - t0:.1f} s",
              flush=True)
    else:
        info = done["schema"]
        ld = Loader(url)
        print(f"resuming: {', '.join(s for s in done if s != 'schema')}", flush=True)
    n_cases = info["cases"]
    if "reference" not in done:
        counts = reference(ld, info, info["mediators"], info["organisations"])
        ld.commit_step("reference", counts)
        print("  " + ", ".join(f"{t} {n:,}" for t, n in counts.items()), flush=True)
    restore = done.get("drop_indexes", {}).get("restore", [])
    if not ld.is_sqlite and "drop_indexes" not in done:
        restore = drop_indexes(ld)
        ld.commit_step("drop_indexes", {"restore": restore})
    info["case_base"] = done.get("cases_base", {}).get("base")
    if info["case_base"] is None:
        info["case_base"] = ld.scalar("SELECT coalesce(max(id), 0) FROM mediation_case")
        ld.commit_step("cases_base", {"base": info["case_base"]})
    info["_cum"] = list(itertools.accumulate(c[3] for c in info["basic_courts"]))
    per_day = day_counts(n_cases, info["days"], dt.datetime.fromisoformat(info["now"]).date())
    info["_days"] = [d for d, _n in per_day]
    info["_ends"] = list(itertools.accumulate(n for _d, n in per_day))
    meds, orgs = pools(ld)
    seq = {(c, y): n for c, y, n in ld.execute(
        "SELECT court_id, year, last FROM case_sequence WHERE type_code = '民诉前调'").fetchall()}
    h = ld.execute("SELECT seq, row_hash FROM audit_chain_head WHERE id = 1").fetchone()
    head = [h[0], h[1]]
    chunks = range(0, (n_cases + CHUNK - 1) // CHUNK)
    t1 = time.perf_counter()
    loaded = 0
    for k in chunks:
        if f"cases:{k}" in done:
            continue
        i0, i1 = k * CHUNK, min(n_cases, (k + 1) * CHUNK)
        counts = load_cases(ld, info, k, i0, i1, info["parties"], info["audit"], meds, orgs, seq, head)
        ld.execute("DELETE FROM case_sequence WHERE type_code = '民诉前调'")
        ld.load("case_sequence", ["court_id", "type_code", "year", "last"],
                ((c, "民诉前调", y, n) for (c, y), n in seq.items()))
        ld.execute("UPDATE audit_chain_head SET seq = ?, row_hash = ? WHERE id = 1", tuple(head))
        ld.commit_step(f"cases:{k}", counts)
        loaded += i1 - i0
        el = time.perf_counter() - t1
        print(f"  cases {i1:>11,} of {n_cases:,}  {el:7.0f} s  ({loaded / el:,.0f}/s; "
              f"{counts['audit_log']:,} audit rows in this chunk)", flush=True)
    if "indexes" not in done:
        finish(ld, restore)
        ld.commit_step("indexes")
    if "summary" not in done:
        buckets = rebuild_summary(url)
        ld.commit_step("summary", {"buckets": buckets})
        print(f"  statistics summary: {buckets:,} court-months  {time.perf_counter() - t0:.0f} s", flush=True)
    ld.commit_step("done", {"seconds": round(time.perf_counter() - t0)})
    ld.close()
    print(f"done: {time.perf_counter() - t0:.0f} s", flush=True)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    p.add_argument("--cases", type=int, default=1_000_000)
    p.add_argument("--courts", type=int, default=len(BASICS), help="basic courts (24 = 北京 and 天津)")
    p.add_argument("--mediators", type=int, default=None, help="default: one per 200 cases")
    p.add_argument("--organisations", type=int, default=None, help="default: one per 2,000 cases")
    p.add_argument("--no-parties", action="store_true", help="skip the 2 case_party rows per case")
    p.add_argument("--no-audit", action="store_true", help="skip the cases' audit trails")
    p.add_argument("--force", action="store_true", help="rebuild an existing data set")
    a = p.parse_args(argv)
    generate(a.url, a.cases, not a.no_parties, a.force, a.mediators, a.organisations, n_courts=a.courts,
             audit=not a.no_audit)


if __name__ == "__main__":
    main()
