from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from models.enums import FormAssignmentState, FormCompletionChannel
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index


async def grant_manage_forms(apps, schema_editor):
    """Staff who hold MANAGE_PORTAL_SETTINGS (the champions, who already edited the forms' portal
    visibility) get MANAGE_FORMS: nobody grants a permission they lack, so without this no one
    in an existing agency could ever manage form templates."""
    client = schema_editor.client
    mark = "$1" if schema_editor.DIALECT == "postgres" else "?"
    rows = await client.execute_query_dict("SELECT id, permissions FROM staff")
    for row in rows:
        held = row["permissions"]
        held = loads(held) if isinstance(held, (str, bytes)) else list(held or [])
        if "MANAGE_PORTAL_SETTINGS" in held and "MANAGE_FORMS" not in held:
            cast = "::jsonb" if schema_editor.DIALECT == "postgres" else ""
            sql = f"UPDATE staff SET permissions = {mark}{cast} WHERE id = {mark.replace('1', '2')}"
            await client.execute_query(sql, [dumps([*held, "MANAGE_FORMS"]), row["id"]])


class Migration(migrations.Migration):
    dependencies = [('models', '0008_modules')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ClientFormVisibility',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('agency', fields.ForeignKeyField('models.Agency', source_field='agency_id', db_constraint=True, to_field='id', related_name='client_form_visibility', on_delete=OnDelete.CASCADE)),
                ('client', fields.ForeignKeyField('models.Client', source_field='client_id', db_constraint=True, to_field='id', related_name='form_visibility', on_delete=OnDelete.CASCADE)),
                ('template', fields.ForeignKeyField('models.FormTemplate', source_field='template_id', db_constraint=True, to_field='id', related_name='client_visibility', on_delete=OnDelete.CASCADE)),
                ('can_see', fields.BooleanField()),
            ],
            options={'table': 'client_form_visibility', 'app': 'models', 'unique_together': (('client', 'template'),), 'pk_attr': 'id', 'table_description': 'Client Portal Manager: whether this client sees completed copies of this form, instead'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='FormAssignment',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('agency', fields.ForeignKeyField('models.Agency', source_field='agency_id', db_constraint=True, to_field='id', related_name='form_assignments', on_delete=OnDelete.CASCADE)),
                ('template', fields.ForeignKeyField('models.FormTemplate', source_field='template_id', db_constraint=True, to_field='id', related_name='assignments', on_delete=OnDelete.CASCADE)),
                ('client', fields.ForeignKeyField('models.Client', source_field='client_id', db_constraint=True, to_field='id', related_name='form_assignments', on_delete=OnDelete.CASCADE)),
                ('representative', fields.ForeignKeyField('models.Representative', source_field='representative_id', null=True, db_constraint=True, to_field='id', related_name='form_assignments', on_delete=OnDelete.CASCADE)),
                ('channel', fields.CharEnumField(description='PORTAL: PORTAL\nSECURE_EMAIL_LINK: SECURE_EMAIL_LINK', enum_type=FormCompletionChannel, max_length=32)),
                ('state', fields.CharEnumField(default=FormAssignmentState.SENT, description='SENT: SENT\nCOMPLETED: COMPLETED\nEXPIRED: EXPIRED\nSUPERSEDED: SUPERSEDED', enum_type=FormAssignmentState, max_length=16)),
                ('form_name', fields.CharField(max_length=200)),
                ('form_fields', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('email', fields.CharField(max_length=254)),
                ('token_hash', fields.CharField(null=True, unique=True, max_length=64)),
                ('expires_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('sent_by', fields.ForeignKeyField('models.Staff', source_field='sent_by_id', null=True, db_constraint=True, to_field='id', related_name='forms_sent', on_delete=OnDelete.SET_NULL)),
                ('sent_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('answers', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('completed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('completed_by', fields.ForeignKeyField('models.PortalAccount', source_field='completed_by_id', null=True, db_constraint=True, to_field='id', related_name='forms_completed', on_delete=OnDelete.SET_NULL)),
            ],
            options={'table': 'form_assignment', 'app': 'models', 'indexes': [Index(fields=['client_id', 'state'])], 'pk_attr': 'id', 'table_description': 'One form sent to a client or one of their representatives.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='RepresentativeFormVisibility',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('agency', fields.ForeignKeyField('models.Agency', source_field='agency_id', db_constraint=True, to_field='id', related_name='representative_form_visibility', on_delete=OnDelete.CASCADE)),
                ('representative', fields.ForeignKeyField('models.Representative', source_field='representative_id', db_constraint=True, to_field='id', related_name='form_visibility', on_delete=OnDelete.CASCADE)),
                ('template', fields.ForeignKeyField('models.FormTemplate', source_field='template_id', db_constraint=True, to_field='id', related_name='representative_visibility', on_delete=OnDelete.CASCADE)),
                ('can_see', fields.BooleanField()),
            ],
            options={'table': 'representative_form_visibility', 'app': 'models', 'unique_together': (('representative', 'template'),), 'pk_attr': 'id', 'table_description': 'Client Portal Manager: whether this representative sees completed copies of this form,'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='FormTemplate',
            name='updated_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='PortalSettings',
            name='form_link_expiry_days',
            field=fields.IntField(default=7),
        ),
        ops.RunPython(grant_manage_forms, ops.RunPython.noop),
    ]
