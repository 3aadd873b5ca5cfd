"""Blueprint section of the portal: the services catalogue and who sees each tile."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

from convergence.core.blueprints import BlueprintError, LoadReport
from convergence.core.models import Department, Establishment
from convergence.portal.catalogue import catalogue_changed
from convergence.portal.models import AudienceRule, Service


def load_services(data: list[dict[str, Any]], report: LoadReport) -> None:
    """Create or update each service and replace its audience rules by the blueprint's."""
    departments = {d.code: d for d in Department.objects.all()}
    establishments = {e.uai: e for e in Establishment.objects.all()}
    for position, item in enumerate(data, start=1):
        slug = item["slug"]
        service = Service.objects.filter(slug=slug).first() or Service(slug=slug)
        created = service.pk is None
        service.name = item["name"]
        service.description = item["description"]
        service.url = item["url"]
        service.category = item["category"]
        service.icon = item.get("icon", service.icon)
        # What people type to find it (core.search): a list, or words separated by commas.
        keywords = item.get("keywords", [])
        service.keywords = ", ".join(keywords) if isinstance(keywords, list) else str(keywords)
        service.is_external = bool(item.get("external", False))
        service.for_everyone = item.get("audience") == "everyone"
        service.is_published = bool(item.get("published", True))
        # Second factor (mfa/policy.py): always, or from outside the trusted networks.
        service.mfa_required = bool(item.get("mfa_required", False))
        service.mfa_outside_trusted_networks = bool(item.get("mfa_outside_trusted_networks", False))
        service.position = int(item.get("position", position * 10))
        try:
            service.full_clean(validate_unique=False)
        except ValidationError as error:
            raise BlueprintError(f"Service {slug} : {' '.join(error.messages)}") from error
        service.save()
        rules: list[AudienceRule] = []
        audience = item.get("audience", [])
        for rule in audience if isinstance(audience, list) else []:
            department = departments.get(str(rule["department"])) if "department" in rule else None
            establishment = establishments.get(str(rule["uai"])) if "uai" in rule else None
            if ("department" in rule and department is None) or (
                "uai" in rule and establishment is None
            ):
                raise BlueprintError(f"Service {slug} : règle d'audience inconnue {rule}.")
            roles = rule.get("roles") or [rule.get("role", "")]
            rules.extend(
                AudienceRule(
                    service=service, role=role, department=department, establishment=establishment
                )
                for role in roles
            )
        AudienceRule.objects.filter(service=service).delete()
        AudienceRule.objects.bulk_create(rules)  # no signal: the catalogue is told below
        report.count("services", created=created)
    catalogue_changed()
