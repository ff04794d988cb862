"""The provider directory: commissioners browse and filter the local VCFSE sector.

Only public profile facts and size/shape facts are shown here: never readiness
answers, which the visibility policy keeps to the organisation and the authority
it answered.
"""

from __future__ import annotations

from typing import Any

from bot.core.areas import area_label, find_areas
from bot.core.feature import Command, Feature, Gate, HomeSection, NavLink
from bot.core.forms import FormDefinition, format_answer
from bot.core.reply import (
    Button,
    Fact,
    Filter,
    FilterBar,
    FilterOption,
    Message,
    Notice,
    Reply,
    Section,
    command_ref,
)
from bot.core.turn import Turn
from bot.services import Services
from handlers.organisations import profile_button, registration_facts, reserved_contract_facts
from storage.forms import latest_definition
from storage.organisations import DirectoryFilter, all_areas_served, search_directory

FILTER_FIELDS = {
    "service": "service_areas",
    "form": "legal_form",
    "income": "income_band",
    "led": "led_by_and_for",
}


def _options(definition: FormDefinition, field_id: str) -> list[FilterOption]:
    field = definition.field(field_id)
    return [FilterOption(value=c.value, label=c.label) for c in field.choices]


def _area_code(typed: str) -> str:
    """The filter's area as a code: the web sends one, but in chat people type
    `directory area=Leeds` or a postcode. Text naming no single place is kept, and
    matches nobody, rather than being guessed."""
    found = find_areas(typed) if typed.strip() else None
    return found.areas[0].code if found and len(found.areas) == 1 else typed


async def show_directory(turn: Turn, services: Services) -> list[Reply]:
    """`directory [service=…] [area=…] [form=…] [income=…] [led=…] [name=…]`."""
    assert turn.actor is not None
    async with services.db.session() as session:
        definition = await latest_definition(session, "organisation_profile")
        if definition is None:
            return [Notice(text="The directory is not set up yet.", level="error")]
        args = turn.args
        criteria = DirectoryFilter(
            service_area=args.get("service", ""),
            area=_area_code(args.get("area", "")),
            legal_form=args.get("form", ""),
            income_band=args.get("income", ""),
            led_by_and_for=args.get("led", ""),
            text=args.get("name", ""),
        )
        organisations = await search_directory(session, criteria)
        areas = await all_areas_served(session)
    filters = FilterBar(
        command="directory",
        filters=[
            Filter(
                name="service",
                label="Works on",
                options=_options(definition, "service_areas"),
                selected=criteria.service_area,
            ),
            Filter(
                name="area",
                label="Area served",
                options=sorted(
                    (FilterOption(value=a, label=area_label(a)) for a in areas),
                    key=lambda o: o.label,
                ),
                selected=criteria.area,
            ),
            Filter(
                name="form",
                label="Kind of organisation",
                options=_options(definition, "legal_form"),
                selected=criteria.legal_form,
            ),
            Filter(
                name="income",
                label="Yearly income",
                options=_options(definition, "income_band"),
                selected=criteria.income_band,
            ),
            Filter(
                name="led",
                label="Led by and for",
                options=_options(definition, "led_by_and_for"),
                selected=criteria.led_by_and_for,
            ),
        ],
    )
    sections = [
        Section(
            heading=org.name,
            buttons=[profile_button(org.name, org.slug)],
            facts=[
                Fact(
                    label="Works on",
                    value=format_answer(
                        definition.field("service_areas"),
                        [a.value for a in org.service_areas] or None,
                    ),
                ),
                Fact(
                    label="Areas served",
                    value=", ".join(area_label(a.value) for a in org.areas_served)
                    or "Not answered",
                ),
                Fact(
                    label="Kind",
                    value=format_answer(definition.field("legal_form"), org.legal_form),
                ),
                Fact(
                    label="Yearly income",
                    value=format_answer(definition.field("income_band"), org.income_band),
                ),
                Fact(
                    label="Led by and for",
                    value=format_answer(definition.field("led_by_and_for"), org.led_by_and_for),
                ),
                *reserved_contract_facts(org),
                *registration_facts(definition, org),
            ],
        )
        for org in organisations
    ]
    count = len(organisations)
    summary = (
        "No organisations match these filters. Try removing one."
        if count == 0
        else f"{count} organisation{'s' if count != 1 else ''} found."
    )
    # Heading first, then the filters, then what they found: the order a page is read in.
    return [
        Message(title="Provider directory", text=summary),
        filters,
        Message(sections=sections, who_sees="Readiness answers are never shown here."),
    ]


async def _home_sections(session: Any, actor: Any, services: Services) -> list[Section]:
    """Home points commissioners to the directory."""
    if not actor.is_commissioner:
        return []
    return [
        Section(
            heading="Providers",
            text="Browse and filter local voluntary and community organisations.",
            buttons=[Button(label="Open the directory", action="cmd.directory")],
        )
    ]


FEATURE = Feature(
    name="directory",
    nav=(NavLink("Providers", "directory", "commissioners", order=50),),
    commands=(
        Command(
            "directory",
            "browse and filter local providers",
            show_directory,
            "commissioners",
            # Listed where commissioners work together; it can still be typed anywhere.
            teams_scopes=frozenset({"team", "groupChat"}),
            # The directory shows size and shape facts that are not public (see
            # storage.visibility.can_browse_directory): commissioners only, on every door.
            gate=Gate(
                refusal="The provider directory is for council commissioners. "
                f"You can see and change your own organisation's profile: "
                f"{command_ref('profile', 'your profile')}.",
                audit_action="directory.refused",
                object_type="directory",
            ),
        ),
    ),
    home_sections=(HomeSection(order=30, sections=_home_sections),),
)
