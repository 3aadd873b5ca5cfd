"""The model moves here from accounts with its table (state only: no data is touched)."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('accounts', '0004_mfa_reset_request'),
        ('core', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='ImportJob',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(choices=[('siecle', 'Élèves et responsables (SIECLE)'), ('sts', 'Personnels (STS)')], max_length=8, verbose_name='type')),
                        ('dry_run', models.BooleanField(default=True, verbose_name='simulation')),
                        ('school_year', models.CharField(max_length=9, verbose_name='année scolaire')),
                        ('file_name', models.CharField(max_length=200, verbose_name='nom du fichier')),
                        ('file_path', models.CharField(max_length=200, verbose_name='fichier')),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='demandé le')),
                        ('started_at', models.DateTimeField(blank=True, null=True, verbose_name='commencé le')),
                        ('finished_at', models.DateTimeField(blank=True, null=True, verbose_name='terminé le')),
                        ('state', models.CharField(choices=[('pending', 'En attente'), ('running', 'En cours'), ('done', 'Terminé'), ('failed', 'Échec')], default='pending', max_length=8, verbose_name='état')),
                        ('total_rows', models.PositiveIntegerField(default=0, verbose_name='lignes')),
                        ('processed_rows', models.PositiveIntegerField(default=0, verbose_name='lignes traitées')),
                        ('report', models.JSONField(blank=True, default=dict, verbose_name='rapport')),
                        ('requested_by', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='import_jobs', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'verbose_name': 'import',
                        'verbose_name_plural': 'imports',
                        'db_table': 'accounts_importjob',
                        'constraints': [models.CheckConstraint(condition=models.Q(('state__in', ['pending', 'running', 'done', 'failed'])), name='importjob_state'), models.CheckConstraint(condition=models.Q(('kind__in', ['siecle', 'sts'])), name='importjob_kind')],
                    },
                ),
                migrations.CreateModel(
                    name='LetterBatch',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('division', models.CharField(blank=True, max_length=40, verbose_name='classe')),
                        ('audience', models.CharField(choices=[('eleves', 'Élèves'), ('parents', 'Parents'), ('personnels', 'Personnels')], max_length=12, verbose_name='public')),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='demandé le')),
                        ('finished_at', models.DateTimeField(blank=True, null=True, verbose_name='terminé le')),
                        ('state', models.CharField(choices=[('pending', 'En attente'), ('running', 'En cours'), ('done', 'Terminé'), ('failed', 'Échec')], default='pending', max_length=8, verbose_name='état')),
                        ('total', models.PositiveIntegerField(default=0, verbose_name='lettres à produire')),
                        ('done', models.PositiveIntegerField(default=0, verbose_name='lettres produites')),
                        ('file_path', models.CharField(blank=True, max_length=200, verbose_name='fichier')),
                        ('error', models.TextField(blank=True, verbose_name='erreur')),
                        ('establishment', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='letter_batches', to='core.establishment')),
                        ('requested_by', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='letter_batches', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'verbose_name': "lot de lettres d'activation",
                        'verbose_name_plural': "lots de lettres d'activation",
                        'db_table': 'accounts_letterbatch',
                        'constraints': [models.CheckConstraint(condition=models.Q(('state__in', ['pending', 'running', 'done', 'failed'])), name='letterbatch_state')],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
