"""Four models leave accounts for their own apps, keeping their tables; content types follow."""

from typing import Any

from django.db import migrations

MOVED = {
    "smsmessage": "outbox",
    "secondfactorresetrequest": "second_factor",
    "letterbatch": "provisioning",
    "importjob": "provisioning",
}


def _merge(apps: Any, source: Any, target: Any) -> None:
    """Fold ``source`` into ``target``: its permissions (grants kept) and admin history."""
    permission = apps.get_model("auth", "Permission")
    log_entry = apps.get_model("admin", "LogEntry")
    for perm in permission.objects.filter(content_type=source):
        twin = permission.objects.filter(content_type=target, codename=perm.codename).first()
        if twin is None:
            perm.content_type = target
            perm.save(update_fields=["content_type"])
            continue
        twin.group_set.add(*perm.group_set.all())
        twin.user_set.add(*perm.user_set.all())
        perm.delete()
    log_entry.objects.filter(content_type=source).update(content_type=target)
    source.delete()


def _relabel(apps: Any, *, forward: bool) -> None:
    """Content types (and the permissions and admin history that point at them) follow.

    Django creates the content types of an app after each ``migrate`` that reaches it: a row
    under the other label may already be there (a migration back and forth, or one app
    migrated alone). It is folded into the moving row, which keeps its id, its permissions and
    whatever was granted, so nothing is ever duplicated or lost.
    """
    content_type = apps.get_model("contenttypes", "ContentType")
    for model, label in MOVED.items():
        old, new = ("accounts", label) if forward else (label, "accounts")
        moving = content_type.objects.filter(app_label=old, model=model).first()
        if moving is None:
            continue
        there = content_type.objects.filter(app_label=new, model=model).first()
        if there is not None:
            _merge(apps, there, moving)
        moving.app_label = new
        moving.save(update_fields=["app_label"])


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
        ('auth', '0012_alter_user_first_name_max_length'),
        ('admin', '0003_logentry_add_action_flag_choices'),
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
