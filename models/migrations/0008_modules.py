from tortoise import migrations
from tortoise.migrations import operations as ops
from models.enums import DiagnosisStatus, GoalStatus, PaymentMethod
from models.tasks import time_ordered_id
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0007_messaging')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ClientCharge',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=time_ordered_id, unique=True, db_index=True)),
                ('agency', fields.ForeignKeyField('models.Agency', source_field='agency_id', db_constraint=True, to_field='id', related_name='client_charges', on_delete=OnDelete.CASCADE)),
                ('client', fields.ForeignKeyField('models.Client', source_field='client_id', db_constraint=True, to_field='id', related_name='charges', on_delete=OnDelete.CASCADE)),
                ('service_date', fields.DateField()),
                ('description', fields.CharField(max_length=200)),
                ('amount_cents', fields.IntField()),
                ('recorded_by', fields.ForeignKeyField('models.Staff', source_field='recorded_by_id', null=True, db_constraint=True, to_field='id', related_name='recorded_charges', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'client_charge', 'app': 'models', 'indexes': [Index(fields=['client_id', 'service_date'])], 'pk_attr': 'id', 'table_description': "A charge on the client's account, in the agency's currency, in cents."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ClientDocument',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=time_ordered_id, unique=True, db_index=True)),
                ('agency', fields.ForeignKeyField('models.Agency', source_field='agency_id', db_constraint=True, to_field='id', related_name='client_documents', on_delete=OnDelete.CASCADE)),
                ('client', fields.ForeignKeyField('models.Client', source_field='client_id', db_constraint=True, to_field='id', related_name='documents', on_delete=OnDelete.CASCADE)),
                ('title', fields.CharField(max_length=200)),
                ('file_name', fields.CharField(max_length=255)),
                ('content_type', fields.CharField(max_length=64)),
                ('size_bytes', fields.IntField()),
                ('sha256', fields.CharField(max_length=64)),
                ('shared_by', fields.ForeignKeyField('models.Staff', source_field='shared_by_id', null=True, db_constraint=True, to_field='id', related_name='shared_documents', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'client_document', 'app': 'models', 'indexes': [Index(fields=['client_id', 'created_at'])], 'pk_attr': 'id', 'table_description': 'A file staff shared with a client. The bytes live in ClientDocumentFile, so listing'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ClientDocumentFile',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('document', fields.OneToOneField('models.ClientDocument', source_field='document_id', db_constraint=True, to_field='id', related_name='file', on_delete=OnDelete.CASCADE)),
                ('data', fields.BinaryField()),
            ],
            options={'table': 'client_document_file', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ClientPayment',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=time_ordered_id, unique=True, db_index=True)),
                ('agency', fields.ForeignKeyField('models.Agency', source_field='agency_id', db_constraint=True, to_field='id', related_name='client_payments', on_delete=OnDelete.CASCADE)),
                ('client', fields.ForeignKeyField('models.Client', source_field='client_id', db_constraint=True, to_field='id', related_name='payments', on_delete=OnDelete.CASCADE)),
                ('received_date', fields.DateField()),
                ('method', fields.CharEnumField(description='CASH: CASH\nCHECK: CHECK\nCARD: CARD\nINSURANCE: INSURANCE\nOTHER: OTHER', enum_type=PaymentMethod, max_length=16)),
                ('amount_cents', fields.IntField()),
                ('reference', fields.CharField(default='', max_length=100)),
                ('recorded_by', fields.ForeignKeyField('models.Staff', source_field='recorded_by_id', null=True, db_constraint=True, to_field='id', related_name='recorded_payments', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'client_payment', 'app': 'models', 'indexes': [Index(fields=['client_id', 'received_date'])], 'pk_attr': 'id', 'table_description': "A payment received for the client, in the agency's currency, in cents."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ClinicalSummary',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('agency', fields.ForeignKeyField('models.Agency', source_field='agency_id', db_constraint=True, to_field='id', related_name='clinical_summaries', on_delete=OnDelete.CASCADE)),
                ('client', fields.OneToOneField('models.Client', source_field='client_id', db_constraint=True, to_field='id', related_name='clinical_summary', on_delete=OnDelete.CASCADE)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_by', fields.ForeignKeyField('models.Staff', source_field='updated_by_id', null=True, db_constraint=True, to_field='id', related_name='clinical_summaries_updated', on_delete=OnDelete.SET_NULL)),
            ],
            options={'table': 'clinical_summary', 'app': 'models', 'pk_attr': 'id', 'table_description': 'One per client once staff have saved it: when, and by whom. Its diagnoses and goals are'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Diagnosis',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('agency', fields.ForeignKeyField('models.Agency', source_field='agency_id', db_constraint=True, to_field='id', related_name='diagnoses', on_delete=OnDelete.CASCADE)),
                ('client', fields.ForeignKeyField('models.Client', source_field='client_id', db_constraint=True, to_field='id', related_name='diagnoses', on_delete=OnDelete.CASCADE)),
                ('position', fields.IntField()),
                ('code', fields.CharField(max_length=16)),
                ('description', fields.CharField(max_length=500)),
                ('status', fields.CharEnumField(description='ACTIVE: ACTIVE\nRESOLVED: RESOLVED', enum_type=DiagnosisStatus, max_length=16)),
                ('onset_date', fields.DateField(null=True)),
            ],
            options={'table': 'diagnosis', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='DocumentLink',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('agency', fields.ForeignKeyField('models.Agency', source_field='agency_id', db_constraint=True, to_field='id', related_name='document_links', on_delete=OnDelete.CASCADE)),
                ('document', fields.ForeignKeyField('models.ClientDocument', source_field='document_id', db_constraint=True, to_field='id', related_name='links', on_delete=OnDelete.CASCADE)),
                ('session', fields.ForeignKeyField('models.Session', source_field='session_id', db_constraint=True, to_field='id', related_name='document_links', on_delete=OnDelete.CASCADE)),
                ('staff', fields.ForeignKeyField('models.Staff', source_field='staff_id', null=True, db_constraint=True, to_field='id', related_name='document_links', on_delete=OnDelete.CASCADE)),
                ('account', fields.ForeignKeyField('models.PortalAccount', source_field='account_id', null=True, db_constraint=True, to_field='id', related_name='document_links', on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'document_link', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A download link: only the SHA-256 of its token is kept. It is bound to the document and'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SocialHistory',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('agency', fields.ForeignKeyField('models.Agency', source_field='agency_id', db_constraint=True, to_field='id', related_name='social_histories', on_delete=OnDelete.CASCADE)),
                ('client', fields.OneToOneField('models.Client', source_field='client_id', db_constraint=True, to_field='id', related_name='social_history', on_delete=OnDelete.CASCADE)),
                ('living_situation', fields.TextField(default='', unique=False)),
                ('family', fields.TextField(default='', unique=False)),
                ('education', fields.TextField(default='', unique=False)),
                ('employment', fields.TextField(default='', unique=False)),
                ('substance_use', fields.TextField(default='', unique=False)),
                ('legal', fields.TextField(default='', unique=False)),
                ('other_notes', fields.TextField(default='', unique=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_by', fields.ForeignKeyField('models.Staff', source_field='updated_by_id', null=True, db_constraint=True, to_field='id', related_name='social_histories_updated', on_delete=OnDelete.SET_NULL)),
            ],
            options={'table': 'social_history', 'app': 'models', 'pk_attr': 'id', 'table_description': 'One per client. Each section is plain text, empty when not recorded.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='TreatmentGoal',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('agency', fields.ForeignKeyField('models.Agency', source_field='agency_id', db_constraint=True, to_field='id', related_name='treatment_goals', on_delete=OnDelete.CASCADE)),
                ('client', fields.ForeignKeyField('models.Client', source_field='client_id', db_constraint=True, to_field='id', related_name='treatment_goals', on_delete=OnDelete.CASCADE)),
                ('position', fields.IntField()),
                ('description', fields.CharField(max_length=1000)),
                ('status', fields.CharEnumField(description='ACTIVE: ACTIVE\nMET: MET\nDISCONTINUED: DISCONTINUED', enum_type=GoalStatus, max_length=16)),
                ('target_date', fields.DateField(null=True)),
            ],
            options={'table': 'treatment_goal', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
