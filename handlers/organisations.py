"""Looking at an organisation: your own in full, others' public parts only.

What a person sees is decided by storage/visibility: members and commissioners see the
whole profile and who belongs; other providers see the name, areas and services, and
never anyone's answers.
"""

from __future__ import annotations

from sqlalchemy import select

from bot.core.areas import area_label
from bot.core.feature import Command, Feature, NavLink
from bot.core.forms import FieldType, FormDefinition, format_answer
from bot.core.pages import PageContent, PageRequest, WebPage
from bot.core.registers import register_url
from bot.core.reply import Button, Fact, Message, Notice, Reply, Section
from bot.core.turn import Turn, parse_command
from bot.services import Services
from storage.forms import latest_definition
from storage.membership import find_organisation
from storage.models import Membership, Organisation, Person, Role
from storage.visibility import can_see_full_profile, public_profile

ROLE_NAMES = {Role.PROVIDER_ADMIN: "Admin", Role.PROVIDER_MEMBER: "Member"}

#: Shown on the full profile after the registration numbers.
DETAIL_FIELDS = (
    "legal_form",
    "public_service_mutual",
    "supported_employment",
    "income_band",
    "staff_count",
    "volunteer_count",
    "led_by_and_for",
    "contact_name",
    "contact_email",
    "contact_phone",
)


def profile_button(name: str, slug: str) -> Button:
    """A link from an organisation's name in a list to its profile (the `organisation`
    command), labelled with the name so each link says where it goes."""
    label = f"{name}: profile"
    if len(label) > 75:  # Slack's limit for a button's words
        label = f"{name[:64].rstrip()}…: profile"
    return Button(label=label, action="cmd.organisation", value=slug)


def registration_facts(definition: FormDefinition, org: Organisation) -> list[Fact]:
    """The organisation's registration numbers, each linked to its public register entry.

    Read from the profile form, so a register added there is shown here with no change;
    numbers not given are left out rather than listed as gaps.
    """
    facts = []
    for field in definition.all_fields():
        if field.type != FieldType.REGISTER_NUMBER or field.public_register is None:
            continue
        number = getattr(org, field.id, None)
        if number:
            facts.append(
                Fact(
                    label=field.label,
                    value=number,
                    url=register_url(field.public_register, number),
                )
            )
    return facts


def reserved_contract_facts(org: Organisation) -> list[Fact]:
    """Only a "yes" to public service mutual (s.33) or supported employment provider (s.32):
    the two kinds of organisation a council may reserve some contracts for. A "no" or no
    answer is not a reason to list anything."""
    return [
        Fact(label=label, value="Yes")
        for label, said in (
            ("Public service mutual", org.public_service_mutual),
            ("Supported employment provider", org.supported_employment),
        )
        if said is True
    ]


async def show_organisation(turn: Turn, services: Services) -> list[Reply]:
    """`organisation` (your own) or `organisation NAME`."""
    assert turn.actor is not None
    words, args = parse_command(turn.text or "")
    name = turn.args.get("name") or args.get("name") or " ".join(words[1:])
    async with services.db.session() as session:
        if name:
            matches = await find_organisation(session, name)
            if not matches:
                return [
                    Notice(
                        text=f'We could not find "{name}". Check the name and try again.',
                        level="warning",
                    )
                ]
            if len(matches) > 1:
                return [Notice(text="Which one do you mean? " + "; ".join(m.name for m in matches))]
            org = matches[0]
        else:
            own = sorted(turn.actor.member_of())
            if not own:
                return [Notice(text="Type organisation followed by a name to look one up.")]
            found = await session.get(Organisation, own[0])
            assert found is not None
            org = found
        definition = await latest_definition(session, "organisation_profile")
        assert definition is not None
        public = public_profile(org)
        org_areas = [area_label(a.value) for a in org.areas_served]
        service_areas = format_answer(
            definition.field("service_areas"), public["service_areas"] or None
        )
        facts = [
            Fact(label="Works on", value=service_areas),
            Fact(label="Areas served", value=", ".join(org_areas) or "Not answered"),
        ]
        if not can_see_full_profile(turn.actor, org.id):
            return [
                Message(
                    title=str(public["name"]),
                    sections=[Section(facts=facts)],
                    who_sees="This is what everyone using Convene can see about this organisation.",
                )
            ]
        facts.extend(registration_facts(definition, org))
        for field_id in DETAIL_FIELDS:
            facts.append(
                Fact(
                    label=definition.field(field_id).label,
                    value=format_answer(definition.field(field_id), getattr(org, field_id)),
                )
            )
        people = (
            await session.execute(
                select(Person.name, Membership.role)
                .join(Membership, Membership.person_id == Person.id)
                .where(Membership.organisation_id == org.id)
                .order_by(Person.name)
            )
        ).all()
    team = "\n".join(f"{person} ({ROLE_NAMES.get(Role(role), role)})" for person, role in people)
    mine = org.id in turn.actor.member_of()
    buttons = [Button(label="Change the profile", action="cmd.profile")] if mine else []
    if mine and org.id in turn.actor.admin_of():
        buttons.append(Button(label="Invite a colleague", action="cmd.invite"))
    sections = [Section(facts=facts)]
    if org.registration_note:
        sections.append(
            Section(heading="About your registration numbers", text=org.registration_note)
        )
    sections.append(Section(heading="People", text=team or "Nobody yet."))
    return [
        Message(
            title=org.name,
            sections=sections,
            buttons=buttons,
            who_sees="Only people in this organisation and council commissioners see all of this. "
            "Others see the name, areas and services.",
        )
    ]


#: The web page that asks which organisation to look up.
FIND_PATH = "/find"


async def find_page(asked: PageRequest, services: Services) -> PageContent:
    """Find an organisation by name: one question that runs `organisation` on the web."""
    return PageContent(
        title="Find an organisation",
        template="ask.html",
        data={
            "heading": "Find an organisation",
            "intro": ["Type all or part of an organisation's name to see its details."],
            "questions": [
                {
                    "command": "organisation",
                    "method": "get",
                    "field": "name",
                    "label": "Organisation's name",
                    "hint": "For example: Riverside.",
                    "button": "Find",
                }
            ],
        },
    )


FEATURE = Feature(
    name="organisations",
    nav=(
        NavLink("Our organisation", "organisation", "providers", order=60),
        NavLink("Find an organisation", "organisation", "admins", order=85, path=FIND_PATH),
    ),
    commands=(
        Command(
            "organisation",
            "see an organisation: yours in full, others' public details",
            show_organisation,
            teams_scopes=frozenset({"team", "groupChat"}),
        ),
    ),
    pages=(WebPage(FIND_PATH, "html", find_page),),
)
