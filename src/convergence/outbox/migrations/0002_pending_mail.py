"""E-mails the mail server could not take yet, kept to be tried again."""

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('outbox', '0001_initial'),
    ]

    operations = [
        migrations.CreateModel(
            name='PendingMail',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('recipient', models.EmailField(max_length=254, verbose_name='destinataire')),
                ('subject', models.CharField(max_length=998, verbose_name='objet')),
                ('body', models.TextField(verbose_name='texte')),
                ('template', models.CharField(max_length=200, verbose_name='modèle')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='créé le')),
                ('attempts', models.PositiveIntegerField(default=0, verbose_name='tentatives')),
                ('next_attempt_at', models.DateTimeField(db_index=True, verbose_name='prochaine tentative')),
                ('last_error', models.CharField(blank=True, max_length=200, verbose_name='dernière erreur')),
                ('state', models.CharField(choices=[('pending', 'en attente'), ('abandoned', 'abandonné')], default='pending', max_length=10, verbose_name='état')),
            ],
            options={
                'verbose_name': 'courriel en attente',
                'verbose_name_plural': 'courriels en attente',
                'ordering': ['next_attempt_at', 'id'],
                'constraints': [models.CheckConstraint(condition=models.Q(('state__in', ['pending', 'abandoned'])), name='pendingmail_state')],
            },
        ),
    ]
