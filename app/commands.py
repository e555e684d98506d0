"""CLI: `flask seed [--demo]` writes roles, permissions, reference and demo data.

Roles are seeded here rather than by FAB at startup (FAB_UPDATE_PERMS=False,
notes/fab5.md §1): permissions are synced once per deploy, never raced by
workers. The role table converges on `app.roles.ROLE_PERMISSIONS`.
"""
from __future__ import annotations

import click
from flask import Flask, current_app

from .extensions import db
from .roles import ALL_ROLES, ROLE_PERMISSIONS

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
    @click.option("--interval", default=5.0, help="Seconds between rounds.")
    def worker(once: bool, interval: float) -> None:
        """Deliver the outbox to the ministry platforms and the court intranet, with retries and back-off;
        write queued exports."""
        import time

        from .exports import run_due_jobs
        from .outbox import deliver_due

        while True:
            counts = deliver_due()
            if any(counts.values()):
                click.echo(f"outbox: {counts}")
            if run_due_jobs():
                click.echo("exports: done")
            if once:
                break
            time.sleep(interval)

    @app.cli.command("ministry-api-key")
    @click.argument("ministry_code")
    def ministry_api_key(ministry_code: str) -> None:
        """Create an inbound API key for a ministry platform; the key is shown once."""
        import secrets

        import sqlalchemy as sa

        from .models import Ministry, MinistryApiKey
        from .api_keys import hash_key

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
        import secrets

        import sqlalchemy as sa

        from .models import Court, IntranetApiKey
        from .api_keys import hash_key

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
        from .demo import seed_demo, seed_reference

        seed_roles()
        seed_reference()
        if demo:
            seed_demo()
        db.session.commit()
        click.echo("seeded" + (" with demo data" if demo else ""))
