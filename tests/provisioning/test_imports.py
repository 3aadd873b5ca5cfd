"""CSV imports of pupils with guardians (SIECLE-like) and of staff (STS-like)."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from convergence.accounts.models import (
    AccountState,
    Assignment,
    Guardianship,
    Role,
    User,
    current_school_year,
)
from convergence.audit.models import AuditEvent
from convergence.provisioning import imports
from convergence.provisioning.actions import imports as import_actions
from convergence.provisioning.models import ImportJob, ImportKind, JobState

SAMPLES = Path(__file__).resolve().parents[2] / "blueprints" / "samples"
SIECLE_HEADER = ";".join(imports.SIECLE_COLUMNS)
STS_HEADER = ";".join(imports.STS_COLUMNS)
IMMEDIATE_TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}

PUPILS = [
    "0250013D;5000001;Vuillemin;Chloé;12/02/2013;4e A;6000001;Vuillemin;Pascal;"
    "pascal.vuillemin@exemple.fr;6000002;Vuillemin;Aurélie;",
    "0250013D;5000002;Vuillemin;Théo;03/09/2015;6e B;6000001;Vuillemin;Pascal;"
    "pascal.vuillemin@exemple.fr;;;;",
    "0390012B;5000003;Grosjean;Lucas;25/10/2010;2de 3;6000003;Grosjean;Bruno;;;;;",
    "0390012B;5000004;Vuillemin;Jade;19/05/2010;2de 1;6000001;Vuillemin;Pascal;"
    "pascal.vuillemin@exemple.fr;;;;",
]


def siecle(*lines: str, header: str = SIECLE_HEADER) -> bytes:
    return ("\n".join([header, *lines]) + "\n").encode()


def sts(*lines: str) -> bytes:
    return ("\n".join([STS_HEADER, *lines]) + "\n").encode()


def run(data: bytes, kind: str = ImportKind.SIECLE, *, dry_run: bool, **options: Any) -> ImportJob:
    """A job for ``data`` run now, as the task would (the dry run first for a real run)."""
    job = import_actions.create_import_job(
        acting_user=None, kind=kind, content=[data], file_name="test.csv", enqueue=False
    )
    job = import_actions.execute_import_job(job.pk, **options)
    if dry_run:
        return job
    assert import_actions.can_apply(job), job.report
    applied = import_actions.apply_import_job(acting_user=None, job=job, enqueue=False)
    return import_actions.execute_import_job(applied.pk, **options)


def real_run(data: bytes, kind: str = ImportKind.SIECLE) -> ImportJob:
    """A real run without the dry run before it (as if the file changed in between)."""
    job = import_actions.create_import_job(
        acting_user=None, kind=kind, content=[data], file_name="test.csv", enqueue=False
    )
    ImportJob.objects.filter(pk=job.pk).update(dry_run=False)
    return import_actions.execute_import_job(job.pk)


@pytest.fixture(autouse=True)
def _var_dir(settings: Any, tmp_path: Path) -> None:
    settings.VAR_DIR = tmp_path
    settings.TASKS = IMMEDIATE_TASKS


def imported() -> Any:
    return User.objects.exclude(import_key="")


# --- Dry run ------------------------------------------------------------------------------


def test_dry_run_reports_creations_and_saves_nothing(demo: None) -> None:
    before = User.objects.count()
    job = run(siecle(*PUPILS), dry_run=True)
    assert job.state == JobState.DONE
    counts = job.report["counts"]
    assert counts["rows"] == 4
    assert counts["creations"] == 7  # 4 pupils, 3 guardians
    assert counts["creations_by_kind"] == {"eleve": 4, "parent": 3}
    assert counts["guardianships_added"] == 5
    assert counts["updates"] == counts["departures"] == 0
    assert any(
        "Chloé Vuillemin (élève) → identifiant cvuillemin" in s
        for s in job.report["samples"]["creations"]
    )
    assert job.processed_rows == job.total_rows == 4
    assert User.objects.count() == before
    assert import_actions.can_apply(job)


def test_dry_run_reports_updates_and_departures(demo: None) -> None:
    run(siecle(*PUPILS), dry_run=False)
    changed = PUPILS[0].replace("Chloé", "Chloë").replace("4e A", "4e C")
    job = run(siecle(changed, *PUPILS[1:3]), dry_run=True)
    counts = job.report["counts"]
    assert counts["creations"] == 0
    # Chloé, and her father who no longer has a child at the lycée.
    assert counts["updates"] == 2
    assert counts["assignments_changed"] == 1
    assert counts["departures"] == 1  # Jade
    assert counts["archived"] == 1
    samples = job.report["samples"]
    assert "Chloë Vuillemin : prénom « Chloé » → « Chloë »" in samples["updates"]
    assert any("Jade Vuillemin" in s for s in samples["departures"])
    assert User.objects.get(import_key="siecle-eleve:5000001").first_name == "Chloé"


def test_dry_run_lists_errors_with_line_numbers(demo: None) -> None:
    job = run(
        siecle(
            PUPILS[0],
            "0259999Z;5000009;Martin;Paul;01/01/2013;4e A;;;;;;;;",
            "0250013D;5000010;;Paul;31/02/2013;4e A;6000009;Martin;Jean;pas-une-adresse;;;;",
        ),
        dry_run=True,
    )
    assert job.state == JobState.DONE
    assert job.report["error_count"] == 4
    assert job.report["errors"] == [
        "Ligne 3 : UAI 0259999Z inconnu.",
        "Ligne 4 : NOM manquant.",
        "Ligne 4 : date de naissance « 31/02/2013 » invalide (attendu JJ/MM/AAAA).",
        "Ligne 4 : adresse électronique « pas-une-adresse » invalide (RESP1_COURRIEL).",
    ]
    assert not import_actions.can_apply(job)


# --- Apply --------------------------------------------------------------------------------


def test_apply_creates_invited_accounts_with_assignments(demo: None) -> None:
    job = run(siecle(*PUPILS), dry_run=False)
    assert job.state == JobState.DONE
    assert imported().count() == 7
    chloe = User.objects.get(import_key="siecle-eleve:5000001")
    assert chloe.state == AccountState.INVITED
    assert not chloe.has_usable_password()
    assert chloe.login == "cvuillemin"
    assert str(chloe.birth_date) == "2013-02-12"
    year = current_school_year()
    assert list(
        Assignment.objects.filter(user=chloe).values_list(
            "establishment__uai", "role", "division", "school_year"
        )
    ) == [("0250013D", Role.ELEVE, "4e A", year)]
    # The file's data is in the database now: the file, personal data, is gone.
    assert not import_actions.import_path(job).exists()


def test_apply_links_guardians_to_each_child(demo: None) -> None:
    run(siecle(*PUPILS), dry_run=False)
    pascal = User.objects.get(import_key="siecle-resp:6000001")
    assert pascal.email == "pascal.vuillemin@exemple.fr"
    children = set(
        Guardianship.objects.filter(parent=pascal).values_list("pupil__first_name", flat=True)
    )
    assert children == {"Chloé", "Théo", "Jade"}
    assert set(
        Assignment.objects.filter(user=pascal).values_list("establishment__uai", "role")
    ) == {("0250013D", Role.PARENT), ("0390012B", Role.PARENT)}
    aurelie = User.objects.get(import_key="siecle-resp:6000002")
    assert list(
        Guardianship.objects.filter(parent=aurelie).values_list("pupil__first_name", flat=True)
    ) == ["Chloé"]


def test_reimporting_the_same_file_changes_nothing(demo: None) -> None:
    run(siecle(*PUPILS), dry_run=False)
    users = list(User.objects.order_by("pk").values())
    assignments = list(Assignment.objects.order_by("pk").values())
    guardianships = list(Guardianship.objects.order_by("pk").values())
    again = run(siecle(*PUPILS), dry_run=False)
    assert again.state == JobState.DONE
    counts = again.report["counts"]
    assert counts["creations"] == counts["updates"] == counts["departures"] == 0
    assert counts["assignments_added"] == counts["guardianships_added"] == 0
    assert list(User.objects.order_by("pk").values()) == users
    assert list(Assignment.objects.order_by("pk").values()) == assignments
    assert list(Guardianship.objects.order_by("pk").values()) == guardianships


def test_apply_updates_names_and_divisions(demo: None) -> None:
    run(siecle(*PUPILS), dry_run=False)
    lines = [line.replace(";Pascal;", ";Pascal-Henri;") for line in PUPILS]
    lines[0] = lines[0].replace("4e A", "4e C")
    job = run(siecle(*lines), dry_run=False)
    assert job.report["counts"]["updates"] == 2
    chloe = User.objects.get(import_key="siecle-eleve:5000001")
    assert Assignment.objects.get(user=chloe).division == "4e C"
    pascal = User.objects.get(import_key="siecle-resp:6000001")
    assert pascal.first_name == "Pascal-Henri"
    assert pascal.login == "pvuillemin"  # a login never changes with the name


def test_departure_is_archived_and_loses_its_assignment(demo: None) -> None:
    run(siecle(*PUPILS), dry_run=False)
    job = run(siecle(*PUPILS[:3]), dry_run=False)
    assert job.report["counts"]["departures"] == 1
    jade = User.objects.get(import_key="siecle-eleve:5000004")
    assert jade.state == AccountState.ARCHIVED
    assert jade.archived_at is not None
    assert not Assignment.objects.filter(user=jade, school_year=current_school_year()).exists()
    # Her father stays: his other children are still in the file.
    pascal = User.objects.get(import_key="siecle-resp:6000001")
    assert pascal.state == AccountState.INVITED
    assert Assignment.objects.filter(user=pascal, establishment__uai="0390012B").exists() is False
    assert AuditEvent.objects.filter(event_type="account.archived", subject=jade).exists()


def test_departed_pupil_coming_back_is_reactivated(demo: None) -> None:
    run(siecle(*PUPILS), dry_run=False)
    run(siecle(*PUPILS[:3]), dry_run=False)
    job = run(siecle(*PUPILS), dry_run=False)
    assert job.report["counts"]["reactivations"] == 1
    jade = User.objects.get(import_key="siecle-eleve:5000004")
    assert jade.state == AccountState.INVITED
    assert jade.archived_at is None


def test_import_leaves_hand_made_accounts_and_other_establishments_alone(
    demo: None, pupil: User, pupil_in_dole: User
) -> None:
    run(siecle(*PUPILS), dry_run=False)
    assert Assignment.objects.filter(user=pupil).exists()
    assert Assignment.objects.filter(user=pupil_in_dole).exists()


# --- Nothing saved on a bad file ---------------------------------------------------------


def assert_nothing_saved(job: ImportJob, before: int) -> None:
    assert job.state == JobState.FAILED
    assert User.objects.count() == before
    assert not imported().exists()


def test_unknown_uai_is_a_french_error_and_nothing_is_saved(demo: None) -> None:
    before = User.objects.count()
    job = real_run(siecle(*PUPILS, "0259999Z;5000009;Martin;Paul;01/01/2013;4e A;;;;;;;;"))
    assert job.report["errors"] == ["Ligne 6 : UAI 0259999Z inconnu."]
    assert_nothing_saved(job, before)


def test_duplicate_line_is_an_error_and_nothing_is_saved(demo: None) -> None:
    before = User.objects.count()
    job = real_run(siecle(*PUPILS, PUPILS[1]))
    assert job.report["errors"] == ["Ligne 6 : élève 5000002 déjà présent ligne 3."]
    assert_nothing_saved(job, before)


def test_broken_encoding_is_a_french_error_and_nothing_is_saved(demo: None) -> None:
    before = User.objects.count()
    latin1 = "\n".join([SIECLE_HEADER, *PUPILS]).encode("latin-1")
    job = real_run(latin1)
    assert "n'est pas encodé en UTF-8" in job.report["fatal"]
    assert "ligne 2" in job.report["fatal"]
    assert_nothing_saved(job, before)


def test_missing_column_lists_expected_columns(demo: None) -> None:
    before = User.objects.count()
    header = SIECLE_HEADER.replace("DATE_NAISS;", "")
    job = real_run(siecle(header=header))
    assert job.report["fatal"].startswith("Colonnes manquantes : DATE_NAISS.")
    assert SIECLE_HEADER in job.report["fatal"]
    assert_nothing_saved(job, before)


def test_comma_separated_file_gets_a_hint(demo: None) -> None:
    with pytest.raises(imports.ImportFileError, match="point-virgule"):
        imports.check_header(SIECLE_HEADER.replace(";", ",").encode(), ImportKind.SIECLE)


def test_guardian_described_differently_on_two_lines_is_an_error(demo: None) -> None:
    other = PUPILS[1].replace(";Pascal;", ";Paul;")
    job = run(siecle(PUPILS[0], other), dry_run=True)
    assert job.report["errors"] == [
        "Ligne 3 : responsable 6000001 décrit autrement ligne 2 (nom, prénom ou courriel "
        "différent)."
    ]


def test_byte_order_mark_and_windows_line_ends_are_accepted(demo: None) -> None:
    data = b"\xef\xbb\xbf" + "\r\n".join([SIECLE_HEADER, *PUPILS]).encode()
    job = run(data, dry_run=True)
    assert job.report["error_count"] == 0
    assert job.report["counts"]["creations"] == 7


def test_email_of_another_account_is_not_taken(demo: None, parent: User) -> None:
    line = PUPILS[2].replace("Bruno;;", f"Bruno;{parent.email};")
    job = run(siecle(line), dry_run=False)
    assert job.report["warning_count"] == 1
    assert "déjà celle d'un autre compte" in job.report["warnings"][0]
    assert User.objects.get(import_key="siecle-resp:6000003").email == ""


# --- Progress and resuming ----------------------------------------------------------------


def test_progress_is_recorded_chunk_by_chunk(demo: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(import_actions, "CHUNK_ROWS", 1)
    seen: list[tuple[str, int, int]] = []

    def progress(phase: str, done: int, total: int) -> None:
        job = ImportJob.objects.get(dry_run=False)
        # What a polling page reads: the job row, as committed with each chunk.
        seen.append((phase, job.processed_rows, job.total_rows))

    run(siecle(*PUPILS), dry_run=False, progress=progress)
    writes = [(done, total) for phase, done, total in seen if phase == "ecriture"]
    assert writes[:4] == [(1, 4), (2, 4), (3, 4), (4, 4)]


def test_interrupted_import_resumes_to_the_same_state(
    demo: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(import_actions, "CHUNK_ROWS", 2)
    real = import_actions._write_departures

    def crash(*args: Any, **kwargs: Any) -> str:
        raise RuntimeError("worker killed")

    monkeypatch.setattr(import_actions, "_write_departures", crash)
    dry = run(siecle(*PUPILS), dry_run=True)
    applied = import_actions.apply_import_job(acting_user=None, job=dry, enqueue=False)
    with pytest.raises(RuntimeError):
        import_actions.execute_import_job(applied.pk)
    applied.refresh_from_db()
    assert applied.state == JobState.FAILED
    assert import_actions.can_resume(applied)
    monkeypatch.setattr(import_actions, "_write_departures", real)
    resumed = import_actions.execute_import_job(applied.pk)
    assert resumed.state == JobState.DONE
    assert imported().count() == 7
    assert Guardianship.objects.filter(parent__import_key__startswith="siecle-").count() == 5


# --- Staff --------------------------------------------------------------------------------


def test_staff_functions_are_mapped_to_roles(demo: None) -> None:
    run((SAMPLES / "sts-exemple.csv").read_bytes(), ImportKind.STS, dry_run=False)
    roles = {
        (user.last_name, uai, role)
        for user in imported()
        for uai, role in user.assignments.values_list("establishment__uai", "role")
    }
    assert roles == {
        ("Parrenin", "0250013D", Role.ENSEIGNANT),
        ("Parrenin", "0251080N", Role.ENSEIGNANT),
        ("Courvoisier", "0250013D", Role.ENSEIGNANT),
        ("Tissot", "0390012B", Role.DIRECTION),
        ("Benali", "0390012B", Role.CPE),
        ("Jeannin", "0390012B", Role.ADMINISTRATIF),
        ("Pourcelot", "0251080N", Role.AGENT),
    }
    assert imported().count() == 6
    assert all(key.startswith("sts:") for key in imported().values_list("import_key", flat=True))


def test_unknown_function_and_duplicate_staff_line_are_errors(demo: None) -> None:
    line = "0250013D;7000001;Parrenin;Claire;14/09/1984;ENS;"
    job = run(sts(line, line, "0250013D;7000002;Roy;Paul;;XYZ;"), ImportKind.STS, dry_run=True)
    assert job.report["errors"] == [
        "Ligne 3 : personnel 7000001 déjà présent ligne 2 avec la même fonction dans cet "
        "établissement.",
        "Ligne 4 : fonction « XYZ » inconnue (attendu : ENS, DOC, CPE, EDU, DIR, ADM, AGT, OUV, "
        "LAB).",
    ]


def test_staff_import_never_removes_roles_granted_by_hand(demo: None, referent: User) -> None:
    referent.import_key = "sts:7000099"
    referent.save(update_fields=["import_key"])
    job = run(
        sts("0250013D;7000001;Parrenin;Claire;14/09/1984;ENS;"), ImportKind.STS, dry_run=False
    )
    # His teaching role is the import's to remove; his référent role is not.
    assert job.report["counts"]["departures"] == 1
    assert list(referent.assignments.values_list("role", flat=True)) == [Role.REFERENT]
    referent.refresh_from_db()
    assert referent.state == AccountState.ACTIVE


# --- Audit and command --------------------------------------------------------------------


def test_each_run_is_audited(demo: None) -> None:
    run(siecle(*PUPILS), dry_run=False)
    stages = list(
        AuditEvent.objects.filter(event_type="import.run")
        .order_by("pk")
        .values_list("data__dry_run", "data__stage")
    )
    assert stages == [(True, "demande"), (True, "termine"), (False, "demande"), (False, "termine")]
    finished = AuditEvent.objects.filter(event_type="import.run").order_by("pk").last()
    assert finished is not None
    assert finished.data["counts"]["creations"] == 7


def test_command_imports_the_demo_sample(demo: None, capsys: pytest.CaptureFixture[str]) -> None:
    call_command("import_accounts", str(SAMPLES / "siecle-exemple.csv"), kind="siecle", apply=True)
    out = capsys.readouterr().out
    assert "10 / 10 lignes" in out
    assert imported().filter(import_key__startswith="siecle-eleve:").count() == 10
    assert Guardianship.objects.filter(pupil__import_key="siecle-eleve:9100001").count() == 2


# --- Pages --------------------------------------------------------------------------------


def upload(data: bytes, kind: str = ImportKind.SIECLE) -> dict[str, Any]:
    return {
        "kind": kind,
        "school_year": current_school_year(),
        "file": SimpleUploadedFile("eleves.csv", data, content_type="text/csv"),
    }


def test_dsi_runs_a_dry_run_then_applies_it(
    client: Any, dsi: User, django_capture_on_commit_callbacks: Any
) -> None:
    client.force_login(dsi)
    assert client.get(reverse("provisioning:imports")).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("provisioning:imports"), upload(siecle(*PUPILS)))
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("provisioning:import", args=[job.pk])
    page = client.get(response.url).content.decode()
    assert "Simulation terminée sans erreur" in page
    assert "Appliquer cet import" in page
    assert not imported().exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("provisioning:import_apply", args=[job.pk]))
    run_job = ImportJob.objects.get(dry_run=False)
    assert response.url == reverse("provisioning:import", args=[run_job.pk])
    assert "Import terminé." in client.get(response.url).content.decode()
    assert imported().count() == 7
    assert AuditEvent.objects.filter(event_type="import.run", actor=dsi).exists()


def test_upload_with_wrong_columns_is_refused_in_french(client: Any, dsi: User) -> None:
    client.force_login(dsi)
    response = client.post(reverse("provisioning:imports"), upload(sts(), kind=ImportKind.SIECLE))
    assert response.status_code == 400
    assert "Colonnes manquantes" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_upload_too_large_is_refused(client: Any, dsi: User, settings: Any) -> None:
    settings.IMPORT_MAX_FILE_MB = 0
    client.force_login(dsi)
    response = client.post(reverse("provisioning:imports"), upload(siecle(*PUPILS)))
    assert response.status_code == 400
    assert "taille maximale" in response.content.decode()


def test_job_page_polls_progress_while_running(client: Any, dsi: User) -> None:
    job = ImportJob.objects.create(
        kind=ImportKind.SIECLE,
        school_year=current_school_year(),
        file_name="eleves.csv",
        file_path="imports/x.csv",
        state=JobState.RUNNING,
        total_rows=200000,
        processed_rows=12000,
        report={"phase": "ecriture"},
    )
    client.force_login(dsi)
    response = client.get(reverse("provisioning:import", args=[job.pk]), HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert "12\u00a0000 / 200\u00a0000 lignes" in page
    assert 'hx-trigger="every 2s"' in page
    assert '<progress id="progression-import" max="200000" value="12000"' in page
    assert "<html" not in page


def test_apply_refused_after_a_dry_run_with_errors(client: Any, dsi: User) -> None:
    job = run(siecle("0259999Z;5000009;Martin;Paul;01/01/2013;4e A;;;;;;;;"), dry_run=True)
    client.force_login(dsi)
    response = client.post(reverse("provisioning:import_apply", args=[job.pk]))
    assert response.status_code == 302
    assert not ImportJob.objects.filter(dry_run=False).exists()


@pytest.mark.parametrize("person", ["referent", "teacher"])
def test_imports_are_refused_to_non_dsi(client: Any, person: str, request: Any) -> None:
    client.force_login(request.getfixturevalue(person))
    assert client.get(reverse("provisioning:imports")).status_code == 403
    response = client.post(reverse("provisioning:imports"), upload(siecle(*PUPILS)))
    assert response.status_code == 403
    assert not ImportJob.objects.exists()


def test_anonymous_is_sent_to_sign_in(client: Any, demo: None) -> None:
    response = client.get(reverse("provisioning:imports"))
    assert response.status_code == 302
    assert "/connexion/" in response.url


def test_stalled_import_is_resumed_from_its_page(
    client: Any, dsi: User, django_capture_on_commit_callbacks: Any
) -> None:
    dry = run(siecle(*PUPILS), dry_run=True)
    job = import_actions.apply_import_job(acting_user=None, job=dry, enqueue=False)
    # The worker died ten minutes ago, in the middle of the writes.
    stale = (timezone.now() - datetime.timedelta(minutes=10)).isoformat()
    ImportJob.objects.filter(pk=job.pk).update(
        state=JobState.RUNNING, report={"heartbeat": stale, "phase": "ecriture"}
    )
    client.force_login(dsi)
    assert (
        "Reprendre l'import"
        in client.get(reverse("provisioning:import", args=[job.pk])).content.decode()
    )
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("provisioning:import_resume", args=[job.pk]))
    job.refresh_from_db()
    assert job.state == JobState.DONE
    assert imported().count() == 7


def test_running_import_cannot_be_resumed_twice(client: Any, dsi: User) -> None:
    dry = run(siecle(*PUPILS), dry_run=True)
    job = import_actions.apply_import_job(acting_user=None, job=dry, enqueue=False)
    ImportJob.objects.filter(pk=job.pk).update(
        state=JobState.RUNNING, report={"heartbeat": timezone.now().isoformat()}
    )
    client.force_login(dsi)
    page = client.get(reverse("provisioning:import", args=[job.pk])).content.decode()
    assert "Reprendre l'import" not in page
    client.post(reverse("provisioning:import_resume", args=[job.pk]))
    job.refresh_from_db()
    assert job.state == JobState.RUNNING
    assert not imported().exists()
