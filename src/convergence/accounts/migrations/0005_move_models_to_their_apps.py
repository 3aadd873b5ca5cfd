"""Four models leave accounts for their own apps, keeping their tables; content types follow."""

from typing import Any

from django.db import migrations

MOVED = {
    "smsmessage": "outbox",
    "secondfactorresetrequest": "second_factor",
    "letterbatch": "provisioning",
    "importjob": "provisioning",
}


def _relabel(apps: Any, *, forward: bool) -> None:
    """Content types (and the permissions and admin history that point at them) follow."""
    content_type = apps.get_model("contenttypes", "ContentType")
    for model, label in MOVED.items():
        old, new = ("accounts", label) if forward else (label, "accounts")
        if not content_type.objects.filter(app_label=new, model=model).exists():
            content_type.objects.filter(app_label=old, model=model).update(app_label=new)


def relabel_forward(apps: Any, schema_editor: Any) -> None:
    _relabel(apps, forward=True)


def relabel_backward(apps: Any, schema_editor: Any) -> None:
    _relabel(apps, forward=False)


class Migration(migrations.Migration):

    dependencies = [
        ('outbox', '0001_initial'),
        ('second_factor', '0001_initial'),
        ('provisioning', '0001_initial'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('accounts', '0004_mfa_reset_request'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name='importjob',
                    name='requested_by',
                ),
                migrations.RemoveField(
                    model_name='letterbatch',
                    name='establishment',
                ),
                migrations.RemoveField(
                    model_name='letterbatch',
                    name='requested_by',
                ),
                migrations.RemoveField(
                    model_name='secondfactorresetrequest',
                    name='decided_by',
                ),
                migrations.RemoveField(
                    model_name='secondfactorresetrequest',
                    name='requested_by',
                ),
                migrations.RemoveField(
                    model_name='secondfactorresetrequest',
                    name='user',
                ),
                migrations.DeleteModel(
                    name='SmsMessage',
                ),
                migrations.DeleteModel(
                    name='ImportJob',
                ),
                migrations.DeleteModel(
                    name='LetterBatch',
                ),
                migrations.DeleteModel(
                    name='SecondFactorResetRequest',
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(relabel_forward, relabel_backward),
    ]
