from tortoise import migrations
from tortoise.migrations import operations as ops
from models.tasks import TaskKind, time_ordered_id
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0005_scheduling')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Task',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=time_ordered_id, unique=True, db_index=True)),
                ('agency', fields.ForeignKeyField('models.Agency', source_field='agency_id', db_constraint=True, to_field='id', related_name='tasks', on_delete=OnDelete.CASCADE)),
                ('staff', fields.ForeignKeyField('models.Staff', source_field='staff_id', db_constraint=True, to_field='id', related_name='tasks', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharEnumField(description='PORTAL_APPOINTMENT_BOOKED: PORTAL_APPOINTMENT_BOOKED\nPORTAL_APPOINTMENT_REQUESTED: PORTAL_APPOINTMENT_REQUESTED', enum_type=TaskKind, max_length=32)),
                ('appointment', fields.ForeignKeyField('models.Appointment', source_field='appointment_id', null=True, db_constraint=True, to_field='id', related_name='tasks', on_delete=OnDelete.CASCADE)),
                ('request', fields.ForeignKeyField('models.AppointmentRequest', source_field='request_id', null=True, db_constraint=True, to_field='id', related_name='tasks', on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('done_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('done_by_staff', fields.ForeignKeyField('models.Staff', source_field='done_by_staff_id', null=True, db_constraint=True, to_field='id', related_name='tasks_done', on_delete=OnDelete.SET_NULL)),
            ],
            options={'table': 'task', 'app': 'models', 'indexes': [Index(fields=['staff_id', 'done_at'])], 'pk_attr': 'id', 'table_description': 'Assigned to one staff member, open until someone marks it done.'},
            bases=['Model'],
        ),
    ]
