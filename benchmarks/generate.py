"""Generate the national-scale benchmark data set (issue 7).

    .venv/bin/python -m benchmarks.generate [--url URL] [--cases N] [--no-parties] [--force]

The schema comes from the Alembic migrations and the roles from `seed`, as in
production; courts and the court admin the harness logs in as go through the
ORM and the app's account helper; the bulk (mediators with their accounts,
organisations, certifications, cases, parties) goes straight through the
DBAPI: `executemany` in 10k batches in one transaction on SQLite (journal and
sync off while generating), `COPY` on PostgreSQL. Everything is seeded, so two
runs with the same size give the same data.

Enum columns store the member *name* (db_enum: `sa.Enum(enum_class)` with
`native_enum=False` persists names, and the CHECK lists names).
"""
from __future__ import annotations

import argparse
import datetime as dt
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


def sqlite_path(url: str) -> str | None:
    u = sa.engine.make_url(url)
    return u.database if u.get_backend_name() == "sqlite" else None


def exists(url: str) -> bool:
    """The data set is there (the last step of `generate` stamps it)."""
    path = sqlite_path(url)
    if path is not None and not os.path.exists(path):
        return False
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return bool(conn.execute(sa.text("SELECT count(*) FROM mediation_case")).scalar())
    except sa.exc.DBAPIError:
        return False
    finally:
        engine.dispose()


def bench_app(url: str):
    from app import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False, "TESTING": False,
                       "SERVER_NAME": None, "SECRET_KEY": "bench-" + "x" * 40})


# --- deterministic fake data -----------------------------------------------------

class Faker:
    def __init__(self, seed: int):
        self.r = random.Random(seed)
        self.phones: set[str] = set()

    def name(self) -> str:
        r = self.r
        return r.choice(SURNAMES) + (r.choice(GIVEN) + r.choice(GIVEN) if r.random() < 0.7 else r.choice(GIVEN))

    def phone(self) -> str:
        while True:
            p = "1" + self.r.choice("3456789") + f"{self.r.randrange(10**9):09d}"
            if p not in self.phones:
                self.phones.add(p)
                return p

    def loose_phone(self) -> str:
        """A party's phone: need not be unique."""
        return "1" + self.r.choice("3456789") + f"{self.r.randrange(10**9):09d}"

    def id_number(self, region: str = "110105") -> str:
        r = self.r
        birth = dt.date(1950, 1, 1) + dt.timedelta(days=r.randrange(365 * 55))
        body = f"{region}{birth:%Y%m%d}{r.randrange(1000):03d}"
        weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
        check = "10X98765432"[sum(int(c) * w for c, w in zip(body, weights)) % 11]
        return body + check

    def credit_code(self, n: int) -> str:
        return f"9111{n:014d}"[:18]

    def company(self) -> str:
        return "北京" + self.r.choice(COMPANY_WORDS) + self.r.choice(COMPANY_WORDS) + self.r.choice(COMPANY_KINDS)

    def address(self, district: str) -> str:
        return f"北京市{district}{self.r.choice(ROADS)}{self.r.randrange(1, 300)}号"


# --- loaders: one interface over sqlite3 executemany and psycopg COPY ----------------

class Loader:
    def __init__(self, url: str):
        self.url = url
        self.path = sqlite_path(url)
        if self.path is not None:
            import sqlite3

            self.conn = sqlite3.connect(self.path, isolation_level=None)
            for pragma in ("journal_mode=OFF", "synchronous=OFF", "cache_size=-1000000", "temp_store=MEMORY",
                           "foreign_keys=OFF"):
                self.conn.execute(f"PRAGMA {pragma}")
            self.conn.execute("BEGIN")
        else:
            import psycopg

            u = sa.engine.make_url(url)
            self.conn = psycopg.connect(
                dbname=u.database, user=u.username, password=u.password, host=u.host, port=u.port)

        # values as the driver takes them: SQLite stores dates as SQLAlchemy's text formats
        self.ts = _sqlite_datetime if self.path is not None else _same
        self.day = _sqlite_date if self.path is not None else _same

    @property
    def is_sqlite(self) -> bool:
        return self.path is not None

    def scalar(self, sql: str):
        cur = self.conn.execute(sql)
        return cur.fetchone()[0]

    def load(self, table: str, columns: list[str], rows) -> int:
        n = 0
        if self.is_sqlite:
            sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
            batch = []
            for row in rows:
                batch.append(row)
                if len(batch) >= BATCH:
                    self.conn.executemany(sql, batch)
                    n += len(batch)
                    batch.clear()
            if batch:
                self.conn.executemany(sql, batch)
                n += len(batch)
            return n
        with self.conn.cursor() as cur:
            with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    n += 1
        return n

    def finish(self, tables: list[str]) -> None:
        if self.is_sqlite:
            self.conn.execute("COMMIT")
            self.conn.execute("ANALYZE")
            self.conn.execute("PRAGMA journal_mode=DELETE")
        else:
            with self.conn.cursor() as cur:
                for t in tables:
                    cur.execute(f"SELECT setval(pg_get_serial_sequence('{t}', 'id'), "
                                f"(SELECT coalesce(max(id), 1) FROM {t}))")
            self.conn.commit()
            self.conn.autocommit = True
            self.conn.execute("VACUUM ANALYZE")
        self.conn.close()


def _sqlite_datetime(v):
    """SQLAlchemy's SQLite storage format for DATETIME (DATE is `isoformat()`)."""
    return None if v is None else v.strftime("%Y-%m-%d %H:%M:%S.%f")


def _sqlite_date(v):
    return None if v is None else v.isoformat()


def _same(v):
    return v


# --- steps -------------------------------------------------------------------------

def migrate_and_seed(url: str) -> dict:
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
        basics = []
        for name, code, district, mid, _w in BASICS:
            parent = mids[mid] if mid is not None else tj_mid
            province = "天津市" if code.startswith("津") else "北京市"
            basics.append(Court(name=name, code=code, level=CourtLevel.BASIC, parent=parent, province=province,
                                city=district))
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
            "basic_courts": [(c.id, c.code, c.city, w) for c, (*_x, w) in zip(basics, BASICS)],
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


def bulk(url: str, info: dict, n_cases: int, n_mediators: int, n_orgs: int, parties: bool, days: int) -> dict:
    fk = Faker(SEED)
    fk.phones.add(ADMIN_PHONE)
    r = fk.r
    ld = Loader(url)
    now = dt.datetime.now().replace(microsecond=0)
    today = now.date()
    T, D = ld.ts, ld.day
    long_ago, decided = T(now - dt.timedelta(days=800)), T(now - dt.timedelta(days=790))
    counts = {}
    courts = info["basic_courts"]
    court_ids = [c[0] for c in courts]
    weights = [c[3] for c in courts]

    # organisations (no login account: an organisation's account is optional)
    org_base = ld.scalar("SELECT coalesce(max(id), 0) FROM organisation")
    orgs = []
    for i in range(n_orgs):
        court = r.choices(courts, weights)[0]
        kind = r.choice(ORG_TYPES)
        name = f"{court[2]}{r.choice(COMPANY_WORDS)}{['人民调解委员会', '行业调解中心', '商事调解中心', '律师调解工作室', '调解中心'][ORG_TYPES.index(kind)]}{i + 1}"
        ministry = r.choice(info["ministry_ids"]) if r.random() < 0.3 else None
        orgs.append((org_base + i + 1, name, f"5211{i:014d}", kind, "北京市", court[2], fk.address(court[2]),
                     fk.name(), fk.phone(), ministry, court[0]))
    counts["organisation"] = ld.load(
        "organisation", ["id", "name", "credit_code", "org_type", "province", "city", "address", "contact_name",
                         "contact_phone", "ministry_id"], (o[:10] for o in orgs))
    org_courts = {}
    rows = []
    for o in orgs:
        certified = {o[10]} | ({r.choice(court_ids)} if r.random() < 0.3 else set())
        for cid in certified:
            org_courts.setdefault(cid, []).append(o[0])
            rows.append((o[0], cid, "CERTIFIED", long_ago, decided))
    counts["organisation_court"] = ld.load(
        "organisation_court", ["organisation_id", "court_id", "status", "applied_at", "decided_at"], rows)

    # mediators: an ab_user (same password hash for all), its role, the mediator row, certifications
    user_base = ld.scalar("SELECT coalesce(max(id), 0) FROM ab_user")
    med_base = ld.scalar("SELECT coalesce(max(id), 0) FROM mediator")
    mediators = []
    for i in range(n_mediators):
        court = r.choices(courts, weights)[0]
        org = r.choice(org_courts.get(court[0], [None])) if r.random() < 0.4 else None
        mediators.append((med_base + i + 1, user_base + i + 1, fk.name(), fk.phone(), court[0], org))
    counts["ab_user"] = ld.load(
        "ab_user", ["id", "first_name", "last_name", "username", "password", "active", "email", "login_count",
                    "fail_login_count", "created_on", "changed_on"],
        ((m[1], m[2], "", m[3], info["password_hash"], True, f"{m[3]}@phone.invalid", 0, 0, T(now), T(now))
         for m in mediators))
    role = info["mediator_role_id"]
    counts["ab_user_role"] = ld.load("ab_user_role", ["user_id", "role_id"], ((m[1], role) for m in mediators))
    counts["mediator"] = ld.load(
        "mediator", ["id", "user_id", "name", "phone", "id_number", "identity", "organisation_id", "expertise",
                     "created_at"],
        ((m[0], m[1], m[2], m[3], fk.id_number(), r.choice(["INVITED"] * 8 + ["JUDGE", "OTHER"]), m[5],
          r.choice(CAUSES), long_ago) for m in mediators))
    court_mediators = {}
    rows = []
    for m in mediators:
        certified = {m[4]} | ({r.choice(court_ids)} if r.random() < 0.2 else set())
        for cid in certified:
            court_mediators.setdefault(cid, []).append((m[0], m[5]))
            rows.append((m[0], cid, "CERTIFIED", long_ago, decided))
    counts["mediator_court"] = ld.load(
        "mediator_court", ["mediator_id", "court_id", "status", "applied_at", "decided_at"], rows)

    # cases in received_on order (ids are chronological), numbered per court and year
    case_base = ld.scalar("SELECT coalesce(max(id), 0) FROM mediation_case")
    received = sorted(today - dt.timedelta(days=r.randrange(days)) for _ in range(n_cases))
    court_of = r.choices(courts, weights, k=n_cases)
    seq: dict[tuple[int, int], int] = {}
    party_rows: list = []

    def cases():
        for i in range(n_cases):
            cid, code, district, _w = court_of[i]
            day = received[i]
            age = (today - day).days
            n = seq[(cid, day.year)] = seq.get((cid, day.year), 0) + 1
            number = f"（{day.year}）{code}民诉前调{n}号"
            x = r.random()
            case_type = "PRE_LITIGATION" if x < 0.7 else ("IN_LITIGATION" if x < 0.9 else "INTERNET")
            source = {"PRE_LITIGATION": "COURT", "IN_LITIGATION": "INTRANET", "INTERNET": "INTERNET"}[case_type]
            simple = case_type == "IN_LITIGATION" and r.random() < 0.3
            intranet = f"（{day.year}）{code}民初{n}号" if case_type == "IN_LITIGATION" else None
            cause = r.choice(CAUSES)
            amount = round(10 ** r.uniform(3, 6), 2)
            # open cases are recent; almost everything older than two months is closed
            p_closed = min(0.985, 0.1 + age / 60)
            if r.random() < p_closed:
                status = "ENDED" if r.random() < 0.65 else "TERMINATED"
            else:
                status = r.choice(["TO_ASSIGN", "TO_ACCEPT", "MEDIATING", "MEDIATING", "MEDIATING",
                                   "CLOSE_REQUESTED"])
            created = dt.datetime.combine(day, dt.time(8 + r.randrange(10), r.randrange(60), r.randrange(60)))
            mediator = org = None
            assigned = None
            if status != "TO_ASSIGN":
                pool = court_mediators.get(cid) or [(None, None)]
                if r.random() < 0.8 or not org_courts.get(cid):
                    mediator, org = r.choice(pool)
                else:
                    org = r.choice(org_courts[cid])
                assigned = min(created + dt.timedelta(hours=r.randrange(1, 48)), now)
            closed = reason = None
            deadline = None
            clock = day
            if status in ("ENDED", "TERMINATED"):
                closed = min((assigned or created) + dt.timedelta(days=r.randint(1, 60), hours=r.randrange(8)), now)
                if status == "TERMINATED":
                    reason = r.choice(TERMINATION)
            elif status in ("TO_ASSIGN", "TO_ACCEPT"):
                deadline = day + dt.timedelta(days=5)
            elif status == "MEDIATING":
                clock = assigned.date()
                deadline = clock + dt.timedelta(days=(7 if simple else 15) if case_type == "IN_LITIGATION" else 30)
            a, b = fk.name(), None
            if r.random() < 0.35:
                b = fk.company()
            else:
                b = fk.name()
            if parties:
                cid_ = case_base + i + 1
                party_rows.append((cid_, "APPLICANT", "PERSON", a, fk.loose_phone(), fk.id_number(), None, None,
                                   fk.address(district)))
                if b.endswith(("公司", "分行")):
                    party_rows.append((cid_, "RESPONDENT", "ORGANISATION", b, fk.loose_phone(), None,
                                       fk.credit_code(r.randrange(10**12)), fk.name(), fk.address(district)))
                else:
                    party_rows.append((cid_, "RESPONDENT", "PERSON", b, fk.loose_phone(), fk.id_number(), None,
                                       None, fk.address(district)))
            yield (case_base + i + 1, case_type, number, intranet, cid, cause, amount, source, False, simple,
                   f"双方因{cause}发生争议，申请人请求被申请人支付{amount:.2f}元。", f"{a}、{b}", mediator, org,
                   status, reason, T(created), D(day), T(assigned), D(clock), D(deadline), 0, T(closed), 1)

    case_cols = ["id", "case_type", "number", "intranet_number", "court_id", "cause", "claim_amount", "source",
                 "has_ministry", "simple_procedure", "summary", "party_names", "mediator_id", "organisation_id",
                 "status", "termination_reason", "created_at", "received_on", "assigned_at", "clock_started_on",
                 "deadline", "extended_days", "closed_at", "version"]
    party_cols = ["case_id", "role", "kind", "name", "phone", "id_number", "credit_code", "legal_representative",
                  "address"]
    t0 = time.perf_counter()
    counts["mediation_case"] = 0
    counts["case_party"] = 0
    chunk = 100_000
    gen = cases()
    while counts["mediation_case"] < n_cases:
        batch = [row for _, row in zip(range(chunk), gen)]
        counts["mediation_case"] += ld.load("mediation_case", case_cols, batch)
        if parties:
            counts["case_party"] += ld.load("case_party", party_cols, party_rows)
            party_rows.clear()
        done = counts["mediation_case"]
        print(f"  cases {done:>9,}  {time.perf_counter() - t0:6.1f} s", flush=True)
    # the numbering counters, so cases added later continue the sequences
    counts["case_sequence"] = ld.load("case_sequence", ["court_id", "type_code", "year", "last"],
                                      ((c, "民诉前调", y, n) for (c, y), n in seq.items()))
    ld.finish(["organisation", "organisation_court", "ab_user", "ab_user_role", "mediator", "mediator_court",
               "mediation_case", "case_party"])
    return counts


def generate(url: str, n_cases: int, parties: bool = True, force: bool = False, n_mediators: int = 5000,
             n_orgs: int = 500, days: int = 730) -> None:
    path = sqlite_path(url)
    if path is not None:
        if os.path.exists(path):
            if not force:
                sys.exit(f"{path} exists; use --force to rebuild it")
            os.remove(path)
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    elif force:
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        engine.dispose()
    t0 = time.perf_counter()
    info = migrate_and_seed(url)
    t1 = time.perf_counter()
    print(f"migrations + seed + courts: {t1 - t0:.1f} s", flush=True)
    counts = bulk(url, info, n_cases, n_mediators, n_orgs, parties, days)
    t2 = time.perf_counter()
    for table, n in counts.items():
        print(f"  {table:<20} {n:>10,}")
    print(f"bulk load: {t2 - t1:.1f} s; total {t2 - t0:.1f} s", flush=True)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    p.add_argument("--cases", type=int, default=1_000_000)
    p.add_argument("--mediators", type=int, default=5000)
    p.add_argument("--organisations", type=int, default=500)
    p.add_argument("--no-parties", action="store_true", help="skip the 2 case_party rows per case")
    p.add_argument("--force", action="store_true", help="rebuild an existing data set")
    a = p.parse_args(argv)
    generate(a.url, a.cases, not a.no_parties, a.force, a.mediators, a.organisations)


if __name__ == "__main__":
    main()
