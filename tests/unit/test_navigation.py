"""The main navigation built from what features declare: by role, in order, each place
once, and only to commands that exist (the Dashboard goes Home until there is one)."""

from __future__ import annotations

from bot.core.enums import Role
from bot.core.feature import NavLink, navigation
from bot.core.turn import Actor, Grant
from handlers import features

COMMISSIONER = Grant(Role.COMMISSIONER, authority_id=1)
PROVIDER = Grant(Role.PROVIDER_ADMIN, organisation_id=7)
ADMIN = Grant(Role.ADMIN)

LINKS = (
    NavLink("Dashboard", "dashboard", "commissioners", order=0, fallback="home"),
    NavLink("Home", "home", order=1),
    NavLink("Opportunities", "opportunities", "providers", order=20),
    NavLink("Opportunities", "opportunities", "commissioners", order=20),
    NavLink("Find", "organisation", "admins", order=85, path="/find"),
    NavLink("Deliveries", "deliveries", "admins", order=75),
)


def actor(*grants: Grant) -> Actor:
    return Actor(person_id=1, name="Sam Person", grants=grants)


def test_a_dashboard_link_goes_home_until_there_is_a_dashboard() -> None:
    without = {"home", "opportunities", "organisation", "deliveries"}
    assert navigation(LINKS, actor(COMMISSIONER), without.__contains__) == [
        ("Dashboard", "home"),
        ("Opportunities", "opportunities"),
    ]
    with_dashboard = {*without, "dashboard"}
    assert navigation(LINKS, actor(COMMISSIONER), with_dashboard.__contains__) == [
        ("Dashboard", "dashboard"),
        ("Home", "home"),
        ("Opportunities", "opportunities"),
    ]


def test_several_roles_see_the_union_once_in_order_and_missing_commands_are_hidden() -> None:
    registered = {"home", "opportunities", "organisation"}  # no deliveries command
    assert navigation(LINKS, actor(PROVIDER, COMMISSIONER, ADMIN), registered.__contains__) == [
        ("Dashboard", "home"),
        ("Opportunities", "opportunities"),
        ("Find", "/find"),
    ]
    assert navigation(LINKS, actor(), registered.__contains__) == [("Home", "home")]


def test_every_declared_link_goes_to_a_command_that_exists_or_has_a_fallback() -> None:
    declared = features()
    for link in declared.nav_links():
        target = link.command if declared.command(link.command) else link.fallback
        assert target is not None and declared.command(target), link
