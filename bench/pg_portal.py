"""The portal's hot reads for the PostgreSQL bench (bench/pg.py): their data, queries and checks.

Three reads that have no PostGraphile equivalent, measured as more targets of the same
interleaved run as `locations`:
  portal_home          a client's `portal(clientId)` home, signed in through portalLogin: the
                       viewer kind, modules, appointment and messaging modes, and every section
                       that is on (care team, documents, payments, social history, clinical)
  appointment_requests a clinician's pending `appointmentRequests` (staffLogin), the list they
                       approve from
  bookable_slots       `bookableSlots` of the client's clinician at their location for the next
                       seven days (portalLogin)

`seed_portal` adds to the bench agency (bench/pg.py `seed`): every portal module on, messaging
both ways, appointment mode REQUEST; STAFF staff members (the first is the clinician who signs
in) at the agency's first location, one in three also at its second, each with Monday to Friday
09:00-17:00 shown in the portal; CLIENTS clients, each with a portal account, a care team of two
or three and a little of every module; a calendar from HISTORY_DAYS ago to FUTURE_DAYS ahead
(appointments, decided requests and pending ones, with their slot holds) in which the clinician
has PENDING_FOR_CLINICIAN pending requests. The client who signs in is the first one.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from tortoise.models import Model

# The same week as bench/slots_server.py: 50-minute slots, 10-minute breaks, 09:00-17:00 in
# America/Chicago (the time zone of the bench agency's offices).
from bench.slots_server import BREAK, LENGTH, ZONE, _slot_starts, weekday_hours
from models.accounts import PortalAccount
from models.agency import Agency, Location
from models.clients import CareTeamMember, Client
from models.enums import (
    AppointmentMode,
    DiagnosisStatus,
    GoalStatus,
    MessagingMode,
    PaymentMethod,
    PortalAccountKind,
    PortalModule,
)
from models.modules import (
    ClientCharge,
    ClientDocument,
    ClientPayment,
    ClinicalSummary,
    Diagnosis,
    SocialHistory,
    TreatmentGoal,
)
from models.scheduling import (
    Appointment,
    AppointmentRequest,
    AppointmentSource,
    RequestStatus,
    SlotHold,
)
from models.settings import PortalSettings
from models.staff import Staff, StaffLocation
from resolvers.passwords import hash_password

STAFF = 20
CLIENTS = 200
PENDING_FOR_CLINICIAN = 50
HISTORY_DAYS = 14
FUTURE_DAYS = 30
HORIZON_DAYS = 60  # maxDaysInFuture
WEEK_DAYS = 7
BUSY = 0.35  # share of a staff member's slots taken by an appointment
PENDING_OTHERS = 0.08  # share of the other staff's future slots asked for and pending
DOCUMENTS, CHARGES, PAYMENTS = 6, 8, 4  # per client
CLINICIAN_EMAIL = "clinician@bench.example"
SEED = 9

PORTAL_HOME_QUERY = """query PortalHome($clientId: ID) {
  portal(clientId: $clientId) {
    client { id firstName lastName }
    viewerKind modules appointmentMode messagingMode messagingDisclaimer cancellationMessage
    careTeam { staffId firstName lastName locations { id name timeZone isDefault } }
    documents(first: 10) {
      items { id title fileName contentType sizeBytes sharedAt sharedByName } nextCursor }
    payments {
      balanceCents
      charges(first: 5) { items { id serviceDate description amountCents } nextCursor }
      payments(first: 5) { items { id receivedDate method amountCents reference } nextCursor }
    }
    socialHistory {
      livingSituation family education employment substanceUse legal otherNotes updatedAt }
    clinical {
      diagnoses { id code description status onsetDate }
      goals { id description status targetDate }
      updatedAt
    }
  }
}"""
APPOINTMENT_REQUESTS_QUERY = """query PendingRequests {
  appointmentRequests { id clientId staffId locationId start end status } }"""
BOOKABLE_SLOTS_QUERY = """query WeekSlots($input: BookableSlotsInput!) {
  bookableSlots(input: $input) { start end staffId locationId } }"""
STAFF_LOGIN = """mutation ($input: StaffLoginInput!) {
  staffLogin(input: $input) { session { token } errors { code message } } }"""
PORTAL_LOGIN = """mutation ($input: PortalLoginInput!) {
  portalLogin(input: $input) { session { token } errors { code message } } }"""


@dataclass(frozen=True)
class PortalWorld:
    """What the hot reads' requests name: who signs in and the ids they ask about."""

    client_id: str
    username: str
    clinician_id: str
    clinician_email: str
    location_id: str


def username(index: int) -> str:
    return f"client{index:03d}"


# --- the data ----------------------------------------------------------------------------------


async def seed_portal(agency: Agency, password: str) -> PortalWorld:
    """The hot reads' data (module docstring), added to the bench agency."""
    rng = random.Random(SEED)
    main, second = await Location.filter(agency=agency).order_by("name").limit(2)
    await _settings(agency)
    password_hash = hash_password(password)
    staff = await _staff(agency, main, second, password_hash)
    clients = await _clients(agency, password_hash)
    teams = await _care_teams(clients, staff, rng)
    await _modules(agency, clients, staff, rng)
    accounts = dict(
        await PortalAccount.filter(agency=agency, client_id__isnull=False).values_list(
            "client_id", "id"
        )
    )
    await _calendar(agency, main, staff, teams, accounts, rng)
    return PortalWorld(
        client_id=str(clients[0].id),
        username=username(0),
        clinician_id=str(staff[0].id),
        clinician_email=CLINICIAN_EMAIL,
        location_id=str(main.id),
    )


async def _settings(agency: Agency) -> None:
    await PortalSettings.filter(agency_id=agency.id).update(
        enabled_modules=[m.value for m in PortalModule],
        messaging_mode=MessagingMode.BETWEEN_STAFF_AND_CLIENT,
        messaging_disclaimer="Messages are read during office hours. In an emergency call 911.",
        appointment_mode=AppointmentMode.REQUEST,
        cancellation_message="Please cancel at least 24 hours ahead.",
        max_days_in_future=HORIZON_DAYS,
        default_appointment_minutes=LENGTH,
        default_break_minutes=BREAK,
    )


async def _staff(
    agency: Agency, main: Location, second: Location, password_hash: str
) -> list[Staff]:
    staff = [
        Staff(
            agency=agency,
            first_name="Clinician",
            last_name=f"{i:02d}",
            email=CLINICIAN_EMAIL if i == 0 else f"clinician{i:02d}@bench.example",
            permissions=[],
            password_hash=password_hash,
        )
        for i in range(STAFF)
    ]
    await Staff.bulk_create(staff)
    links = [StaffLocation(staff_id=s.id, location=main, is_default=True) for s in staff]
    links += [
        StaffLocation(staff_id=s.id, location=second, is_default=False)
        for i, s in enumerate(staff)
        if i % 3 == 0
    ]
    await StaffLocation.bulk_create(links)
    await weekday_hours(agency, staff, main)
    return staff


async def _clients(agency: Agency, password_hash: str) -> list[Client]:
    clients = [
        Client(
            agency=agency,
            first_name=f"Client{i:03d}",
            last_name="Bench",
            email=f"{username(i)}@bench.example",
            date_of_birth=date(1960 + i % 50, 1 + i % 12, 1 + i % 28),
        )
        for i in range(CLIENTS)
    ]
    await Client.bulk_create(clients)
    await PortalAccount.bulk_create(
        [
            PortalAccount(
                agency=agency,
                kind=PortalAccountKind.CLIENT,
                username=username(i),
                email=f"{username(i)}@bench.example",
                client_id=c.id,
                password_hash=password_hash,
            )
            for i, c in enumerate(clients)
        ]
    )
    return clients


async def _care_teams(
    clients: list[Client], staff: list[Staff], rng: random.Random
) -> dict[Any, list[Client]]:
    """Two or three staff per client; every other client has the clinician. Returns each staff
    member's clients."""
    teams: dict[Any, list[Client]] = {s.id: [] for s in staff}
    rows = []
    for i, client in enumerate(clients):
        members = {staff[0]} if i % 2 == 0 else set()
        while len(members) < 2 + i % 2:
            members.add(rng.choice(staff))
        for member in members:
            teams[member.id].append(client)
            rows.append(CareTeamMember(client_id=client.id, staff_id=member.id))
    await CareTeamMember.bulk_create(rows)
    return teams


async def _modules(
    agency: Agency, clients: list[Client], staff: list[Staff], rng: random.Random
) -> None:
    """A little of every module for every client, as staff would have entered it."""
    stamp = datetime.now(UTC)
    today = stamp.date()
    rows: dict[type[Model], list[Any]] = {}

    def add(row: Model) -> None:
        rows.setdefault(type(row), []).append(row)

    for client in clients:
        mine: dict[str, Any] = {"agency": agency, "client_id": client.id}
        author = rng.choice(staff)
        for d in range(DOCUMENTS):
            add(
                ClientDocument(
                    **mine,
                    title=f"Letter {d + 1}",
                    file_name=f"letter-{d + 1}.pdf",
                    content_type="application/pdf",
                    size_bytes=20_000 + 1_000 * d,
                    sha256="0" * 64,
                    shared_by_id=author.id,
                    created_at=stamp - timedelta(days=7 * d),
                )
            )
        for c in range(CHARGES):
            add(
                ClientCharge(
                    **mine,
                    service_date=today - timedelta(days=7 * c),
                    description="Individual therapy, 50 minutes",
                    amount_cents=12_000,
                    created_at=stamp,
                )
            )
        for p in range(PAYMENTS):
            add(
                ClientPayment(
                    **mine,
                    received_date=today - timedelta(days=14 * p),
                    method=PaymentMethod.INSURANCE,
                    amount_cents=20_000,
                    reference=f"Claim 55-{p:04d}",
                    created_at=stamp,
                )
            )
        add(
            SocialHistory(
                **mine,
                living_situation="Lives with a partner in an apartment.",
                family="Two siblings, in touch weekly.",
                education="College degree.",
                employment="Works full time.",
                updated_at=stamp,
                updated_by_id=author.id,
            )
        )
        add(ClinicalSummary(**mine, updated_at=stamp, updated_by_id=author.id))
        for position, (code, text) in enumerate(
            [("F41.1", "Generalized anxiety disorder"), ("F32.1", "Major depressive disorder")]
        ):
            add(
                Diagnosis(
                    **mine,
                    position=position,
                    code=code,
                    description=text,
                    status=DiagnosisStatus.ACTIVE,
                    onset_date=today - timedelta(days=200),
                )
            )
        for position in range(3):
            add(
                TreatmentGoal(
                    **mine,
                    position=position,
                    description=f"Goal {position + 1}: practise a coping skill daily",
                    status=GoalStatus.ACTIVE,
                    target_date=today + timedelta(days=90),
                )
            )
    for model, found in rows.items():
        await model.bulk_create(found, batch_size=1000)


async def _calendar(
    agency: Agency,
    location: Location,
    staff: list[Staff],
    teams: dict[Any, list[Client]],
    accounts: dict[Any, Any],
    rng: random.Random,
) -> None:
    """Appointments of each staff member's clients, requests already decided, and pending
    requests: PENDING_FOR_CLINICIAN of the clinician's, PENDING_OTHERS of the others' slots."""
    today = datetime.now(ZONE).date()
    now = datetime.now(UTC)
    starts = _slot_starts(today - timedelta(days=HISTORY_DAYS), today + timedelta(days=FUTURE_DAYS))
    future = [s for s in starts if s > now]
    appointments: list[Appointment] = []
    requests: list[AppointmentRequest] = []
    holds: list[SlotHold] = []
    for index, member in enumerate(staff):
        pending = (
            set(rng.sample(future, PENDING_FOR_CLINICIAN))
            if index == 0
            else {s for s in future if rng.random() < PENDING_OTHERS}
        )
        for start in starts:
            client = rng.choice(teams[member.id])
            end = start + timedelta(minutes=LENGTH)
            common = {
                "agency_id": agency.id,
                "client_id": client.id,
                "staff_id": member.id,
                "location_id": location.id,
                "starts_at": start,
                "ends_at": end,
            }
            held_until = end + timedelta(minutes=BREAK)
            hold = {"staff_id": member.id, "starts_at": start, "ends_at": held_until}
            if start in pending:
                request = AppointmentRequest(**common, requested_by_account_id=accounts[client.id])
                requests.append(request)
                holds.append(SlotHold(**hold, request_id=request.id))
            elif rng.random() < BUSY:
                appointment = Appointment(**common, source=AppointmentSource.STAFF)
                appointments.append(appointment)
                holds.append(SlotHold(**hold, appointment_id=appointment.id))
            elif rng.random() < 0.05:  # asked for and denied: holds nothing
                requests.append(
                    AppointmentRequest(
                        **common,
                        status=RequestStatus.DENIED,
                        reason="Not available then.",
                        decided_at=start - timedelta(days=2),
                    )
                )
    await Appointment.bulk_create(appointments, batch_size=1000)
    await AppointmentRequest.bulk_create(requests, batch_size=1000)
    await SlotHold.bulk_create(holds, batch_size=1000)


# --- the requests ------------------------------------------------------------------------------


def week(today: date | None = None) -> tuple[str, str]:
    """The seven days from tomorrow, on the location's calendar."""
    first = (today or datetime.now(ZONE).date()) + timedelta(days=1)
    return first.isoformat(), (first + timedelta(days=WEEK_DAYS - 1)).isoformat()


def requests(world: PortalWorld) -> dict[str, tuple[str, dict[str, Any], str]]:
    """Per target: query, variables, and who signs in (`portal` or `staff`)."""
    first, last = week()
    slots_input = {
        "staffId": world.clinician_id,
        "locationId": world.location_id,
        "from": first,
        "to": last,
    }
    return {
        "portal_home": (PORTAL_HOME_QUERY, {"clientId": world.client_id}, "portal"),
        "appointment_requests": (APPOINTMENT_REQUESTS_QUERY, {}, "staff"),
        "bookable_slots": (BOOKABLE_SLOTS_QUERY, {"input": slots_input}, "portal"),
    }


def login_variables(world: PortalWorld, slug: str, password: str) -> dict[str, Any]:
    return {
        "portal": {"input": {"agencySlug": slug, "username": world.username, "password": password}},
        "staff": {
            "input": {"agencySlug": slug, "email": world.clinician_email, "password": password}
        },
    }


def answer_size(name: str, data: dict[str, Any]) -> dict[str, int]:
    """How much a hot read answered; raises ValueError when it answered nothing."""
    if name == "portal_home":
        home = data["portal"]
        sizes = {
            "modules": len(home["modules"]),
            "careTeam": len(home["careTeam"] or []),
            "documents": len((home["documents"] or {}).get("items", [])),
            "charges": len(((home["payments"] or {}).get("charges") or {}).get("items", [])),
            "payments": len(((home["payments"] or {}).get("payments") or {}).get("items", [])),
            "diagnoses": len((home["clinical"] or {}).get("diagnoses", [])),
            "goals": len((home["clinical"] or {}).get("goals", [])),
            "socialHistory": int(home["socialHistory"] is not None),
        }
    elif name == "appointment_requests":
        sizes = {"requests": len(data["appointmentRequests"])}
    else:
        sizes = {"slots": len(data["bookableSlots"])}
    empty = [k for k, v in sizes.items() if not v]
    if empty:
        raise ValueError(f"{name} answered nothing for {', '.join(empty)}")
    return sizes
