"""Joining an organisation: invite codes from a provider admin, or a request an admin approves;
and leaving it, when an admin removes somebody.

Works the same from Slack, Teams and the web: somebody new is never stuck, and an
organisation decides who speaks for it.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import format_day
from bot.core.feature import Command, Confirmation, Feature, SubCommand
from bot.core.pages import PageContent, PageRequest, WebPage
from bot.core.reply import Button, Message, Notice, Reply, ReplyList, Section, command_ref
from bot.core.turn import Turn, parse_command, row_id
from bot.services import Services
from storage import audit
from storage.membership import (
    create_invite_code,
    current_invite_code,
    find_organisation,
    organisation_admins,
    pending_request,
    revoke_invite_codes,
    usable_code,
)
from storage.models import JoinRequest, Membership, Organisation, Person, Role
from storage.outbox import enqueue_for_person
from storage.people import grant, organisation_members, remove_from_organisation

HOW_TO_JOIN = (
    "You are not linked to an organisation yet. If a colleague gave you a code, type "
    "join followed by the code, like: join ABCD-2345. If not, type join request followed by "
    "your organisation's name, and one of its admins can let you in."
)


async def join(turn: Turn, services: Services) -> list[Reply]:
    """`join CODE` or `join request ORGANISATION NAME`."""
    assert turn.actor is not None
    words, _ = parse_command(turn.text or "")
    rest = words[1:]
    # Chat doors type `join ABCD-2345`; the web door sends ?code=… or ?request=….
    request_name = turn.args.get("request") or (
        " ".join(rest[1:]) if rest[:1] == ["request"] else ""
    )
    code = turn.args.get("code") or (rest[0] if rest and rest[0] != "request" else "")
    if not (request_name or code or rest):
        return [Notice(text=HOW_TO_JOIN)]
    async with services.db.session() as session:
        if code:
            return await _redeem(session, turn, services, code)
        return await _request(session, turn, services, request_name)


async def _redeem(session: AsyncSession, turn: Turn, services: Services, text: str) -> list[Reply]:
    assert turn.actor is not None
    now = services.clock.now()
    code = await usable_code(session, text, now=now)
    if code is None:
        await audit.record_turn(
            session,
            turn,
            "membership.code_refused",
            object_type="invite_code",
            object_id=text[:40],
            at=now,
        )
        return [
            Notice(
                text="That code doesn't work. It may be mistyped or too old. Ask your "
                "colleague for a new one, or type join request followed by your "
                "organisation's name.",
                level="warning",
            )
        ]
    person = await session.get(Person, turn.actor.person_id)
    organisation = await session.get(Organisation, code.organisation_id)
    assert person is not None and organisation is not None
    await grant(session, person, Role(code.role), organisation_id=organisation.id)
    services.actors.forget(person.id)
    await audit.record(
        session,
        "membership.joined_with_code",
        actor_id=person.id,
        door=turn.door,
        object_type="organisation",
        object_id=organisation.id,
        organisation_id=organisation.id,
        at=now,
    )
    return [
        Notice(
            text=f"Welcome. You are now part of {organisation.name} in Convene. "
            f"See your organisation's details: {command_ref('profile', 'your profile')}.",
            level="success",
            buttons=[Button(label="See the profile", action="cmd.profile")],
        )
    ]


async def _request(session: AsyncSession, turn: Turn, services: Services, name: str) -> list[Reply]:
    assert turn.actor is not None
    matches = await find_organisation(session, name)
    if not matches:
        return [
            Notice(
                text=f'We could not find "{name}". Check the name, or ask your council contact '
                "to add your organisation."
                if name
                else "Type join request followed by your organisation's name.",
                level="warning",
            )
        ]
    if len(matches) > 1:
        names = "; ".join(m.name for m in matches)
        return [
            Notice(text=f"Which one do you mean? {names}. Type join request and the full name.")
        ]
    organisation = matches[0]
    if organisation.id in turn.actor.member_of():
        return [Notice(text=f"You are already part of {organisation.name}.")]
    now = services.clock.now()
    existing = await pending_request(session, turn.actor.person_id, organisation.id)
    if existing is not None:
        return [
            Notice(
                text=f"You already asked to join {organisation.name}. We'll tell you when "
                "an admin answers."
            )
        ]
    request = JoinRequest(
        person_id=turn.actor.person_id, organisation_id=organisation.id, created_at=now
    )
    session.add(request)
    await session.flush()
    await audit.record_turn(
        session,
        turn,
        "membership.requested",
        object_type="join_request",
        object_id=request.id,
        organisation_id=organisation.id,
        at=now,
    )
    admins = await organisation_admins(session, organisation.id)
    ask = Message(
        title="Someone wants to join your organisation",
        text=f"{turn.actor.name} asked to join {organisation.name} in Convene on "
        f"{format_day(now)}. Only let them in if they work or volunteer with you.",
        buttons=[
            Button(
                label="Let them in", action="join.approve", value=str(request.id), style="primary"
            ),
            Button(label="Say no", action="join.decline", value=str(request.id)),
        ],
    )
    for admin_id in admins:
        admin = await session.get(Person, admin_id)
        if admin is not None:
            await enqueue_for_person(
                session,
                admin,
                ReplyList(replies=[ask]).model_dump(mode="json"),
                f"join-request:{request.id}:admin:{admin_id}",
            )
    if not admins:
        return [
            Notice(
                text=f"{organisation.name} has no admin in Convene yet, so nobody can let "
                "you in. Ask your council contact for help.",
                level="warning",
            )
        ]
    return [
        Notice(
            text=f"We asked the admins of {organisation.name} to let you in. We'll message "
            "you when they answer.",
            level="success",
        )
    ]


async def decide(turn: Turn, services: Services) -> list[Reply]:
    """`join.approve` / `join.decline` buttons, pressed by an admin of that organisation;
    `join.remove` takes somebody out of it."""
    assert turn.actor is not None and turn.action is not None
    if turn.action.id == "join.remove":
        return await remove_member(turn, services)
    approve = turn.action.id == "join.approve"
    request_id = turn.action.number
    async with services.db.session() as session:
        request = (
            None
            if request_id is None
            else await session.get(JoinRequest, request_id, with_for_update=True)
        )
        if request is None:
            return [Notice(text="That request could not be found.", level="error")]
        if request.organisation_id not in turn.actor.admin_of():
            await audit.record_turn(
                session,
                turn,
                "membership.decision_refused",
                object_type="join_request",
                object_id=request.id,
                organisation_id=request.organisation_id,
            )
            return [
                Notice(
                    text="Only an admin of that organisation can answer this request.",
                    level="error",
                )
            ]
        if request.state != "pending":
            return [Notice(text=f"Someone already answered this request ({request.state}).")]
        now = services.clock.now()
        request.state = "approved" if approve else "declined"
        request.decided_by = turn.actor.person_id
        request.decided_at = now
        person = await session.get(Person, request.person_id)
        organisation = await session.get(Organisation, request.organisation_id)
        assert person is not None and organisation is not None
        if approve:
            await grant(session, person, Role.PROVIDER_MEMBER, organisation_id=organisation.id)
            services.actors.forget(person.id)
        await audit.record_turn(
            session,
            turn,
            f"membership.{request.state}",
            object_type="join_request",
            object_id=request.id,
            organisation_id=organisation.id,
            at=now,
        )
        outcome = (
            f"You are now part of {organisation.name} in Convene. See its details: "
            f"{command_ref('profile', 'your profile')}."
            if approve
            else f"An admin of {organisation.name} did not add you. If you think this is a "
            "mistake, please talk to them."
        )
        await enqueue_for_person(
            session,
            person,
            ReplyList(
                replies=[Notice(text=outcome, level="success" if approve else "info")]
            ).model_dump(mode="json"),
            f"join-request:{request.id}:outcome",
        )
        return [
            Notice(
                text=f"Thanks. {person.name} {'can now' if approve else 'will not'} "
                f"use Convene for {organisation.name}.",
                level="success",
            )
        ]


async def invite(turn: Turn, services: Services) -> list[Reply]:
    """`invite`: a provider admin gets a code to share with colleagues. Opening it again
    shows the code they already have (while it works); `invite new` makes a new one, and
    the old one stops working."""
    assert turn.actor is not None
    admin_of = sorted(turn.actor.admin_of())
    if not admin_of:
        return [
            Notice(
                text="Only your organisation's admins can invite people. Ask one of them "
                "for a code.",
                level="warning",
            )
        ]
    words, _ = parse_command(turn.text or "")
    if words[1:2] == ["remove"]:
        return await _remove(turn, services, row_id(words[2]) if len(words) > 2 else None)
    fresh = words[1:2] == ["new"]
    async with services.db.session() as session:
        now = services.clock.now()
        organisation_id = admin_of[0]
        person_id = turn.actor.person_id
        code = await current_invite_code(session, organisation_id, person_id, now=now)
        replaced = code is not None and fresh
        if code is None or fresh:
            await revoke_invite_codes(session, organisation_id, person_id, now=now)
            code = await create_invite_code(session, organisation_id, person_id, now=now)
            await audit.record_turn(
                session,
                turn,
                "membership.code_created",
                object_type="invite_code",
                object_id=code.id,
                organisation_id=organisation_id,
                at=now,
            )
        organisation = await session.get(Organisation, organisation_id)
        assert organisation is not None
        members = await organisation_members(session, organisation.id)
    made = "Your old code stopped working. " if replaced else ""
    return [
        Message(
            title=f"Invite a colleague to {organisation.name}",
            text=f"{made}Share this code: {code.code}\nThey type join {code.code} in Slack, "
            f"Teams or on the Convene website. It works until {format_day(code.expires_at)}.",
            who_sees="Anyone with the code can join your organisation in Convene, so only share "
            "it with people who work or volunteer with you.",
            buttons=[
                Button(
                    label="Make a new code",
                    action="cmd.invite",
                    value="new",
                )
            ],
        ),
        _people_in(organisation, members, turn.actor.person_id),
    ]


async def _confirm_new_code(turn: Turn, services: Services) -> Confirmation:
    """The words asked before `invite new`: the old code stops working, said plainly."""
    assert turn.actor is not None
    admin_of = sorted(turn.actor.admin_of())
    old = None
    if admin_of:
        async with services.db.session() as session:
            old = await current_invite_code(
                session, admin_of[0], turn.actor.person_id, now=services.clock.now()
            )
    stops = (
        f"Your code {old.code} will stop working at once. "
        if old is not None
        else "Any code you made before will stop working. "
    )
    return Confirmation(
        title="Make a new invite code?",
        question="Make a new code for colleagues to join your organisation?",
        consequence=stops + "Anyone who has the old code but has not joined yet will need "
        "the new one from you.",
        yes_label="Yes, make a new code",
    )


async def _confirm_remove(
    turn: Turn, services: Services, membership_id: int
) -> Confirmation | None:
    """The words asked before an admin removes somebody: who, from what, and what happens
    to them. Named only to an admin of that organisation (anyone else is refused anyway)."""
    assert turn.actor is not None
    async with services.db.session() as session:
        membership = await session.get(Membership, membership_id)
        if membership is None or membership.organisation_id not in turn.actor.admin_of():
            return None
        person = await session.get(Person, membership.person_id)
        organisation = await session.get(Organisation, membership.organisation_id)
    if person is None or organisation is None:
        return None
    return Confirmation(
        title=f"Remove {person.name}?",
        question=f"Remove {person.name} from {organisation.name} in Convene?",
        consequence="They are signed out at once and can no longer act for your "
        "organisation. We tell them an admin took them out. To have them back, give them "
        "a new invite code.",
        yes_label=f"Yes, remove {person.name}",
    )


async def _confirm_join(turn: Turn, services: Services) -> Confirmation | None:
    """The words asked before `join` runs from a link: which code, or which organisation."""
    words, _ = parse_command(turn.text or "")
    rest = words[1:]
    request_name = turn.args.get("request") or (
        " ".join(rest[1:]) if rest[:1] == ["request"] else ""
    )
    code = turn.args.get("code") or (rest[0] if rest and rest[0] != "request" else "")
    if code:
        return Confirmation(
            title="Join this organisation?",
            question=f"Do you want to join an organisation with the code {code}?",
            consequence="You will be able to act for it in Convene, and its admins will see "
            "that you joined.",
            yes_label="Yes, join",
        )
    if request_name:
        return Confirmation(
            title="Ask to join?",
            question=f"Do you want to ask to join {request_name}?",
            consequence="Its admins will be asked to let you in. We will tell you what they "
            "decide.",
            yes_label="Yes, ask to join",
        )
    return None


def _people_in(
    organisation: Organisation, members: list[tuple[Membership, Person]], me: int
) -> Message:
    """Who is in the organisation now, with a button to take out anyone who has left."""
    sections = []
    for membership, person in members:
        role = "Admin" if membership.role == Role.PROVIDER_ADMIN else "Member"
        buttons = (
            []
            if person.id == me
            else [
                # Asks first on the web, in `_confirm_remove`'s words.
                Button(
                    label=f"Remove {person.name}",
                    action="cmd.invite",
                    value=f"remove {membership.id}",
                    style="danger",
                )
            ]
        )
        sections.append(Section(heading=person.name, text=role, buttons=buttons))
    return Message(
        title=f"People in {organisation.name}",
        text="Remove anyone who no longer works or volunteers with you. They are signed out "
        "at once, and can no longer act for your organisation.",
        sections=sections,
    )


async def remove_member(turn: Turn, services: Services) -> list[Reply]:
    """`join.remove`: an admin takes somebody out of their organisation.

    All of that person's roles there go, and they are signed out of the web pages
    everywhere, so nothing they still have open can act for the organisation.
    """
    assert turn.action is not None
    return await _remove(turn, services, turn.action.number)


async def _remove(turn: Turn, services: Services, membership_id: int | None) -> list[Reply]:
    """An admin takes the person with this membership out of their organisation."""
    assert turn.actor is not None
    async with services.db.session() as session:
        membership = None if membership_id is None else await session.get(Membership, membership_id)
        if membership is None or membership.organisation_id is None:
            return [
                Notice(text="That person is not part of the organisation any more.", level="error")
            ]
        organisation_id = membership.organisation_id
        if organisation_id not in turn.actor.admin_of():
            await audit.record_turn(
                session,
                turn,
                "membership.removal_refused",
                object_type="membership",
                object_id=membership.id,
                organisation_id=organisation_id,
            )
            return [
                Notice(
                    text="Only an admin of that organisation can remove people from it.",
                    level="error",
                )
            ]
        if membership.person_id == turn.actor.person_id:
            return [
                Notice(
                    text="You can't remove yourself. Ask another admin of your organisation.",
                    level="warning",
                )
            ]
        person = await session.get(Person, membership.person_id)
        organisation = await session.get(Organisation, organisation_id)
        assert person is not None and organisation is not None
        now = services.clock.now()
        await remove_from_organisation(session, person.id, organisation_id)
        services.actors.forget(person.id)
        await audit.record_turn(
            session,
            turn,
            "membership.removed",
            object_type="person",
            object_id=person.id,
            organisation_id=organisation_id,
            at=now,
        )
        await enqueue_for_person(
            session,
            person,
            ReplyList(
                replies=[
                    Notice(
                        text=f"An admin of {organisation.name} took you out of it in Convene. "
                        "If you think this is a mistake, please talk to them."
                    )
                ]
            ).model_dump(mode="json"),
            f"membership-removed:{membership.id}",
        )
        return [
            Notice(
                text=f"{person.name} is no longer part of {organisation.name} in Convene.",
                level="success",
            )
        ]


#: The web page that asks for a code (or an organisation to ask to join).
JOIN_PATH = "/join"


async def join_page(asked: PageRequest, services: Services) -> PageContent:
    """Join with a code, or ask an organisation's admins: two short questions that run
    `join` on the web as it runs typed."""
    return PageContent(
        title="Join your organisation",
        template="ask.html",
        data={
            "heading": "Join your organisation",
            "intro": [
                "Join to see and answer things for your organisation.",
                "A colleague who is an admin of your organisation can give you a code.",
            ],
            "questions": [
                {
                    "heading": "I have a code",
                    "command": "join",
                    "method": "post",
                    "field": "code",
                    "label": "Your code",
                    "hint": "It looks like ABCD-2345.",
                    "button": "Join",
                },
                {
                    "heading": "I do not have a code",
                    "command": "join",
                    "method": "post",
                    "field": "request",
                    "label": "Your organisation's name",
                    "hint": "We will ask its admins to let you in, and tell you what they say.",
                    "button": "Ask to join",
                },
            ],
        },
    )


FEATURE = Feature(
    name="membership",
    pages=(WebPage(JOIN_PATH, "html", join_page),),
    commands=(
        Command(
            "join",
            "join your organisation with a code, or ask to join",
            join,
            changes_things=True,
            confirm=_confirm_join,
        ),
        Command(
            "invite",
            "get a code so a colleague can join your organisation",
            invite,
            "providers",
            teams_scopes=frozenset({"team", "groupChat"}),
            subcommands=(
                SubCommand("new", changes_things=True, confirm=_confirm_new_code),
                SubCommand("remove", numbered=True, changes_things=True, confirm=_confirm_remove),
            ),
        ),
    ),
    actions={"join.": decide},
)
