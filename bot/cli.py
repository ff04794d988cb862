"""The `convene` command."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, NoReturn, TypeVar

import typer

from bot.observability.logs import configure_logging
from bot.settings import Settings, load_settings
from storage.db import DatabaseUnavailable
from storage.models import Role

if TYPE_CHECKING:
    from bot.services import Services

T = TypeVar("T")

app = typer.Typer(
    help="Convene: plan public services with local charities and community groups.",
    no_args_is_help=True,
    add_completion=False,
)
db_app = typer.Typer(help="Look after the database.", no_args_is_help=True)
app.add_typer(db_app, name="db")


def _installed_version() -> str:
    """The version pip installed (the package's metadata), so a bug report can name it."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("convene")
    except PackageNotFoundError:
        return "unknown (not installed: run `make install`)"


def _print_version(asked: bool) -> None:
    if asked:
        typer.echo(f"convene {_installed_version()}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="Print Convene's version and stop.",
        ),
    ] = False,
) -> None:
    """Convene: plan public services with local charities and community groups."""


def _settings(**overrides: object) -> Settings:
    return load_settings(**{k: v for k, v in overrides.items() if v is not None})


def _fail(message: str) -> NoReturn:
    typer.echo(message, err=True)
    raise typer.Exit(code=1)


def _with_database(work: Callable[[Services], Awaitable[T]]) -> T:
    """Prepare the database, do the work, let go of the engine; one clear line if it fails."""
    from bot.app import build_services, prepare

    services = build_services(_settings())

    async def run() -> T:
        try:
            await prepare(services)
            return await work(services)
        finally:
            await services.db.dispose()

    try:
        return asyncio.run(run())
    except (DatabaseUnavailable, LookupError) as exc:
        _fail(str(exc))


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    demo_if_empty: Annotated[
        bool, typer.Option("--demo-if-empty", help="Load the demo data when the database is empty.")
    ] = False,
) -> None:
    """Run the bot: web pages, Slack and Teams endpoints, and the scheduler, on one server."""
    from bot.app import build_services, prepare, serve

    settings = _settings(host=host, port=port)
    if settings.secret_key is None and not settings.is_local_trial:
        # Off a trial there may be several copies of Convene, and each would make its own
        # key file: a session signed by one would be refused by the next.
        _fail(
            "CONVENE_SECRET_KEY is not set: set it to the same long random value for every "
            "copy of Convene (make one with: openssl rand -base64 48)."
        )
    configure_logging(settings.log_level, settings.log_format)
    services = build_services(settings)

    async def get_ready() -> None:
        try:
            await prepare(services, demo_if_empty=demo_if_empty, demo_agreements=True)
        finally:
            await services.db.dispose()

    try:
        asyncio.run(get_ready())
    except DatabaseUnavailable as exc:
        _fail(str(exc))
    services = build_services(settings)  # a fresh engine for the server's own event loop
    announce_mode(settings)
    typer.echo(f"Convene is running at {settings.base_url}/")
    serve(services, host=settings.host, port=settings.port)


def announce_mode(settings: Settings) -> None:
    """Say at start which mode Convene is in, so nobody runs a trial for real by mistake.

    A local trial lets anyone who can reach it be a demo person without a password, so it
    says so loudly, in a block that stands out in any log. Production says where it is.
    """
    log = logging.getLogger("bot.cli")
    if not settings.is_local_trial:
        log.info("PRODUCTION: Convene is serving %s/ (sign in with a link only)", settings.base_url)
        return
    if settings.local_mode_enabled:
        lines = [
            f"LOCAL TRIAL: anyone who can reach {settings.base_url} can sign in as a demo",
            "person, without a password.",
        ]
    else:
        lines = [f"LOCAL TRIAL at {settings.base_url}: the demo sign-in list is turned off."]
    if not settings.teams_authenticated:
        lines.append("Teams messages to /api/messages are taken without checking who sent them.")
    if settings.secret_key is None:
        lines.append("Sessions are signed with a key kept in the file .convene-secret.")
    lines += [
        "This is only for trying Convene on this computer. To run it for real, set",
        "CONVENE_PUBLIC_URL (its https address) and CONVENE_SECRET_KEY.",
    ]
    rule = "=" * 72
    log.warning("\n".join(["", rule, *lines, rule]))


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Bring the database schema up to date (it is safe to run more than once)."""

    async def nothing_more(_: Services) -> None:
        return None

    _with_database(nothing_more)
    typer.echo("The database is up to date.")


@app.command()
def demo() -> None:
    """Load a demo council, a few providers and people (safe to run more than once)."""
    from bot.demo import load_demo
    from bot.demo_agreements import load_demo_agreements

    async def load_all(services: Services) -> None:
        await load_demo(services)
        await load_demo_agreements(services)

    _with_database(load_all)
    typer.echo("Demo data loaded. Run `convene serve` and open the sign-in page.")


@app.command()
def invite(
    email: Annotated[str, typer.Argument(help="The person's email address.")],
    org: Annotated[
        str | None, typer.Option(help="Organisation (or, for commissioners, authority) short name.")
    ] = None,
    role: Annotated[
        str, typer.Option(help="commissioner, provider_member, provider_admin or admin.")
    ] = "provider_member",
    name: Annotated[str | None, typer.Option(help="The person's name, if they are new.")] = None,
) -> None:
    """Print a one-time sign-in link for a person, creating them and their role if needed."""
    from bot.web.auth import create_sign_in_link
    from storage.accounts import give_role_by_slug, person_for_invitation

    settings = _settings()
    try:
        wanted = Role(role)
    except ValueError:
        _fail(f"Unknown role {role!r}. Use one of: {', '.join(r.value for r in Role)}.")

    async def run(services: Services) -> str:
        async with services.db.session() as session:
            now = services.clock.now()
            person = await person_for_invitation(session, email, name=name, now=now)
            await give_role_by_slug(session, person, wanted, org)
            token = await create_sign_in_link(
                session,
                person.id,
                now=now,
                ttl=timedelta(seconds=settings.signin_link_ttl_seconds),
            )
        return f"{settings.base_url}/signin/{token}"

    typer.echo(_with_database(run))


@app.command("link-workspace")
def link_workspace(
    platform: Annotated[str, typer.Argument(help="slack or teams.")],
    workspace_id: Annotated[str, typer.Argument(help="Slack team id (T…) or Teams tenant id.")],
    authority: Annotated[
        str | None, typer.Option(help="Newcomers from there are this authority's commissioners.")
    ] = None,
    org: Annotated[
        str | None, typer.Option(help="Newcomers from there are members of this organisation.")
    ] = None,
) -> None:
    """Say who people from a Slack workspace or Teams tenant are, the first time they use Convene."""
    from storage.models import Door
    from storage.workspaces import link_workspace as link

    if platform not in ("slack", "teams"):
        _fail("The platform must be slack or teams.")
    if (authority is None) == (org is None):
        _fail("Give exactly one of --authority or --org.")

    async def run(services: Services) -> str:
        async with services.db.session() as session:
            name = await link(session, Door(platform), workspace_id, authority=authority, org=org)
            if name is None:
                raise LookupError(f"No authority or organisation called {authority or org!r}.")
            return name

    name = _with_database(run)
    role = "commissioners of" if authority else "members of"
    typer.echo(f"People who first use Convene from {platform} {workspace_id} become {role} {name}.")


@app.command("post-invitations-to")
def post_invitations_to(
    authority: Annotated[str, typer.Argument(help="The authority's short name (slug).")],
    platform: Annotated[str, typer.Argument(help="slack or teams.")],
    channel: Annotated[
        str, typer.Argument(help="Slack channel id (C…) or Teams conversation id of the channel.")
    ],
    workspace_id: Annotated[
        str | None, typer.Option("--workspace", help="Slack team id or Teams tenant id.")
    ] = None,
    name: Annotated[str | None, typer.Option(help="A name to show, e.g. #local-sector.")] = None,
) -> None:
    """Also post this authority's open invitations in a Slack or Teams channel."""
    from storage.accounts import authority_by_slug
    from storage.channels import post_invitations_in

    if platform not in ("slack", "teams"):
        _fail("The platform must be slack or teams.")

    async def run(services: Services) -> str:
        async with services.db.session() as session:
            target = await authority_by_slug(session, authority)
            if target is None:
                raise LookupError(f"No authority called {authority!r}.")
            await post_invitations_in(
                session, target, platform, channel, workspace_id=workspace_id, name=name
            )
            return target.name

    council = _with_database(run)
    typer.echo(
        f"{council}'s open invitations will also be posted in {name or channel} ({platform})."
    )


@app.command("forget-person")
def forget_person_command(
    email: Annotated[str, typer.Argument(help="The person's email address.")],
    yes: Annotated[bool, typer.Option("--yes", help="Confirm: this cannot be undone.")] = False,
) -> None:
    """Remove a person's details (for example after an erasure request), keeping the record."""
    from storage.accounts import person_to_forget
    from storage.people import forget_person

    if not yes:
        _fail("This removes the person's name, email and access for good. Add --yes to go ahead.")

    async def run(services: Services) -> None:
        async with services.db.session() as session:
            person = await person_to_forget(session, email)
            await forget_person(session, person.id, now=services.clock.now())

    _with_database(run)
    typer.echo("Done. Their details are removed; the record now says 'Removed person'.")


@app.command("infrastructure")
def infrastructure(
    slug: Annotated[str, typer.Argument(help="The organisation's short name.")],
    off: Annotated[bool, typer.Option("--off", help="It is not one (any more).")] = False,
) -> None:
    """Mark an organisation as the local infrastructure organisation (a CVS) for the places
    it serves: its members see partner posts there with names, and suggest introductions."""
    from storage.partners import mark_infrastructure

    async def run(services: Services) -> str | None:
        async with services.db.session() as session:
            organisation = await mark_infrastructure(session, slug, not off)
            return organisation.name if organisation else None

    name = _with_database(run)
    if name is None:
        _fail(f"No organisation has the short name {slug!r}. Nothing was changed.")
    typer.echo(
        f"{name} is no longer marked as a local infrastructure organisation."
        if off
        else f"{name} is now a local infrastructure organisation: its members can broker "
        "partners for opportunities in the places it serves."
    )


@app.command("areas-report")
def areas_report() -> None:
    """List the places typed before areas were codes that could not be matched to one.

    Each needs a person to open that profile or engagement and choose its areas again:
    until then the organisation is not invited by area for those places.
    """
    from storage.areas import unconverted_areas

    async def run(services: Services) -> list[str]:
        async with services.db.session() as session:
            return [
                f"{note.table_name} {note.row_id}: {note.original!r} ({note.reason})"
                for note in await unconverted_areas(session)
            ]

    lines = _with_database(run)
    if not lines:
        typer.echo("Every area typed before codes was matched to a place. Nothing to fix.")
        return
    typer.echo(f"{len(lines)} typed area(s) could not be matched to a place:")
    for line in lines:
        typer.echo(f"  {line}")
    typer.echo(
        "organisation_areas_served rows are organisation ids (fix in that profile); "
        "engagements rows are engagement ids (fix in that engagement's setup)."
    )


@app.command("slack-manifest")
def slack_manifest(
    public_url: Annotated[
        str | None, typer.Option(help="Where Slack reaches Convene (default CONVENE_PUBLIC_URL).")
    ] = None,
) -> None:
    """Print the Slack app manifest with your public URL filled in, ready to paste into Slack."""
    from manifest import slack_manifest_text

    url = (public_url or _settings().base_url).rstrip("/")
    typer.echo(slack_manifest_text().replace("https://convene.example.org", url))


@app.command("teams-package")
def teams_package(
    app_id: Annotated[str, typer.Option(help="The bot's Microsoft app id (MICROSOFT_APP_ID).")],
    teams_app_id: Annotated[
        str | None, typer.Option(help="The Teams app's own id (a GUID); defaults to --app-id.")
    ] = None,
    public_url: Annotated[
        str | None, typer.Option(help="Where Teams reaches Convene (default CONVENE_PUBLIC_URL).")
    ] = None,
    out: Annotated[str, typer.Option(help="Where to write the zip.")] = "convene-teams.zip",
    version: Annotated[
        str | None,
        typer.Option(
            "--version",
            help="The app's version in Teams, like 1.2.0; raise it for Teams to take an update.",
        ),
    ] = None,
    developer_name: Annotated[
        str | None,
        typer.Option(help="Who publishes the app, as Teams shows it (default Convene)."),
    ] = None,
) -> None:
    """Write the installable Teams app package (manifest and icons) to upload to Teams."""
    import uuid
    from pathlib import Path

    from bot.teams.package import PackageError, build_package

    try:
        uuid.UUID(app_id)
    except ValueError:
        _fail(f"--app-id must be the bot's Microsoft app id (a GUID), not {app_id!r}.")
    url = public_url or _settings().base_url
    try:
        path = build_package(
            Path(out),
            teams_app_id=teams_app_id or app_id,
            bot_app_id=app_id,
            public_url=url,
            version=version,
            developer_name=developer_name,
        )
    except PackageError as exc:
        _fail(str(exc))
    typer.echo(f"Wrote {path}. Upload it in Teams: Apps, Manage your apps, Upload an app.")


def main() -> None:
    app(prog_name="convene")


if __name__ == "__main__":
    main()
