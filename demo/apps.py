"""The demo académie's own parts: relying parties, embedded mail server, rundemo, seed."""

from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "demo"
    label = "demo"
    verbose_name = "Démonstration"
