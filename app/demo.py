"""`portal demo`: a demo agency with staff at two locations, clients, a representative, forms,
and every portal module turned on with a little content for the client Alex."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from typing import Any

from tortoise.transactions import in_transaction

from models.accounts import PortalAccount
from models.agency import Agency, Location
from models.clients import CareTeamMember, Client, Representative
from models.enums import (
    DiagnosisStatus,
    FormCompletionChannel,
    FormFieldType,
    GoalStatus,
    MessagingMode,
    PaymentMethod,
    Permission,
    PortalAccountKind,
    PortalModule,
)
from models.forms import FormAssignment, FormTemplate
from models.modules import (
    ClientCharge,
    ClientDocument,
    ClientDocumentFile,
    ClientPayment,
    ClinicalSummary,
    Diagnosis,
    SocialHistory,
    TreatmentGoal,
)
from models.settings import PortalSettings
from models.staff import Staff, StaffLocation
from resolvers.agencies import create_agency
from resolvers.clock import now
from resolvers.form_rules import FieldSpec
from resolvers.passwords import hash_password

SLUG = "demo"
PASSWORD = "demo-portal-2026"  # noqa: S105 - printed for the developer, demo data only
PRODUCTION_REFUSAL = (
    "portal demo: refusing to seed the demo agency into a production database "
    "(ENVIRONMENT=production): its logins and password are public"
)


_FREQUENCY = ("Not at all", "Several days", "More than half the days", "Nearly every day")
# Name, client can see, representative can see, fields.
DEMO_FORMS: list[tuple[str, bool, bool, list[FieldSpec]]] = [
    (
        "Intake questionnaire",
        True,
        True,
        [
            FieldSpec("preferred_name", "Preferred name", FormFieldType.SHORT_TEXT, True),
            FieldSpec("reason", "What brings you to us?", FormFieldType.LONG_TEXT, True),
            FieldSpec("first_visit", "Is this your first visit?", FormFieldType.YES_NO, True),
            FieldSpec(
                "contact",
                "How may we contact you?",
                FormFieldType.MULTI_CHOICE,
                options=("Phone", "E-mail", "Letter"),
                help_text="Choose any.",
            ),
        ],
    ),
    (
        "PHQ-9",
        True,
        False,
        [
            FieldSpec(
                "interest",
                "Little interest or pleasure in doing things",
                FormFieldType.SINGLE_CHOICE,
                True,
                _FREQUENCY,
            ),
            FieldSpec(
                "down",
                "Feeling down, depressed or hopeless",
                FormFieldType.SINGLE_CHOICE,
                True,
                _FREQUENCY,
            ),
            FieldSpec("sleep_hours", "Hours of sleep a night", FormFieldType.NUMBER),
        ],
    ),
    (
        "Consent to treatment",
        True,
        True,
        [
            FieldSpec("agree", "I consent to treatment", FormFieldType.YES_NO, True),
            FieldSpec("signed_on", "Date", FormFieldType.DATE, True),
        ],
    ),
]


class DemoRefused(Exception):
    """The demo's logins are published in the README; they never belong in production."""


@dataclass(frozen=True)
class Login:
    who: str
    kind: str
    name: str


def check_allowed(production: bool) -> None:
    if production:
        raise DemoRefused(PRODUCTION_REFUSAL)


async def seed_demo(production: bool) -> list[Login]:
    check_allowed(production)
    if not await Agency.exists(slug=SLUG):
        await _seed()
    return _logins()


def _logins() -> list[Login]:
    return [
        Login("Champion (all permissions)", "staff", "champion@demo.example"),
        Login("Front desk", "staff", "frontdesk@demo.example"),
        Login("Clinician, Main St", "staff", "rivera@demo.example"),
        Login("Clinician, Oak Ave", "staff", "chen@demo.example"),
        Login("Client", "portal", "alex"),
        Login("Representative (parent of two)", "portal", "pat.parent"),
    ]


async def _seed() -> None:
    agency, _ = await create_agency(
        "Riverside Counseling (demo)",
        SLUG,
        "champion@demo.example",
        PASSWORD,
    )
    main = await Location.create(
        agency=agency, name="Main St Office", time_zone="America/Chicago", address="100 Main St"
    )
    oak = await Location.create(
        agency=agency, name="Oak Ave Clinic", time_zone="America/New_York", address="20 Oak Ave"
    )
    await _staff(
        agency,
        "Front",
        "Desk",
        "frontdesk@demo.example",
        [
            Permission.MANAGE_PORTAL_ACCESS,
            Permission.VIEW_ALL_CLIENTS,
            Permission.MANAGE_ALL_APPOINTMENTS,
        ],
        [main],
    )
    rivera = await _staff(agency, "Sam", "Rivera", "rivera@demo.example", [], [main, oak])
    chen = await _staff(agency, "Lee", "Chen", "chen@demo.example", [], [oak])
    alex = await _clients(agency, rivera, chen)
    await _modules(agency, alex, rivera)
    templates = [
        await FormTemplate.create(
            agency=agency,
            name=name,
            client_can_see=client_sees,
            representative_can_see=rep_sees,
            definition={"fields": [f.to_json() for f in fields]},
            updated_at=now(),
        )
        for name, client_sees, rep_sees, fields in DEMO_FORMS
    ]
    await _form_for(agency, alex, templates[0])


async def _staff(
    agency: Agency,
    first: str,
    last: str,
    email: str,
    permissions: list[Permission],
    locations: list[Location],
) -> Staff:
    staff = await Staff.create(
        agency=agency,
        first_name=first,
        last_name=last,
        email=email,
        permissions=[p.value for p in permissions],
        password_hash=hash_password(PASSWORD),
    )
    for index, location in enumerate(locations):
        await StaffLocation.create(staff=staff, location=location, is_default=index == 0)
    return staff


async def _form_for(agency: Agency, client: Client, template: FormTemplate) -> None:
    """A form waiting in the client's portal, as sendForm would leave it (without the mail)."""
    await FormAssignment.create(
        agency=agency,
        template=template,
        client=client,
        channel=FormCompletionChannel.PORTAL,
        form_name=template.name,
        form_fields=template.definition["fields"],
        email=client.email or "",
        sent_at=now(),
    )


async def _clients(agency: Agency, rivera: Staff, chen: Staff) -> Client:
    alex = await Client.create(
        agency=agency,
        first_name="Alex",
        last_name="Morgan",
        email="alex@demo.example",
        date_of_birth=date(1990, 4, 2),
    )
    jamie = await Client.create(
        agency=agency, first_name="Jamie", last_name="Parent", date_of_birth=date(2014, 9, 12)
    )
    casey = await Client.create(
        agency=agency, first_name="Casey", last_name="Parent", date_of_birth=date(2017, 1, 30)
    )
    await CareTeamMember.create(client=alex, staff=rivera)
    await CareTeamMember.create(client=jamie, staff=chen)
    await CareTeamMember.create(client=casey, staff=chen)
    await PortalAccount.create(
        agency=agency,
        kind=PortalAccountKind.CLIENT,
        username="alex",
        email="alex@demo.example",
        client=alex,
        password_hash=hash_password(PASSWORD),
    )
    parent = await PortalAccount.create(
        agency=agency,
        kind=PortalAccountKind.REPRESENTATIVE,
        username="pat.parent",
        email="pat@demo.example",
        password_hash=hash_password(PASSWORD),
    )
    for child in (jamie, casey):
        await Representative.create(
            agency=agency,
            client=child,
            first_name="Pat",
            last_name="Parent",
            email="pat@demo.example",
            relationship="Parent",
            account=parent,
        )
    return alex


WELCOME = (
    "Welcome to Riverside Counseling.\n\n"
    "Your first sessions are at the Main St Office. Call the front desk to reschedule.\n"
)


async def _modules(agency: Agency, alex: Client, rivera: Staff) -> None:
    """Every module and two-way messaging on, and something in each module for Alex."""
    mine: dict[str, Any] = {"agency": agency, "client": alex}
    stamp = now()
    await PortalSettings.filter(agency_id=agency.id).update(
        enabled_modules=[m.value for m in PortalModule],
        messaging_mode=MessagingMode.BETWEEN_STAFF_AND_CLIENT,
    )
    async with in_transaction():
        document = await ClientDocument.create(
            **mine,
            title="Welcome letter",
            file_name="welcome.txt",
            content_type="text/plain; charset=utf-8",
            size_bytes=len(WELCOME.encode()),
            sha256=hashlib.sha256(WELCOME.encode()).hexdigest(),
            shared_by=rivera,
            created_at=stamp,
        )
        await ClientDocumentFile.create(document=document, data=WELCOME.encode())
    for day, text, cents in [
        (date(2026, 1, 6), "Intake assessment", 18_000),
        (date(2026, 1, 13), "Individual therapy, 50 minutes", 12_000),
    ]:
        await ClientCharge.create(
            **mine, service_date=day, description=text, amount_cents=cents, created_at=stamp
        )
    await ClientPayment.create(
        **mine,
        received_date=date(2026, 1, 13),
        method=PaymentMethod.INSURANCE,
        amount_cents=20_000,
        reference="Claim 55-1021",
        created_at=stamp,
    )
    await SocialHistory.create(
        **mine,
        living_situation="Lives alone in an apartment.",
        employment="Works full time as a nurse.",
        updated_at=stamp,
        updated_by=rivera,
    )
    await ClinicalSummary.create(**mine, updated_at=stamp, updated_by=rivera)
    await Diagnosis.create(
        **mine,
        position=0,
        code="F41.1",
        description="Generalized anxiety disorder",
        status=DiagnosisStatus.ACTIVE,
        onset_date=date(2025, 9, 1),
    )
    await TreatmentGoal.create(
        **mine,
        position=0,
        description="Practice a breathing exercise daily",
        status=GoalStatus.ACTIVE,
        target_date=date(2026, 4, 30),
    )
