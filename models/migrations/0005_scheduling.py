from tortoise import migrations
from tortoise.migrations import operations as ops
from models.scheduling import AppointmentSource, AppointmentStatus, RequestStatus
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index


class PostgresOnlySQL(ops.RunSQL):
    """RunSQL that acts only on PostgreSQL: SQLite has no btree_gist nor exclusion constraints
    (there the booking transaction's re-check, under SQLite's single writer, is the guard)."""

    async def database_forward(self, app_label, old_state, new_state, state_editor=None):
        if state_editor is not None and state_editor.DIALECT == "postgres":
            await super().database_forward(app_label, old_state, new_state, state_editor)

    async def database_backward(self, app_label, old_state, new_state, state_editor=None):
        if state_editor is not None and state_editor.DIALECT == "postgres":
            await super().database_backward(app_label, old_state, new_state, state_editor)


# One constraint covers active appointments and pending requests alike: both hold their time
# in slot_hold, and two holds of one staff member never overlap.
SLOT_HOLD_EXCLUSION = "slot_hold_no_overlap"

class Migration(migrations.Migration):
    dependencies = [('models', '0004_recovery_request')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Appointment',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('agency', fields.ForeignKeyField('models.Agency', source_field='agency_id', db_constraint=True, to_field='id', related_name='appointments', on_delete=OnDelete.CASCADE)),
                ('client', fields.ForeignKeyField('models.Client', source_field='client_id', db_constraint=True, to_field='id', related_name='appointments', on_delete=OnDelete.CASCADE)),
                ('staff', fields.ForeignKeyField('models.Staff', source_field='staff_id', db_constraint=True, to_field='id', related_name='appointments', on_delete=OnDelete.CASCADE)),
                ('location', fields.ForeignKeyField('models.Location', source_field='location_id', db_constraint=True, to_field='id', related_name='appointments', on_delete=OnDelete.CASCADE)),
                ('starts_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('ends_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('status', fields.CharEnumField(default=AppointmentStatus.SCHEDULED, description='SCHEDULED: SCHEDULED\nCANCELLED: CANCELLED\nLATE_CANCELLED: LATE_CANCELLED\nCOMPLETED: COMPLETED', enum_type=AppointmentStatus, max_length=16)),
                ('source', fields.CharEnumField(description='PORTAL: PORTAL\nSTAFF: STAFF', enum_type=AppointmentSource, max_length=8)),
                ('created_by_staff', fields.ForeignKeyField('models.Staff', source_field='created_by_staff_id', null=True, db_constraint=True, to_field='id', related_name='appointments_created', on_delete=OnDelete.SET_NULL)),
                ('created_by_account', fields.ForeignKeyField('models.PortalAccount', source_field='created_by_account_id', null=True, db_constraint=True, to_field='id', related_name='appointments_created', on_delete=OnDelete.SET_NULL)),
                ('cancelled_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('cancelled_by_staff', fields.ForeignKeyField('models.Staff', source_field='cancelled_by_staff_id', null=True, db_constraint=True, to_field='id', related_name='appointments_cancelled', on_delete=OnDelete.SET_NULL)),
                ('cancelled_by_account', fields.ForeignKeyField('models.PortalAccount', source_field='cancelled_by_account_id', null=True, db_constraint=True, to_field='id', related_name='appointments_cancelled', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'appointment', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AppointmentRequest',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('agency', fields.ForeignKeyField('models.Agency', source_field='agency_id', db_constraint=True, to_field='id', related_name='appointment_requests', on_delete=OnDelete.CASCADE)),
                ('client', fields.ForeignKeyField('models.Client', source_field='client_id', db_constraint=True, to_field='id', related_name='appointment_requests', on_delete=OnDelete.CASCADE)),
                ('staff', fields.ForeignKeyField('models.Staff', source_field='staff_id', db_constraint=True, to_field='id', related_name='appointment_requests', on_delete=OnDelete.CASCADE)),
                ('location', fields.ForeignKeyField('models.Location', source_field='location_id', db_constraint=True, to_field='id', related_name='appointment_requests', on_delete=OnDelete.CASCADE)),
                ('starts_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('ends_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('status', fields.CharEnumField(default=RequestStatus.PENDING, description='PENDING: PENDING\nAPPROVED: APPROVED\nDENIED: DENIED\nCANCELLED: CANCELLED\nEXPIRED: EXPIRED', enum_type=RequestStatus, max_length=16)),
                ('reason', fields.TextField(default='', unique=False)),
                ('requested_by_account', fields.ForeignKeyField('models.PortalAccount', source_field='requested_by_account_id', null=True, db_constraint=True, to_field='id', related_name='appointment_requests', on_delete=OnDelete.SET_NULL)),
                ('decided_by_staff', fields.ForeignKeyField('models.Staff', source_field='decided_by_staff_id', null=True, db_constraint=True, to_field='id', related_name='requests_decided', on_delete=OnDelete.SET_NULL)),
                ('decided_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('appointment', fields.ForeignKeyField('models.Appointment', source_field='appointment_id', null=True, db_constraint=True, to_field='id', related_name='requests', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'appointment_request', 'app': 'models', 'pk_attr': 'id', 'table_description': "A portal client's request for a time (mode REQUEST), which staff approve or deny."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AvailabilityWindow',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('agency', fields.ForeignKeyField('models.Agency', source_field='agency_id', db_constraint=True, to_field='id', related_name='availability_windows', on_delete=OnDelete.CASCADE)),
                ('staff', fields.ForeignKeyField('models.Staff', source_field='staff_id', db_constraint=True, to_field='id', related_name='availability_windows', on_delete=OnDelete.CASCADE)),
                ('location', fields.ForeignKeyField('models.Location', source_field='location_id', db_constraint=True, to_field='id', related_name='availability_windows', on_delete=OnDelete.CASCADE)),
                ('weekday', fields.SmallIntField()),
                ('start_minute', fields.SmallIntField()),
                ('end_minute', fields.SmallIntField()),
            ],
            options={'table': 'availability_window', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A weekly window: on `weekday` (0 Monday .. 6 Sunday), local minutes [start, end).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='DateOff',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('agency', fields.ForeignKeyField('models.Agency', source_field='agency_id', db_constraint=True, to_field='id', related_name='dates_off', on_delete=OnDelete.CASCADE)),
                ('staff', fields.ForeignKeyField('models.Staff', source_field='staff_id', db_constraint=True, to_field='id', related_name='dates_off', on_delete=OnDelete.CASCADE)),
                ('day', fields.DateField()),
            ],
            options={'table': 'date_off', 'app': 'models', 'unique_together': (('staff', 'day'),), 'pk_attr': 'id', 'table_description': "A calendar day (in each location's own calendar) the staff member takes no appointments."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SlotHold',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('staff', fields.ForeignKeyField('models.Staff', source_field='staff_id', db_constraint=True, to_field='id', related_name='slot_holds', on_delete=OnDelete.CASCADE)),
                ('starts_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('ends_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('appointment', fields.ForeignKeyField('models.Appointment', source_field='appointment_id', null=True, db_constraint=True, to_field='id', related_name='holds', on_delete=OnDelete.CASCADE)),
                ('request', fields.ForeignKeyField('models.AppointmentRequest', source_field='request_id', null=True, db_constraint=True, to_field='id', related_name='holds', on_delete=OnDelete.CASCADE)),
            ],
            options={'table': 'slot_hold', 'app': 'models', 'indexes': [Index(fields=['staff_id', 'starts_at'])], 'pk_attr': 'id', 'table_description': 'The time an active appointment or a pending request keeps from everyone else.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='StaffSchedule',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('agency', fields.ForeignKeyField('models.Agency', source_field='agency_id', db_constraint=True, to_field='id', related_name='staff_schedules', on_delete=OnDelete.CASCADE)),
                ('staff', fields.OneToOneField('models.Staff', source_field='staff_id', db_constraint=True, to_field='id', related_name='schedule', on_delete=OnDelete.CASCADE)),
                ('shown_in_portal', fields.BooleanField(default=False)),
                ('appointment_minutes', fields.IntField(null=True)),
                ('break_minutes', fields.IntField(null=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'staff_schedule', 'app': 'models', 'pk_attr': 'id', 'table_description': "A staff member's scheduling preferences. Null lengths fall back to the agency defaults"},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='PortalSettings',
            name='min_notice_hours',
            field=fields.IntField(default=0),
        ),
        PostgresOnlySQL(
            [
                "CREATE EXTENSION IF NOT EXISTS btree_gist",
                f"ALTER TABLE slot_hold ADD CONSTRAINT {SLOT_HOLD_EXCLUSION} EXCLUDE USING gist "
                "(staff_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&)",
            ],
            reverse_sql=[f"ALTER TABLE slot_hold DROP CONSTRAINT {SLOT_HOLD_EXCLUSION}"],
        ),
    ]
