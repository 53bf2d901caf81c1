"""``flask --app api`` commands for operators: seed-demo, create-advertiser, create-partner, add-membership, flush-clicks,
send-postbacks; and translations, for developers.

``init-db`` lives with the data layer in :mod:`api.db`. Generated passwords
and API keys are printed once and stored only as hashes.
"""

from __future__ import annotations

import secrets

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from . import db, demo
from .errors import TasklinkError
from .services import advertisers, campaigns, memberships, partners


def _fail(exc: TasklinkError) -> click.ClickException:
    return click.ClickException(exc.message)


@click.command("seed-demo")
@with_appcontext
@click.option(
    "--shop-url",
    default=demo.DEFAULT_SHOP_URL,
    show_default=True,
    help="Base URL of the demo shop the landing pages point at.",
)
@click.option(
    "--force",
    is_flag=True,
    default=False,
    help="Seed even outside demo mode (TASKLINK_DEMO unset): the fixed demo credentials then open this "
    "database to anyone who has read the README.",
)
def seed_demo_command(shop_url: str, force: bool) -> None:
    """Create the demo advertiser, partners, program, campaigns and tasks (once); demo mode or --force only."""
    # The demo accounts have published passwords and a published API key: on a
    # production database they would be a way in for anyone.
    if not (current_app.config.get("DEMO") or force):
        raise click.ClickException(
            "seed-demo creates accounts with publicly known credentials "
            f"({demo.ADVERTISER['email']} / {demo.ADVERTISER['password']}, API key {demo.ADVERTISER['api_key']}, "
            "and two partners), so it runs only in demo mode. Set TASKLINK_DEMO=1 to run the demo, or pass "
            "--force to seed this database anyway."
        )
    with db.transaction() as conn:
        created = demo.seed_demo(conn, shop_url)
    if created:
        click.echo("Demo data created.")
        click.echo(
            f"  advertiser  {demo.ADVERTISER['email']} / {demo.ADVERTISER['password']}"
            f"  (API key {demo.ADVERTISER['api_key']})"
        )
        click.echo(f"  partner     {demo.PARTNER['email']} / {demo.PARTNER['password']}")
        click.echo(f"  partner     {demo.OTHER['email']} / {demo.OTHER['password']}")
    else:
        click.echo("Demo data already present; nothing changed.")


@click.command("create-advertiser")
@with_appcontext
@click.option("--name", required=True)
@click.option("--email", required=True)
@click.option("--password", default=None, help="Generated and printed once when omitted.")
def create_advertiser_command(name: str, email: str, password: str | None) -> None:
    """Create an advertiser; print the password (if generated) and the API key once."""
    password = password or secrets.token_urlsafe(12)
    try:
        with db.transaction() as conn:
            advertiser, api_key = advertisers.create_advertiser(conn, name, email, password)
    except TasklinkError as exc:
        raise _fail(exc) from exc
    click.echo(f"Advertiser {advertiser.id} created: {advertiser.email}")
    click.echo(f"  password  {password}")
    click.echo(f"  API key   {api_key}")
    click.echo("These are shown once; store them now.")


@click.command("create-partner")
@with_appcontext
@click.option("--name", required=True)
@click.option("--email", required=True)
@click.option("--password", default=None, help="Generated and printed once when omitted.")
def create_partner_command(name: str, email: str, password: str | None) -> None:
    """Create a partner; print the password once when it was generated."""
    password = password or secrets.token_urlsafe(12)
    try:
        with db.transaction() as conn:
            partner = partners.create_partner(conn, name, email, password)
    except TasklinkError as exc:
        raise _fail(exc) from exc
    click.echo(f"Partner {partner.id} created: {partner.email}")
    click.echo(f"  password  {password}")
    click.echo("The password is shown once; store it now.")


@click.command("add-membership")
@with_appcontext
@click.option("--partner-email", required=True)
@click.option("--campaign-id", required=True, type=int)
@click.option("--status", type=click.Choice(memberships.STATUSES), default="active", show_default=True)
def add_membership_command(partner_email: str, campaign_id: int, status: str) -> None:
    """Add a partner to a campaign, or change the status of an existing membership."""
    try:
        with db.transaction() as conn:
            partner = partners.find_by_email(conn, partner_email)
            if partner is None:
                raise click.ClickException(f"No partner with the e-mail {partner_email}.")
            campaign = campaigns.get_campaign(conn, campaign_id)
            membership = memberships.set_status_for(conn, partner.id, campaign.id, status)
    except TasklinkError as exc:
        raise _fail(exc) from exc
    click.echo(f"{partner.email} is now {membership.status} in campaign {campaign.id} ({campaign.name}).")


@click.command("flush-clicks")
@with_appcontext
def flush_clicks_command() -> None:
    """Store every click waiting in this host's click log now (running nodes do it within a second)."""
    from flask import current_app

    from . import clicklog

    stored = clicklog.of(current_app).flush()
    click.echo(f"Stored {stored} logged click{'s' if stored != 1 else ''}.")


@click.command("send-postbacks")
@with_appcontext
@click.option("--loop", is_flag=True, default=False, help="Keep sending every second until stopped (Ctrl-C).")
def send_postbacks_command(loop: bool) -> None:
    """Send the partner postbacks due now (serving processes send them too, every second)."""
    import time

    from . import postback_sender

    engine = db.get_engine()
    transport = postback_sender.transport_for(current_app.config)
    while True:
        figures = postback_sender.send_all_due(engine, transport)
        click.echo(
            f"Sent {figures.sent} postback{'s' if figures.sent != 1 else ''}: {figures.delivered} delivered, "
            f"{figures.retrying} to retry later, {figures.failed} failed for good."
        )
        if not loop:
            return
        time.sleep(postback_sender.SEND_INTERVAL)


@click.command("translations")
def translations_command() -> None:
    """Merge the code's sentences into the translation catalogues (api/translations); say what is left to translate."""
    from . import catalogues

    for domain in catalogues.SOURCES:
        for locale, count in catalogues.update(domain).items():
            click.echo(f"{domain}.po ({locale}): {count} untranslated")


def init_app(app: Flask) -> None:
    """Register the operator commands."""
    for command in (
        seed_demo_command,
        create_advertiser_command,
        create_partner_command,
        add_membership_command,
        flush_clicks_command,
        send_postbacks_command,
        translations_command,
    ):
        app.cli.add_command(command)
