"""CLI: `flask seed [--demo]` writes roles, permissions, reference and demo data;
`flask create-admin` the first administrator of a real deployment; `flask worker`
runs the outbox/export loop (app/operations.py); `flask audit verify|anchor` checks
the audit chain (app/audit.py); `flask backup DIR` / `flask restore DIR` (app/backup.py).

Roles are seeded here rather than by FAB at startup (FAB_UPDATE_PERMS=False,
notes/fab5.md §1): permissions are synced once per deploy, never raced by
workers. The role table converges on `app.roles.ROLE_PERMISSIONS`.
"""
from __future__ import annotations

import logging
import secrets

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask_babel import gettext as _

from . import audit, backup
from .api_keys import hash_key
from .demo import DEMO_PASSWORD, seed_demo, seed_reference
from .enums import AuditAction
from .extensions import db
from .models import Court, IntranetApiKey, Ministry, MinistryApiKey
from .operations import Worker, refuse_unsafe_start, unsafe_start_problems
from .roles import ALL_ROLES, PLATFORM_ADMIN, ROLE_PERMISSIONS
from .validation import password_problem
from .workflows.accounts import ADMIN_CREATED
from .workflows import identity, stat_summary

class _Account:
    """An ab_user row as the audit trail names it (no columns copied, so no secret)."""

    __tablename__ = "ab_user"

    def __init__(self, pk: int, username: str):
        self.id, self.username = pk, username

    def __str__(self) -> str:
        return self.username


COMMON_PERMISSIONS = {"ResetMyPasswordView": ["can_this_form_get", "can_this_form_post"]}


def seed_roles() -> None:
    appbuilder = current_app.appbuilder
    sm = appbuilder.sm
    for name in ALL_ROLES + [sm.auth_role_public]:
        sm.add_role(name)
    appbuilder.add_permissions(update_perms=True)
    for role_name, views in ROLE_PERMISSIONS.items():
        role = sm.find_role(role_name)
        wanted = set()
        for view, perms in {**views, **COMMON_PERMISSIONS}.items():
            for perm in perms:
                pv = sm.find_permission_view_menu(perm, view)
                if pv is None:
                    raise click.ClickException(f"{role_name}: unknown permission {perm} on {view}")
                wanted.add(pv)
        for pv in list(role.permissions):
            if pv not in wanted:
                sm.del_permission_role(role, pv)
        for pv in wanted:
            if pv not in role.permissions:
                sm.add_permission_role(role, pv)


def register(app: Flask) -> None:
    @app.cli.command("worker")
    @click.option("--once", is_flag=True, help="Deliver what is due once and exit (cron, tests).")
    @click.option("--interval", type=float, default=None, help="Seconds between rounds (WORKER_INTERVAL_SECONDS).")
    @click.option("--name", default="worker", help="The heartbeat row of this worker.")
    def worker(once: bool, interval: float | None, name: str) -> None:
        """Deliver the outbox to the ministry platforms and the court intranet, with retries and back-off;
        write queued exports; survive database errors; write a heartbeat each round (app/operations.py)."""
        refuse_unsafe_start(current_app)
        ok = Worker(name=name, interval=interval).run(once=once)
        if once and not ok:
            raise SystemExit(1)

    @app.cli.command("purge-id-images")
    def purge_id_images() -> None:
        """Delete the ID images of real-name verifications reviewed more than ID_IMAGE_RETENTION_DAYS
        ago (the worker does this each round too); each deletion is an audit row."""
        count = identity.purge_due_images()
        db.session.commit()
        click.echo(f"{count}")

    @app.cli.command("check-deploy")
    def check_deploy() -> None:
        """What the production profile would refuse in this database and configuration."""
        problems = unsafe_start_problems(current_app)
        for problem in problems:
            click.echo(f"- {problem}")
        if problems:
            raise SystemExit(1)
        click.echo("ok")

    @app.cli.command("create-admin")
    @click.option("--username", prompt=True, help="The login name of the platform administrator.")
    @click.option("--name", "display_name", default="平台管理员", show_default=True)
    @click.option("--email", default=None, help="Default: <username>@platform.invalid")
    @click.password_option(help="Prompted (twice) when not given; at least 8 characters, letters and digits.")
    def create_admin(username: str, display_name: str, email: str | None, password: str) -> None:
        """Create a platform administrator (roles and reference data first; no demo data)."""
        problem = password_problem(password)
        if problem:
            raise click.ClickException(problem)
        if password == DEMO_PASSWORD:
            raise click.ClickException("the demo password cannot be an administrator's password")
        seed_roles()
        seed_reference()
        sm = current_app.appbuilder.sm
        if sm.find_user(username=username) is not None:
            raise click.ClickException(f"user {username} exists already")
        user = sm.add_user(username, display_name[:64], "", email or f"{username}@platform.invalid",
                           sm.find_role(PLATFORM_ADMIN), password=password)
        if not user:
            raise click.ClickException("the account could not be created")
        audit.record(db.session, _Account(user.id, username), AuditAction.CREATE, ADMIN_CREATED,
                     {"username": username})
        db.session.commit()
        click.echo(f"created platform administrator {username}")

    @app.cli.group("stats")
    def stats_group() -> None:
        """The statistics summary (app/workflows/stat_summary.py)."""

    @stats_group.command("rebuild")
    def stats_rebuild() -> None:
        """Recompute every (court, month) bucket from the case rows (after rows written around the ORM)."""
        done = stat_summary.rebuild(db.session)
        db.session.commit()
        click.echo(_("Statistics summary rebuilt: %(n)d buckets.", n=done))

    @stats_group.command("verify")
    def stats_verify() -> None:
        """Compare every clean bucket with the case rows; exit 1 listing each difference."""
        differences = stat_summary.verify(db.session)
        dirty = len(stat_summary.dirty_buckets(db.session))
        db.session.rollback()
        for line in differences:
            click.echo(line, err=True)
        if differences:
            click.echo(_("Statistics summary differs from the case rows in %(n)d rows.", n=len(differences)),
                       err=True)
            raise SystemExit(1)
        click.echo(_("Statistics summary matches the case rows (%(dirty)d buckets awaiting refresh).",
                     dirty=dirty))

    @app.cli.group("audit")
    def audit_group() -> None:
        """The tamper-evident audit chain (app/audit.py)."""

    @audit_group.command("verify")
    @click.option("--anchor", "anchor_files", multiple=True, type=click.Path(exists=True, dir_okay=False),
                  help="A file of anchors (one JSON line each, from `flask audit anchor`); repeatable.")
    def audit_verify(anchor_files: tuple[str, ...]) -> None:
        """Walk the chain; exit 1 naming the first broken row."""
        anchors = []
        for path in anchor_files:
            with open(path, encoding="utf-8") as fh:
                anchors += [audit.Anchor.parse(line) for line in fh if line.strip()]
        result = audit.verify_chain(db.session, anchors)
        db.session.rollback()
        if result.broken is not None:
            click.echo(f"BROKEN at {result.broken}", err=True)
            raise SystemExit(1)
        click.echo(f"ok: {result.rows} rows, head seq {result.head.seq} {result.head.row_hash}"
                   + (f", {len(anchors)} anchors matched" if anchors else ""))

    @audit_group.command("anchor")
    @click.option("--append", "append_to", type=click.Path(dir_okay=False),
                  help="Also append the anchor line to this file (keep it outside the database server).")
    def audit_anchor(append_to: str | None) -> None:
        """Print the chain head (seq, hash, time) as one JSON line, and log it."""
        anchor = audit.current_anchor(db.session)
        db.session.rollback()
        line = anchor.line()
        logging.getLogger("court.audit").info("audit anchor %s", line, extra={"fields": {
            "event": "audit.anchor", "seq": anchor.seq, "row_hash": anchor.row_hash}})
        if append_to:
            with open(append_to, "a", encoding="utf-8") as fh:
                fh.write(line + "\n")
        click.echo(line)

    @app.cli.command("backup")
    @click.argument("directory", type=click.Path(file_okay=False))
    def backup_command(directory: str) -> None:
        """Write a consistent snapshot (database + file store + manifest) into a new DIRECTORY.

        ID images past their retention are purged first: a backup kept for years must not keep them."""
        purged = identity.purge_due_images()
        db.session.commit()
        if purged:
            click.echo(f"purged the ID images of {purged} verifications past ID_IMAGE_RETENTION_DAYS")
        try:
            manifest = backup.backup(directory)
        except backup.BackupError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"backup written to {directory}: {len(manifest['tables'])} tables, "
                   f"{sum(t['rows'] for t in manifest['tables'].values())} rows, {len(manifest['files'])} files")

    @app.cli.command("restore")
    @click.argument("directory", type=click.Path(exists=True, file_okay=False))
    def restore_command(directory: str) -> None:
        """Restore a backup DIRECTORY into this (empty) instance and check every count and hash."""
        try:
            manifest = backup.restore(directory)
        except backup.BackupError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"restored {directory}: {len(manifest['tables'])} tables and {len(manifest['files'])} files "
                   "match the manifest")

    @app.cli.command("ministry-api-key")
    @click.argument("ministry_code")
    def ministry_api_key(ministry_code: str) -> None:
        """Create an inbound API key for a ministry platform; the key is shown once."""
        ministry = db.session.scalar(sa.select(Ministry).where(Ministry.code == ministry_code))
        if ministry is None:
            raise click.ClickException(f"unknown ministry {ministry_code}")
        key = "mk_" + secrets.token_urlsafe(32)
        db.session.add(MinistryApiKey(ministry_id=ministry.id, key_hash=hash_key(key)))
        db.session.commit()
        click.echo(key)

    @app.cli.command("intranet-api-key")
    @click.argument("court_code", required=False)
    def intranet_api_key(court_code: str | None) -> None:
        """Create a result-API key for the court intranet (one court, or every court); shown once."""
        court = None
        if court_code:
            court = db.session.scalar(sa.select(Court).where(Court.code == court_code))
            if court is None:
                raise click.ClickException(f"unknown court {court_code}")
        key = "ik_" + secrets.token_urlsafe(32)
        db.session.add(IntranetApiKey(court_id=court.id if court else None, key_hash=hash_key(key)))
        db.session.commit()
        click.echo(key)

    @app.cli.command("seed")
    @click.option("--demo", is_flag=True, help="Also create the demo courts and accounts (README).")
    def seed(demo: bool) -> None:
        """Roles, permissions and the seven ministries; with --demo the demo data."""
        if demo and current_app.config.get("PROFILE") == "production":
            raise click.ClickException("CONFIG=production refuses demo data; use `flask create-admin`")
        seed_roles()
        seed_reference()
        if demo:
            seed_demo()
        db.session.commit()
        click.echo("seeded" + (" with demo data" if demo else ""))
