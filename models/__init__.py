"""Tortoise models, one module per domain. Imports nothing of ours."""

MODEL_MODULES = [
    "models.agency",
    "models.staff",
    "models.clients",
    "models.accounts",
    "models.settings",
    "models.forms",
    "models.audit",
    "models.mail",
    "models.invitations",
    "models.scheduling",
    "models.tasks",
    "models.messaging",
    "models.modules",
]
