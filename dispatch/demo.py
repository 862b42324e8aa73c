"""A demo pool for Beckum: places, organisations, staff and about 40 mediators.

Coordinates are approximate. Names and numbers are invented; phone numbers
use the +49 151 0000 range, emails the example.org domain.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlmodel import Session, select

from config.settings import Settings
from dispatch.mediators import service as mediators
from dispatch.mediators.schemas import MediatorCreate
from dispatch.places.models import Place
from dispatch.users import service as users
from dispatch.users.models import Role, User

COORDINATOR_EMAIL = "integration@beckum.example"
CASEWORKER_EMAIL = "jobcenter@beckum.example"
COORDINATOR_PASSWORD = "demo-coordinator"
CASEWORKER_PASSWORD = "demo-caseworker"

PLACES = [
    ("Rathaus Beckum", "Weststraße 46, 59269 Beckum", 51.7553, 8.0403, "Bürgerbüro, Erdgeschoss"),
    (
        "Jobcenter Kreis Warendorf, Standort Beckum",
        "Hühlstraße 8, 59269 Beckum",
        51.7571,
        8.0458,
        "Empfang, Raum 1",
    ),
    (
        "St. Elisabeth-Hospital Beckum",
        "Elisabethstraße 10, 59269 Beckum",
        51.7500,
        8.0454,
        "Zentrale Aufnahme",
    ),
    (
        "Ausländerbehörde Kreis Warendorf",
        "Waldenburger Straße 2, 48231 Warendorf",
        51.9532,
        7.9874,
        "Wartebereich B",
    ),
    (
        "Albertus-Magnus-Gymnasium",
        "Vellerner Straße 2, 59269 Beckum",
        51.7522,
        8.0386,
        "Sekretariat",
    ),
    (
        "Kopernikus-Gymnasium Neubeckum",
        "Kopernikusstraße, 59269 Beckum-Neubeckum",
        51.7986,
        8.0196,
        "Sekretariat",
    ),
    ("Familienzentrum Sonnenschein", "Nordwall 12, 59269 Beckum", 51.7592, 8.0415, "Leitung"),
    (
        "Bürgerbüro Neubeckum",
        "Hauptstraße 46, 59269 Beckum-Neubeckum",
        51.8006,
        8.0236,
        "Schalter 2",
    ),
]

# (name, gender, languages with levels, locale, qualifications)
PEOPLE = [
    ("Amina Haddad", "f", {"ar": "native", "de": "fluent"}, "ar", ["medical", "school"]),
    ("Yousef Al-Masri", "m", {"ar": "native", "de": "fluent", "en": "fluent"}, "ar", ["authority"]),
    (
        "Rania Khalil",
        "f",
        {"ar": "native", "ku": "basic", "de": "native"},
        "de",
        ["school", "psychosocial"],
    ),
    ("Omar Darwish", "m", {"ar": "native", "de": "basic"}, "ar", []),
    ("Layla Nasser", "f", {"ar": "fluent", "fr": "fluent", "de": "fluent"}, "de", ["medical"]),
    (
        "Oleksandr Kovalenko",
        "m",
        {"uk": "native", "ru": "native", "de": "basic"},
        "uk",
        ["authority"],
    ),
    (
        "Iryna Shevchenko",
        "f",
        {"uk": "native", "ru": "fluent", "de": "fluent"},
        "uk",
        ["medical", "school"],
    ),
    (
        "Natalia Bondarenko",
        "f",
        {"uk": "native", "ru": "native", "de": "fluent"},
        "uk",
        ["psychosocial"],
    ),
    ("Dmytro Melnyk", "m", {"uk": "native", "de": "fluent", "en": "fluent"}, "uk", []),
    ("Svetlana Ivanova", "f", {"ru": "native", "de": "native"}, "ru", ["medical", "legal"]),
    ("Andrej Wolkow", "m", {"ru": "native", "de": "native", "pl": "basic"}, "ru", ["authority"]),
    (
        "Mehmet Yılmaz",
        "m",
        {"tr": "native", "kmr": "fluent", "de": "native"},
        "tr",
        ["authority", "legal"],
    ),
    ("Ayşe Demir", "f", {"tr": "native", "de": "native"}, "tr", ["school", "medical"]),
    ("Elif Kaya", "f", {"tr": "native", "de": "fluent", "en": "basic"}, "tr", []),
    ("Ahmad Rahimi", "m", {"prs": "native", "fa": "native", "de": "fluent"}, "fa", ["authority"]),
    (
        "Zahra Hosseini",
        "f",
        {"prs": "native", "fa": "native", "de": "fluent"},
        "fa",
        ["medical", "psychosocial"],
    ),
    ("Mariam Sultani", "f", {"prs": "native", "ps": "fluent", "de": "basic"}, "fa", ["school"]),
    ("Reza Karimi", "m", {"fa": "native", "de": "native", "en": "fluent"}, "fa", ["legal"]),
    ("Shirin Ahmadi", "f", {"fa": "native", "prs": "fluent", "de": "fluent"}, "fa", ["medical"]),
    ("Gul Ahmad Noori", "m", {"ps": "native", "prs": "fluent", "de": "basic"}, "fa", []),
    ("Farida Stanikzai", "f", {"ps": "native", "de": "fluent"}, "de", ["school"]),
    ("Hevin Ali", "f", {"kmr": "native", "ar": "fluent", "de": "fluent"}, "de", ["school"]),
    ("Dilan Şahin", "m", {"kmr": "native", "tr": "native", "de": "native"}, "tr", ["authority"]),
    ("Bakhtiar Rasul", "m", {"ckb": "native", "ar": "fluent", "de": "basic"}, "ar", []),
    ("Sozan Omer", "f", {"ckb": "native", "kmr": "basic", "de": "fluent"}, "de", ["medical"]),
    (
        "Tesfay Gebremedhin",
        "m",
        {"ti": "native", "am": "fluent", "de": "fluent"},
        "de",
        ["authority"],
    ),
    (
        "Helen Tekle",
        "f",
        {"ti": "native", "de": "fluent", "en": "fluent"},
        "en",
        ["medical", "school"],
    ),
    ("Yonas Habte", "m", {"ti": "native", "ar": "basic", "de": "basic"}, "de", []),
    ("Hodan Abdi", "f", {"so": "native", "ar": "fluent", "de": "fluent"}, "de", ["school"]),
    (
        "Abdirahman Warsame",
        "m",
        {"so": "native", "en": "fluent", "de": "basic"},
        "en",
        ["authority"],
    ),
    ("Ioana Popescu", "f", {"ro": "native", "de": "fluent"}, "de", ["medical"]),
    ("Georgi Petrov", "m", {"bg": "native", "ru": "fluent", "de": "fluent"}, "ru", []),
    (
        "Arta Krasniqi",
        "f",
        {"sq": "native", "sr": "fluent", "de": "native"},
        "de",
        ["school", "legal"],
    ),
    ("Agnieszka Nowak", "f", {"pl": "native", "de": "native"}, "de", ["medical"]),
    (
        "Mirela Hodžić",
        "f",
        {"bs": "native", "hr": "native", "sr": "native", "de": "native"},
        "de",
        ["psychosocial"],
    ),
    ("Imran Qureshi", "m", {"ur": "native", "en": "fluent", "de": "fluent"}, "en", []),
    ("Fatima Bakr", "f", {"ar": "native", "de": "fluent"}, "ar", ["medical", "psychosocial"]),
    ("Nasrin Mohammadi", "f", {"fa": "native", "prs": "native", "de": "fluent"}, "fa", ["school"]),
    ("Viktoria Lysenko", "f", {"uk": "native", "ru": "native", "de": "basic"}, "uk", ["school"]),
    (
        "Samir Haidari",
        "m",
        {"prs": "native", "ps": "native", "fa": "fluent", "de": "fluent"},
        "fa",
        ["authority"],
    ),
]

HOMES = [  # (lat, lon) of neighbourhoods: Beckum, Neubeckum, Ennigerloh, Oelde, Ahlen
    (51.7553, 8.0403),
    (51.7600, 8.0300),
    (51.7490, 8.0520),
    (51.8006, 8.0236),
    (51.8350, 8.0300),
    (51.8300, 8.1500),
    (51.7630, 7.8910),
]
SLOT_PATTERNS = [
    [(0, "08:00", "16:00"), (2, "08:00", "16:00"), (4, "08:00", "13:00")],
    [(1, "09:00", "17:00"), (3, "09:00", "17:00")],
    [(0, "14:00", "19:00"), (1, "14:00", "19:00"), (2, "14:00", "19:00"), (3, "14:00", "19:00")],
    [(d, "08:00", "18:00") for d in range(5)],
    [(d, "07:30", "12:30") for d in range(5)],
    [(4, "08:00", "18:00"), (5, "09:00", "14:00")],
]


@dataclass
class DemoAccess:
    coordinator_token: str
    caseworker_token: str
    seeded: bool


def _ascii(word: str) -> str:
    """The Turkish letters of the demo names as e-mail addresses spell them."""
    return word.replace("ş", "s").replace("ı", "i")


#: Demo mediators whose listing runs out soon (days from today), and one who waits for
#: the police certificate: the dashboard's clearance lists show them.
EXPIRING_SOON = {5: 12, 17: 25}
WAITING_FOR_CERTIFICATE = 39


def _clearance(index: int, today: date) -> dict[str, str | None]:
    """Cleared since two months, listed for a year; a few are due for renewal or waiting."""
    trained = today - timedelta(days=60)
    until = today + timedelta(days=EXPIRING_SOON.get(index, 300))
    return {
        "trained_on": trained.isoformat(),
        "pledge_signed_on": trained.isoformat(),
        "police_certificate_seen_on": None
        if index == WAITING_FOR_CERTIFICATE
        else (trained + timedelta(days=7)).isoformat(),
        "listed_until": until.isoformat(),
    }


def demo_mediators(seed: int = 7, *, today: date = date(2026, 11, 30)) -> list[MediatorCreate]:
    """The demo pool; clearance dates count from `today` (cleared, apart from a few)."""
    rng = random.Random(seed)
    pool = []
    for index, (name, gender, languages, locale, qualifications) in enumerate(PEOPLE):
        lat, lon = HOMES[index % len(HOMES)]
        mode = rng.choice(["car", "car", "bike", "transit", "foot"])
        pool.append(
            MediatorCreate.model_validate(
                {
                    "name": name,
                    "phone": f"+49151000{index + 1:05d}",
                    "email": f"{_ascii(name.split()[0].lower())}.{index + 1}@example.org",
                    "languages": [
                        {"language": tag, "level": level} for tag, level in languages.items()
                    ],
                    "german_level": languages.get("de", "basic"),
                    "gender": gender,
                    "home": {
                        "lat": round(lat + rng.uniform(-0.01, 0.01), 5),
                        "lon": round(lon + rng.uniform(-0.015, 0.015), 5),
                    },
                    "travel_mode": mode,
                    "max_travel_km": {"car": 30, "transit": 20, "bike": 10, "foot": 4}[mode],
                    "max_hours_per_week": rng.choice([5, 8, 10, 15, 20]),
                    "qualifications": qualifications,
                    "channels": ["sms", "email"] if index % 3 == 0 else ["sms"],
                    "message_locale": locale,
                    "availability": [
                        {"weekday": day, "start": start, "end": end}
                        for day, start, end in SLOT_PATTERNS[index % len(SLOT_PATTERNS)]
                    ],
                    "consent_at": "2026-10-01T10:00:00+02:00",
                    **_clearance(index, today),
                }
            )
        )
    return pool


def seed_demo(session: Session, *, now: datetime, settings: Settings) -> DemoAccess:
    """Seed the demo once; on every call issue fresh tokens for the demo staff."""
    coordinator = session.exec(select(User).where(User.email == COORDINATOR_EMAIL)).first()
    seeded = coordinator is None
    if coordinator is None:
        town = users.get_or_create_organisation(
            session, name="Stadt Beckum – Integrationsmanagement", now=now
        )
        jobcenter = users.get_or_create_organisation(
            session, name="Jobcenter Kreis Warendorf", now=now
        )
        social = users.get_or_create_organisation(session, name="Stadt Beckum – Sozialamt", now=now)
        coordinator = users.create_user(
            session,
            email=COORDINATOR_EMAIL,
            name="Integrationsmanagement Beckum",
            role=Role.coordinator,
            organisation=town,
            password=COORDINATOR_PASSWORD,
            now=now,
        )
        users.create_user(
            session,
            email=CASEWORKER_EMAIL,
            name="Fallmanagement Jobcenter",
            role=Role.caseworker,
            organisation=jobcenter,
            password=CASEWORKER_PASSWORD,
            now=now,
        )
        users.create_user(
            session,
            email="sozialamt@beckum.example",
            name="Sozialamt Beckum",
            role=Role.caseworker,
            organisation=social,
            password=CASEWORKER_PASSWORD,
            now=now,
        )
        for name, address, lat, lon, hint in PLACES:
            session.add(
                Place(
                    name=name,
                    address=address,
                    lat=lat,
                    lon=lon,
                    contact_hint=hint,
                    created_at=now,
                    updated_at=now,
                )
            )
        for data in demo_mediators(today=now.date()):
            mediators.create_mediator(session, data=data, actor=None, now=now, settings=settings)
    caseworker = session.exec(select(User).where(User.email == CASEWORKER_EMAIL)).one()
    return DemoAccess(
        coordinator_token=users.issue_token(session, user=coordinator, now=now),
        caseworker_token=users.issue_token(session, user=caseworker, now=now),
        seeded=seeded,
    )
