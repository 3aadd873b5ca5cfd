"""The imports page documents its files in the portal: a guide with a table of each kind's
columns and function codes, and a sample file of each kind that the importer accepts — made
from the same column definitions the importer reads."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from django.urls import reverse

from convergence.provisioning import imports
from convergence.provisioning.models import ImportKind
from tests.helpers import client_of


def test_the_imports_page_links_to_the_guide_and_the_samples(dsi: Any) -> None:
    page = client_of(dsi).get(reverse("provisioning:imports")).content.decode()
    assert reverse("provisioning:import_guide") in page
    for kind in ImportKind:
        assert reverse("provisioning:import_sample", args=[kind.value]) in page
    assert "docs/imports.md" not in page
    # The columns are a list that wraps, not one unbroken line.
    assert "<pre" not in page
    assert ";".join(imports.SIECLE_COLUMNS) not in page


def test_the_guide_has_a_row_for_every_column_the_importer_reads(dsi: Any) -> None:
    response = client_of(dsi).get(reverse("provisioning:import_guide"))
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    for kind in ImportKind:
        table = page.split(f'id="colonnes-{kind.value}"', 1)[1].split("</table>", 1)[0]
        rows = re.findall(r'<th scope="row"><code>([A-Z0-9_]+)</code>', table)
        assert tuple(rows) == imports.COLUMNS[kind]
    for code in imports.FUNCTION_ROLES:
        assert f"<code>{code}</code>" in page
    assert "Personnel de direction" in page or "personnel de direction" in page.lower()
    assert "docs/" not in page


@pytest.mark.parametrize("kind", list(ImportKind))
def test_each_sample_file_is_accepted_by_the_importer(dsi: Any, kind: ImportKind) -> None:
    response = client_of(dsi).get(reverse("provisioning:import_sample", args=[kind.value]))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="exemple-{kind.value}.csv"'
    data = response.content
    assert data.startswith("\ufeff".encode())  # spreadsheets then read it as UTF-8
    imports.check_header(data, kind)
    parsed = imports.parse(data, kind)
    assert parsed.error_count == 0, parsed.errors
    assert parsed.total_rows == 2
    header = data.decode("utf-8-sig").splitlines()[0]
    assert tuple(header.split(imports.SEPARATOR)) == imports.COLUMNS[kind]


def test_an_unknown_kind_of_sample_is_not_found(dsi: Any) -> None:
    response = client_of(dsi).get(reverse("provisioning:import_sample", args=["bulletins"]))
    assert response.status_code == 404


@pytest.mark.parametrize("person", ["referent", "teacher"])
def test_the_guide_and_samples_are_for_the_dsi(person: str, request: Any) -> None:
    client = client_of(request.getfixturevalue(person))
    assert client.get(reverse("provisioning:import_guide")).status_code == 403
    sample = reverse("provisioning:import_sample", args=[ImportKind.STS.value])
    assert client.get(sample).status_code == 403


def test_a_report_counts_its_errors_in_french(dsi: Any) -> None:
    job = imports.ImportJob(kind=ImportKind.SIECLE, file_name="f.csv", dry_run=True)
    job.report = {"error_count": 1, "errors": ["Ligne 2 : NOM manquant."], "warning_count": 0}
    assert "1 erreur :" in imports.report_lines(job)
    job.report = {"error_count": 0, "warning_count": 0, "errors": []}
    job.report.update(warning_count=2, warnings=["…", "…"])
    assert "2 avertissements :" in imports.report_lines(job)
