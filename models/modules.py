"""What the portal's optional modules show, as staff record it: documents shared with a client
(and the short-lived links that download them), the payments ledger, the social history and the
clinical summary. Rows exist whatever the agency's module settings; the settings decide only
what the portal shows."""

from __future__ import annotations

from uuid import UUID

from tortoise import fields
from tortoise.models import Model

from models.accounts import PortalAccount, Session
from models.agency import Agency
from models.clients import Client
from models.enums import DiagnosisStatus, GoalStatus, PaymentMethod
from models.staff import Staff
from models.tasks import time_ordered_id


class ClientDocument(Model):
    """A file staff shared with a client. The bytes live in ClientDocumentFile, so listing
    documents never reads them."""

    id = fields.UUIDField(primary_key=True, default=time_ordered_id)
    agency_id: UUID
    agency: fields.ForeignKeyRelation[Agency] = fields.ForeignKeyField(
        "models.Agency", related_name="client_documents", on_delete=fields.CASCADE
    )
    client_id: UUID
    client: fields.ForeignKeyRelation[Client] = fields.ForeignKeyField(
        "models.Client", related_name="documents", on_delete=fields.CASCADE
    )
    title = fields.CharField(max_length=200)
    file_name = fields.CharField(max_length=255)
    content_type = fields.CharField(max_length=64)
    size_bytes = fields.IntField()
    sha256 = fields.CharField(max_length=64)
    shared_by_id: UUID | None
    shared_by: fields.ForeignKeyNullableRelation[Staff] = fields.ForeignKeyField(
        "models.Staff", related_name="shared_documents", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField()

    class Meta:
        table = "client_document"
        indexes = (("client_id", "created_at"),)


class ClientDocumentFile(Model):
    id = fields.UUIDField(primary_key=True)
    document_id: UUID
    document: fields.OneToOneRelation[ClientDocument] = fields.OneToOneField(
        "models.ClientDocument", related_name="file", on_delete=fields.CASCADE
    )
    data = fields.BinaryField()

    class Meta:
        table = "client_document_file"


class DocumentLink(Model):
    """A download link: only the SHA-256 of its token is kept. It is bound to the document and
    to the session that minted it, and works until expires_at while that session and its
    person may still see the document."""

    id = fields.UUIDField(primary_key=True)
    token_hash = fields.CharField(max_length=64, unique=True)
    agency_id: UUID
    agency: fields.ForeignKeyRelation[Agency] = fields.ForeignKeyField(
        "models.Agency", related_name="document_links", on_delete=fields.CASCADE
    )
    document_id: UUID
    document: fields.ForeignKeyRelation[ClientDocument] = fields.ForeignKeyField(
        "models.ClientDocument", related_name="links", on_delete=fields.CASCADE
    )
    session_id: UUID
    session: fields.ForeignKeyRelation[Session] = fields.ForeignKeyField(
        "models.Session", related_name="document_links", on_delete=fields.CASCADE
    )
    staff_id: UUID | None
    staff: fields.ForeignKeyNullableRelation[Staff] = fields.ForeignKeyField(
        "models.Staff", related_name="document_links", null=True, on_delete=fields.CASCADE
    )
    account_id: UUID | None
    account: fields.ForeignKeyNullableRelation[PortalAccount] = fields.ForeignKeyField(
        "models.PortalAccount", related_name="document_links", null=True, on_delete=fields.CASCADE
    )
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()

    class Meta:
        table = "document_link"


class ClientCharge(Model):
    """A charge on the client's account, in the agency's currency, in cents."""

    id = fields.UUIDField(primary_key=True, default=time_ordered_id)
    agency_id: UUID
    agency: fields.ForeignKeyRelation[Agency] = fields.ForeignKeyField(
        "models.Agency", related_name="client_charges", on_delete=fields.CASCADE
    )
    client_id: UUID
    client: fields.ForeignKeyRelation[Client] = fields.ForeignKeyField(
        "models.Client", related_name="charges", on_delete=fields.CASCADE
    )
    service_date = fields.DateField()
    description = fields.CharField(max_length=200)
    amount_cents = fields.IntField()
    recorded_by_id: UUID | None
    recorded_by: fields.ForeignKeyNullableRelation[Staff] = fields.ForeignKeyField(
        "models.Staff", related_name="recorded_charges", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField()

    class Meta:
        table = "client_charge"
        indexes = (("client_id", "service_date"),)


class ClientPayment(Model):
    """A payment received for the client, in the agency's currency, in cents."""

    id = fields.UUIDField(primary_key=True, default=time_ordered_id)
    agency_id: UUID
    agency: fields.ForeignKeyRelation[Agency] = fields.ForeignKeyField(
        "models.Agency", related_name="client_payments", on_delete=fields.CASCADE
    )
    client_id: UUID
    client: fields.ForeignKeyRelation[Client] = fields.ForeignKeyField(
        "models.Client", related_name="payments", on_delete=fields.CASCADE
    )
    received_date = fields.DateField()
    method = fields.CharEnumField(PaymentMethod, max_length=16)
    amount_cents = fields.IntField()
    reference = fields.CharField(max_length=100, default="")
    recorded_by_id: UUID | None
    recorded_by: fields.ForeignKeyNullableRelation[Staff] = fields.ForeignKeyField(
        "models.Staff", related_name="recorded_payments", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField()

    class Meta:
        table = "client_payment"
        indexes = (("client_id", "received_date"),)


class SocialHistory(Model):
    """One per client. Each section is plain text, empty when not recorded."""

    id = fields.UUIDField(primary_key=True)
    agency_id: UUID
    agency: fields.ForeignKeyRelation[Agency] = fields.ForeignKeyField(
        "models.Agency", related_name="social_histories", on_delete=fields.CASCADE
    )
    client_id: UUID
    client: fields.OneToOneRelation[Client] = fields.OneToOneField(
        "models.Client", related_name="social_history", on_delete=fields.CASCADE
    )
    living_situation = fields.TextField(default="")
    family = fields.TextField(default="")
    education = fields.TextField(default="")
    employment = fields.TextField(default="")
    substance_use = fields.TextField(default="")
    legal = fields.TextField(default="")
    other_notes = fields.TextField(default="")
    updated_at = fields.DatetimeField()
    updated_by_id: UUID | None
    updated_by: fields.ForeignKeyNullableRelation[Staff] = fields.ForeignKeyField(
        "models.Staff",
        related_name="social_histories_updated",
        null=True,
        on_delete=fields.SET_NULL,
    )

    class Meta:
        table = "social_history"


class ClinicalSummary(Model):
    """One per client once staff have saved it: when, and by whom. Its diagnoses and goals are
    replaced together."""

    id = fields.UUIDField(primary_key=True)
    agency_id: UUID
    agency: fields.ForeignKeyRelation[Agency] = fields.ForeignKeyField(
        "models.Agency", related_name="clinical_summaries", on_delete=fields.CASCADE
    )
    client_id: UUID
    client: fields.OneToOneRelation[Client] = fields.OneToOneField(
        "models.Client", related_name="clinical_summary", on_delete=fields.CASCADE
    )
    updated_at = fields.DatetimeField()
    updated_by_id: UUID | None
    updated_by: fields.ForeignKeyNullableRelation[Staff] = fields.ForeignKeyField(
        "models.Staff",
        related_name="clinical_summaries_updated",
        null=True,
        on_delete=fields.SET_NULL,
    )

    class Meta:
        table = "clinical_summary"


class Diagnosis(Model):
    id = fields.UUIDField(primary_key=True)
    agency_id: UUID
    agency: fields.ForeignKeyRelation[Agency] = fields.ForeignKeyField(
        "models.Agency", related_name="diagnoses", on_delete=fields.CASCADE
    )
    client_id: UUID
    client: fields.ForeignKeyRelation[Client] = fields.ForeignKeyField(
        "models.Client", related_name="diagnoses", on_delete=fields.CASCADE
    )
    position = fields.IntField()
    code = fields.CharField(max_length=16)
    description = fields.CharField(max_length=500)
    status = fields.CharEnumField(DiagnosisStatus, max_length=16)
    onset_date = fields.DateField(null=True)

    class Meta:
        table = "diagnosis"
        ordering = ["position"]


class TreatmentGoal(Model):
    id = fields.UUIDField(primary_key=True)
    agency_id: UUID
    agency: fields.ForeignKeyRelation[Agency] = fields.ForeignKeyField(
        "models.Agency", related_name="treatment_goals", on_delete=fields.CASCADE
    )
    client_id: UUID
    client: fields.ForeignKeyRelation[Client] = fields.ForeignKeyField(
        "models.Client", related_name="treatment_goals", on_delete=fields.CASCADE
    )
    position = fields.IntField()
    description = fields.CharField(max_length=1000)
    status = fields.CharEnumField(GoalStatus, max_length=16)
    target_date = fields.DateField(null=True)

    class Meta:
        table = "treatment_goal"
        ordering = ["position"]
