"""Blueprint sections of the core app: the académie, departments and establishments."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

from convergence.core.blueprints import BlueprintError, LoadReport
from convergence.core.models import Academie, Department, Establishment

# The académie's fields a blueprint may set; a list becomes lines (networks, addresses).
ACADEMIE_FIELDS = (
    "name",
    "short_name",
    "official_host",
    "mail_domain",
    "trusted_networks",
    "postal_address",
    "phone",
    "publication_director",
    "hosting_provider",
    "dpo_name",
    "dpo_email",
    "dpo_postal_address",
    "accessibility_status",
    "accessibility_statement_date",
    "accessibility_evaluation",
    "accessibility_plan_url",
    "accessibility_email",
)


def load_academie(data: dict[str, Any], report: LoadReport) -> None:
    academie = Academie.objects.first() or Academie()
    created = academie.pk is None
    unknown = sorted(set(data) - set(ACADEMIE_FIELDS))
    if unknown:
        raise BlueprintError(f"academie : champs inconnus {', '.join(unknown)}")
    for field in ACADEMIE_FIELDS:
        if field in data:
            value = data[field]
            if isinstance(value, list):
                value = "\n".join(str(line) for line in value)
            elif value is None:
                value = None if field == "accessibility_statement_date" else ""
            setattr(academie, field, value)
    try:
        academie.full_clean()
    except ValidationError as error:
        raise BlueprintError(f"academie : {error.messages}") from error
    academie.save()
    report.count("académie", created=created)


def load_departments(data: list[dict[str, Any]], report: LoadReport) -> None:
    for item in data:
        _department, created = Department.objects.update_or_create(
            code=str(item["code"]), defaults={"name": item["name"]}
        )
        report.count("départements", created=created)


def load_establishments(data: list[dict[str, Any]], report: LoadReport) -> None:
    departments = {d.code: d for d in Department.objects.all()}
    for item in data:
        uai = str(item["uai"]).upper()
        department = departments.get(str(item["department"]))
        if department is None:
            raise BlueprintError(f"Établissement {uai} : département {item['department']} inconnu.")
        establishment = Establishment.objects.filter(uai=uai).first() or Establishment(uai=uai)
        created = establishment.pk is None
        establishment.name = item["name"]
        establishment.kind = item["kind"]
        establishment.city = item.get("city", "")
        establishment.department = department
        try:
            establishment.full_clean(validate_unique=False)
        except ValidationError as error:
            raise BlueprintError(f"Établissement {uai} : {' '.join(error.messages)}") from error
        establishment.save()
        report.count("établissements", created=created)
