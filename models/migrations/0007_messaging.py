from tortoise import migrations
from tortoise.migrations import operations as ops
from models.messaging import MessageAuthorKind
from models.tasks import time_ordered_id
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0006_tasks')]

    initial = False

    operations = [
        ops.CreateModel(
            name='MessageThread',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=time_ordered_id, unique=True, db_index=True)),
                ('agency', fields.ForeignKeyField('models.Agency', source_field='agency_id', db_constraint=True, to_field='id', related_name='message_threads', on_delete=OnDelete.CASCADE)),
                ('client', fields.ForeignKeyField('models.Client', source_field='client_id', db_constraint=True, to_field='id', related_name='message_threads', on_delete=OnDelete.CASCADE)),
                ('staff', fields.ForeignKeyField('models.Staff', source_field='staff_id', db_constraint=True, to_field='id', related_name='message_threads', on_delete=OnDelete.CASCADE)),
                ('subject', fields.CharField(max_length=200)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('message_count', fields.IntField(default=0)),
                ('last_message_id', fields.UUIDField()),
                ('last_message_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'message_thread', 'app': 'models', 'indexes': [Index(fields=['agency_id', 'last_message_id']), Index(fields=['client_id', 'last_message_id'])], 'pk_attr': 'id', 'table_description': "A conversation of one client's side with one staff member."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Message',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=time_ordered_id, unique=True, db_index=True)),
                ('agency', fields.ForeignKeyField('models.Agency', source_field='agency_id', db_constraint=True, to_field='id', related_name='messages', on_delete=OnDelete.CASCADE)),
                ('thread', fields.ForeignKeyField('models.MessageThread', source_field='thread_id', db_constraint=True, to_field='id', related_name='messages', on_delete=OnDelete.CASCADE)),
                ('seq', fields.IntField()),
                ('author_kind', fields.CharEnumField(description='STAFF: STAFF\nCLIENT: CLIENT\nREPRESENTATIVE: REPRESENTATIVE', enum_type=MessageAuthorKind, max_length=16)),
                ('author_staff', fields.ForeignKeyField('models.Staff', source_field='author_staff_id', null=True, db_constraint=True, to_field='id', related_name='messages_written', on_delete=OnDelete.SET_NULL)),
                ('author_account', fields.ForeignKeyField('models.PortalAccount', source_field='author_account_id', null=True, db_constraint=True, to_field='id', related_name='messages_written', on_delete=OnDelete.SET_NULL)),
                ('body', fields.TextField(unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'message', 'app': 'models', 'unique_together': (('thread', 'seq'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ThreadReadMarker',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('thread', fields.ForeignKeyField('models.MessageThread', source_field='thread_id', db_constraint=True, to_field='id', related_name='read_markers', on_delete=OnDelete.CASCADE)),
                ('staff', fields.ForeignKeyField('models.Staff', source_field='staff_id', null=True, db_constraint=True, to_field='id', related_name='thread_markers', on_delete=OnDelete.CASCADE)),
                ('account', fields.ForeignKeyField('models.PortalAccount', source_field='account_id', null=True, db_constraint=True, to_field='id', related_name='thread_markers', on_delete=OnDelete.CASCADE)),
                ('read_seq', fields.IntField(default=0)),
                ('read_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'thread_read_marker', 'app': 'models', 'unique_together': (('thread', 'staff'), ('thread', 'account')), 'pk_attr': 'id', 'table_description': 'How far one reader (a staff member or a portal account) has read one thread.'},
            bases=['Model'],
        ),
    ]
