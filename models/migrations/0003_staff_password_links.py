from tortoise import migrations
from tortoise.migrations import operations as ops
from models.enums import TokenState
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0002_outbox_invitations_resets')]

    initial = False

    operations = [
        ops.CreateModel(
            name='StaffPasswordLink',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('agency', fields.ForeignKeyField('models.Agency', source_field='agency_id', db_constraint=True, to_field='id', related_name='staff_password_links', on_delete=OnDelete.CASCADE)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('staff', fields.ForeignKeyField('models.Staff', source_field='staff_id', db_constraint=True, to_field='id', related_name='password_links', on_delete=OnDelete.CASCADE)),
                ('state', fields.CharEnumField(default=TokenState.ACTIVE, description='ACTIVE: ACTIVE\nUSED: USED\nREVOKED: REVOKED\nSUPERSEDED: SUPERSEDED\nEXPIRED: EXPIRED', enum_type=TokenState, max_length=16)),
                ('expires_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('finished_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'staff_password_link', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A one-time link for a staff member to set their password. A newer one voids the older.'},
            bases=['Model'],
        ),
    ]
