"""批量导入 of court users: where the time goes, before and after it moved to the worker (issue 17 item 4).

    .venv/bin/python -m benchmarks.bulk_import [--rows 2000] [--before-rows 200]

On a fresh SQLite database with the demo data (FAB_PASSWORD_HASH_METHOD as
configured: scrypt), as the 朝阳 court's administrator:

- before: what the request used to do — every row through `add_court_staff`
  with the account's password hashed at `FAB_PASSWORD_HASH_METHOD`, in one
  transaction — on `--before-rows` rows (2,000 would take minutes), with a
  profile of where the time goes;
- after: the request (`read_rows` + `queue_import`: parse, check, queue) on
  `--rows` rows, then the worker's `run_import`: hashing every initial password
  at `INITIAL_PASSWORD_HASH_METHOD` with its progress checkpoints, and the one
  transaction that creates every user and SMS.

Prints the load average before and after (the box is shared). Not a test:
numbers depend on the machine.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import tempfile
import time


def _workbook(n: int, prefix: str) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["姓名", "手机号", "职务", "是否管理员（是/否）"])
    for i in range(n):
        ws.append([f"用户{i}", f"{prefix}{i:05d}", "书记员", "否"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--before-rows", type=int, default=200)
    args = parser.parse_args()

    import sqlalchemy as sa
    from flask_migrate import upgrade

    from app import create_app
    from app.commands import seed_roles
    from app.demo import seed_demo
    from app.extensions import db
    from app.models import CourtStaff
    from app.security import Scope
    from app.workflows import bulk_import
    from app.workflows.actor import Actor
    from app.workflows.rosters import add_court_staff

    root = tempfile.mkdtemp(prefix="bench-import-")
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{root}/bench.db", "WTF_CSRF_ENABLED": False,
                      "SECRET_KEY": "bench-" + "x" * 32, "FILE_STORE_DIR": f"{root}/files",
                      "BULK_IMPORT_MAX_ROWS": max(args.rows, 2000)})
    print(f"load average at start: {os.getloadavg()}; cores: {os.cpu_count()}")
    print(f"FAB_PASSWORD_HASH_METHOD={app.config['FAB_PASSWORD_HASH_METHOD']} "
          f"INITIAL_PASSWORD_HASH_METHOD={app.config['INITIAL_PASSWORD_HASH_METHOD']}")
    with app.app_context():
        upgrade()
        seed_roles()
        seed_demo()
        db.session.commit()
        admin = db.session.scalar(sa.select(CourtStaff).where(CourtStaff.phone == "13800000001"))
        scope = Scope(portal=None, court_id=admin.court_id, is_court_admin=True, staff_id=admin.id)
        actor = Actor(admin.user_id, scope)

        # --- before: the request created every user, hashing at the full cost -------------------
        rows = bulk_import.read_rows(_workbook(args.before_rows, "137123"))
        profile = cProfile.Profile()
        started = time.perf_counter()
        profile.enable()
        bulk_import.check_rows(rows, scope.court_id)
        for row in rows:
            staff = CourtStaff(court_id=scope.court_id, name=row.name, phone=row.phone, position=row.position,
                               is_admin=row.is_admin)
            add_court_staff(staff, scope)
            db.session.add(staff)
        db.session.commit()
        profile.disable()
        before = time.perf_counter() - started
        stats = pstats.Stats(profile)
        hashing = sum(v[3] for k, v in stats.stats.items() if k[2] == "generate_password_hash")
        print(f"\nbefore, {args.before_rows} rows in the request: {before:.1f} s = {1000 * before / len(rows):.0f} ms "
              f"a row; password hashing {hashing:.1f} s ({100 * hashing / before:.0f} %); "
              f"2,000 rows ≈ {2000 * before / len(rows):.0f} s")

        # --- after: the request checks and queues, the worker imports -----------------------------
        data = _workbook(args.rows, "136123")
        started = time.perf_counter()
        rows = bulk_import.read_rows(data)
        parsed = time.perf_counter()
        job = bulk_import.queue_import(rows, actor, "bench.xlsx")
        db.session.commit()
        queued = time.perf_counter()
        marks = []
        real_checkpoint = bulk_import._checkpoint

        def checkpoint(job_id, token, done):
            real_checkpoint(job_id, token, done)
            marks.append((done, time.perf_counter()))

        bulk_import._checkpoint = checkpoint
        worker_started = time.perf_counter()
        assert bulk_import.run_import(job.id) is True
        finished = time.perf_counter()
        bulk_import._checkpoint = real_checkpoint
        job = db.session.get(type(job), job.id)
        hashed_at = marks[-1][1]
        print(f"\nafter, {args.rows} rows (job {job.status.name}, {job.created} created):")
        print(f"  request: parse {parsed - started:.2f} s + check and queue {queued - parsed:.2f} s "
              f"= {queued - started:.2f} s")
        print(f"  worker: hashing with {len(marks)} progress commits {hashed_at - worker_started:.1f} s, "
              f"one transaction creating every user {finished - hashed_at:.1f} s, "
              f"total {finished - worker_started:.1f} s = {1000 * (finished - worker_started) / args.rows:.0f} ms a row")
        print(f"  upload to done: {finished - started:.1f} s")
    print(f"\nload average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
