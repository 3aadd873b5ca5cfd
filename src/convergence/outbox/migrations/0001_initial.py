"""The model moves here from accounts with its table (state only: no data is touched)."""

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('accounts', '0004_mfa_reset_request'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='SmsMessage',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('to', models.CharField(max_length=20, verbose_name='destinataire')),
                        ('body', models.TextField(verbose_name='texte')),
                        ('sent_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='envoyé le')),
                    ],
                    options={
                        'verbose_name': "SMS (boîte d'envoi de développement)",
                        'verbose_name_plural': "SMS (boîte d'envoi de développement)",
                        'db_table': 'accounts_smsmessage',
                        'ordering': ['-sent_at'],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
