"""Demo data: a council, a few local providers and people, so a newcomer has something to look at.

All names are made up, except the places: areas are real councils and a county (as ONS
GSS codes, looked up from the area data by name), so matching by area can be tried out.
"""

from __future__ import annotations

from sqlalchemy import func, select

from bot.core.areas import code_for_words
from bot.services import Services
from storage.models import Authority, Organisation, Person, Role
from storage.organisations import set_areas_served, set_service_areas
from storage.people import grant

AUTHORITY = ("Riverside Borough Council", "riverside")

PROVIDERS = [
    {
        "name": "Riverside Youth Trust",
        "slug": "riverside-youth-trust",
        "contact_name": "Tom Okafor",
        "contact_email": "tom@riversideyouth.example",
        "contact_phone": "020 7946 0101",
        "legal_form": "charity",
        "charity_number": "1100001",
        # Registered as a supplier on Find a Tender; not a mutual or supported employer.
        "ppon": "PQRT-7342-HMVD",
        "public_service_mutual": False,
        "supported_employment": False,
        "income_band": "100k_1m",
        "staff_count": 12,
        "volunteer_count": 40,
        "led_by_and_for": "partly",
        "service_areas": ["children_young_people", "employment_skills"],
        "areas": ["Preston", "Lancaster"],
    },
    {
        "name": "Eastgate Community Kitchen",
        "slug": "eastgate-community-kitchen",
        "contact_name": "Grace Lee",
        "contact_email": "grace@eastgatekitchen.example",
        "contact_phone": "020 7946 0102",
        "legal_form": "cic",
        "company_number": "12000002",
        # Most of its kitchen staff are people with learning disabilities it trained.
        "ppon": "PLMN-2293-XBTD",
        "public_service_mutual": False,
        "supported_employment": True,
        "income_band": "10k_100k",
        "staff_count": 2,
        "volunteer_count": 25,
        "led_by_and_for": "yes",
        "service_areas": ["food", "community_development"],
        "areas": ["Burnley"],
    },
    {
        "name": "Asha Women's Centre",
        "slug": "asha-womens-centre",
        "contact_name": "Centre manager",
        "contact_email": "amina@ashacentre.example",
        "contact_phone": "020 7946 0103",
        "legal_form": "charity",
        "charity_number": "1100003",
        "public_service_mutual": False,
        "supported_employment": False,
        "income_band": "100k_1m",
        "staff_count": 8,
        "volunteer_count": 15,
        "led_by_and_for": "yes",
        "service_areas": ["domestic_abuse", "mental_health", "advice_advocacy"],
        "areas": ["Lancashire"],  # a county: it covers the three councils above
    },
    {
        "name": "Silver Threads Befriending",
        "slug": "silver-threads-befriending",
        "contact_name": "Joan Hughes",
        "contact_email": "joan@silverthreads.example",
        "contact_phone": "020 7946 0104",
        "legal_form": "community_group",
        "income_band": "under_10k",
        "staff_count": 0,
        "volunteer_count": 18,
        "led_by_and_for": "no",
        "service_areas": ["older_people"],
        "areas": ["Preston"],
    },
]

PEOPLE = [
    ("Priya Shah", "priya.shah@riverside.example", Role.COMMISSIONER, None),
    ("Tom Okafor", "tom@riversideyouth.example", Role.PROVIDER_ADMIN, "riverside-youth-trust"),
    (
        "Grace Lee",
        "grace@eastgatekitchen.example",
        Role.PROVIDER_ADMIN,
        "eastgate-community-kitchen",
    ),
    ("Amina Begum", "amina@ashacentre.example", Role.PROVIDER_ADMIN, "asha-womens-centre"),
    (
        "Joan Hughes",
        "joan@silverthreads.example",
        Role.PROVIDER_MEMBER,
        "silver-threads-befriending",
    ),
    ("Alex Morgan", "alex@convene.example", Role.ADMIN, None),
]


def area_codes(names: list[str]) -> list[str]:
    """Demo places by name -> GSS codes, from the area data (never typed as codes here)."""
    codes = []
    for name in names:
        code, why_not = code_for_words(name)
        if code is None:
            raise ValueError(f"demo area {name!r}: {why_not}")
        codes.append(code)
    return codes


async def load_demo_if_empty(services: Services) -> bool:
    """Load the demo only into a database with nobody in it. Returns whether it did."""
    async with services.db.session() as session:
        if await session.scalar(select(func.count()).select_from(Person)):
            return False
    await load_demo(services)
    return True


async def load_demo(services: Services) -> None:
    now = services.clock.now()
    async with services.db.session() as session:
        authority = await session.scalar(select(Authority).where(Authority.slug == AUTHORITY[1]))
        if authority is None:
            authority = Authority(name=AUTHORITY[0], slug=AUTHORITY[1], created_at=now)
            session.add(authority)
        organisations: dict[str, Organisation] = {}
        for spec in PROVIDERS:
            org = await session.scalar(
                select(Organisation).where(Organisation.slug == spec["slug"])
            )
            if org is None:
                org = Organisation(created_at=now, updated_at=now)
                session.add(org)
            for key, value in spec.items():
                if key not in ("service_areas", "areas"):
                    setattr(org, key, value)
            set_service_areas(org, spec["service_areas"])  # type: ignore[arg-type]
            set_areas_served(org, area_codes(spec["areas"]))  # type: ignore[arg-type]
            organisations[str(spec["slug"])] = org
        await session.flush()
        for name, email, role, org_slug in PEOPLE:
            person = await session.scalar(select(Person).where(Person.email == email))
            if person is None:
                person = Person(name=name, email=email, created_at=now, is_demo=True)
                session.add(person)
                await session.flush()
            if role == Role.COMMISSIONER:
                await grant(session, person, role, authority_id=authority.id)
            elif role == Role.ADMIN:
                await grant(session, person, role)
            else:
                assert org_slug is not None
                await grant(session, person, role, organisation_id=organisations[org_slug].id)
