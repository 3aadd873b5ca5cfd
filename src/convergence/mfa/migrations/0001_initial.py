"""The model moves here from accounts with its table (state only: no data is touched)."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('accounts', '0004_mfa_reset_request'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='SecondFactorResetRequest',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('checks', models.JSONField(default=list, verbose_name='vérifications faites')),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='demandée le')),
                        ('expires_at', models.DateTimeField(verbose_name='expire le')),
                        ('state', models.CharField(choices=[('pending', "En attente d'approbation"), ('approved', 'Approuvée'), ('refused', 'Refusée'), ('expired', 'Expirée')], default='pending', max_length=8, verbose_name='état')),
                        ('decided_at', models.DateTimeField(blank=True, null=True, verbose_name='décidée le')),
                        ('decided_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='second_factor_resets_decided', to=settings.AUTH_USER_MODEL)),
                        ('requested_by', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='second_factor_resets_requested', to=settings.AUTH_USER_MODEL)),
                        ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='second_factor_reset_requests', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'verbose_name': 'demande de retrait de second facteur',
                        'verbose_name_plural': 'demandes de retrait de second facteur',
                        'db_table': 'accounts_secondfactorresetrequest',
                        'constraints': [models.CheckConstraint(condition=models.Q(('state__in', ['pending', 'approved', 'refused', 'expired'])), name='mfareset_state'), models.CheckConstraint(condition=models.Q(models.Q(('decided_at__isnull', True), ('decided_by__isnull', True), ('state', 'pending')), models.Q(models.Q(('state', 'pending'), _negated=True), ('decided_at__isnull', False)), _connector='OR'), name='mfareset_decided_when_closed'), models.CheckConstraint(condition=models.Q(models.Q(('state', 'approved'), _negated=True), models.Q(models.Q(('decided_by', models.F('requested_by')), _negated=True), models.Q(('decided_by', models.F('user')), _negated=True)), _connector='OR'), name='mfareset_four_eyes'), models.UniqueConstraint(condition=models.Q(('state', 'pending')), fields=('user',), name='mfareset_one_pending_per_user')],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
