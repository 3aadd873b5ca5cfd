"""Activation letters: who gets one, the PDF (one page each), batches with progress, purge."""

from __future__ import annotations

import base64
import datetime
import io
import re
import stat
import zlib
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from convergence.accounts import actions, codes, events
from convergence.accounts.actions.accounts import RoleGrant
from convergence.accounts.models import AccountState, OneTimeCode, OneTimeCodePurpose, Role, User
from convergence.audit.models import AuditEvent
from convergence.core.models import Establishment
from convergence.provisioning import actions as provisioning_actions
from convergence.provisioning import letters
from convergence.provisioning.models import JobState, LetterAudience, LetterBatch

PAGE = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")
STREAM = re.compile(rb"stream\r?\n(.*?)endstream", re.DOTALL)


def page_count(pdf: bytes) -> int:
    return len(PAGE.findall(pdf))


def pdf_text(pdf: bytes) -> str:
    """The text drawn in a PDF made by reportlab with its standard fonts (literal strings)."""
    chunks = []
    for raw in STREAM.findall(pdf):
        data = raw.strip()
        if data.endswith(b"~>"):
            data = base64.a85decode(data, adobe=True)
        try:
            chunks.append(zlib.decompress(data))
        except zlib.error:
            chunks.append(data)
    content = b"\n".join(chunks).decode("latin-1")
    strings = re.findall(r"\(((?:[^()\\]|\\[0-7]{1,3}|\\.)*)\)\s*Tj", content)
    return " ".join(_unescape(string) for string in strings)


def _unescape(literal: str) -> str:
    """A PDF literal string's text: octal escapes are WinAnsi (cp1252) bytes."""
    raw = re.sub(r"\\([0-7]{1,3})", lambda m: chr(int(m.group(1), 8)), literal)
    raw = re.sub(r"\\(.)", r"\1", raw)
    return raw.encode("latin-1").decode("cp1252")


@pytest.fixture(autouse=True)
def _immediate_tasks(immediate_tasks: None, settings: Any, tmp_path: Path) -> None:
    settings.VAR_DIR = tmp_path


@pytest.fixture
def college(demo: None) -> Establishment:
    return Establishment.objects.get(uai="0250013D")


def new_pupil(establishment: Establishment, first_name: str, division: str = "6e A") -> User:
    return actions.create_account(
        acting_user=None,
        first_name=first_name,
        last_name="Durand",
        birth_date=datetime.date(2014, 1, 1),
        roles=[RoleGrant(establishment, Role.ELEVE, division)],
    )


def run_batch(
    referent: User,
    establishment: Establishment,
    audience: str,
    capture: Any,
    division: str = "",
) -> LetterBatch:
    with capture(execute=True):
        batch = provisioning_actions.request_letter_batch(
            acting_user=referent,
            establishment=establishment,
            audience=audience,
            division=division,
        )
    batch.refresh_from_db()
    return batch


def batch_pdf(batch: LetterBatch) -> bytes:
    path = letters.batch_file(batch)
    assert path is not None
    return path.read_bytes()


def test_pupil_batch_prints_invited_pupils_only(
    referent: User,
    college: Establishment,
    invited_pupil: User,
    pupil: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    batch = run_batch(referent, college, LetterAudience.ELEVES, django_capture_on_commit_callbacks)
    assert (batch.state, batch.total, batch.done) == (JobState.DONE, 1, 1)
    pdf = batch_pdf(batch)
    assert pdf.startswith(b"%PDF")
    assert page_count(pdf) == 1
    text = pdf_text(pdf)
    assert "hlambert" in text and "Hugo Lambert" in text
    assert pupil.login not in text
    assert "Collège Victor Hugo" in text


def test_letter_shows_the_code_that_activates_the_account(
    referent: User,
    college: Establishment,
    invited_pupil: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    batch = run_batch(referent, college, LetterAudience.ELEVES, django_capture_on_commit_callbacks)
    printed = re.search(
        r"[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}", pdf_text(batch_pdf(batch))
    )
    assert printed
    found = codes.find_code(invited_pupil, OneTimeCodePurpose.ACTIVATION, printed.group(0))
    assert found is not None


def test_batch_file_is_private(
    referent: User,
    college: Establishment,
    invited_pupil: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    batch = run_batch(referent, college, LetterAudience.ELEVES, django_capture_on_commit_callbacks)
    path = letters.batch_file(batch)
    assert path is not None
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert batch.file_path == f"letters/{batch.pk}.pdf"


def test_batch_has_one_page_per_person_and_counts_progress(
    referent: User,
    college: Establishment,
    invited_pupil: User,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    for name in ("Ada", "Bob", "Cléo"):
        new_pupil(college, name)
    monkeypatch.setattr(letters, "CHUNK_SIZE", 2)
    seen: list[tuple[int, int]] = []
    draw = letters.LetterWriter.draw

    def spying_draw(self: letters.LetterWriter, letter: letters.Letter) -> None:
        batch = LetterBatch.objects.get()
        seen.append((batch.done, batch.total))
        draw(self, letter)

    monkeypatch.setattr(letters.LetterWriter, "draw", spying_draw)
    batch = run_batch(referent, college, LetterAudience.ELEVES, django_capture_on_commit_callbacks)
    assert page_count(batch_pdf(batch)) == 4
    assert seen == [(0, 4), (0, 4), (2, 4), (2, 4)]
    assert (batch.done, batch.total) == (4, 4)


def test_class_batch_prints_that_class_only(
    referent: User,
    college: Establishment,
    invited_pupil: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    other = new_pupil(college, "Zoé", division="5e C")
    batch = run_batch(
        referent, college, LetterAudience.ELEVES, django_capture_on_commit_callbacks, "5e C"
    )
    text = pdf_text(batch_pdf(batch))
    assert batch.total == 1
    assert other.login in text and "hlambert" not in text


def test_parent_letter_names_the_children(
    referent: User, college: Establishment, parent: User, django_capture_on_commit_callbacks: Any
) -> None:
    User.objects.filter(pk=parent.pk).update(state=AccountState.INVITED)
    batch = run_batch(referent, college, LetterAudience.PARENTS, django_capture_on_commit_callbacks)
    text = pdf_text(batch_pdf(batch))
    assert batch.total == 1
    assert parent.login in text
    assert "Léa Martin" in text
    assert "Yanis Martin" in text
    assert "Responsable l" in text


def test_new_letters_kill_older_codes(
    referent: User,
    college: Establishment,
    invited_pupil: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    old, _expires = actions.issue_activation_code(acting_user=referent, user=invited_pupil)
    run_batch(referent, college, LetterAudience.ELEVES, django_capture_on_commit_callbacks)
    assert codes.find_code(invited_pupil, OneTimeCodePurpose.ACTIVATION, old) is None
    assert OneTimeCode.objects.usable().filter(user=invited_pupil).count() == 1


def test_each_letter_is_audited(
    referent: User,
    college: Establishment,
    invited_pupil: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    batch = run_batch(referent, college, LetterAudience.ELEVES, django_capture_on_commit_callbacks)
    event = AuditEvent.objects.of_type(events.ACTIVATION_LETTER_ISSUED).get()
    assert (event.actor, event.subject) == (referent, invited_pupil)
    assert event.data["batch"] == batch.pk


def test_referent_batch_never_prints_staff(
    referent: User, college: Establishment, django_capture_on_commit_callbacks: Any
) -> None:
    actions.create_account(
        acting_user=None,
        first_name="Marc",
        last_name="Dumas",
        roles=[RoleGrant(college, Role.ENSEIGNANT)],
    )
    batch = run_batch(
        referent, college, LetterAudience.PERSONNELS, django_capture_on_commit_callbacks
    )
    assert (batch.state, batch.total) == (JobState.DONE, 0)
    assert page_count(batch_pdf(batch)) == 1  # "Aucune lettre à imprimer."


def test_dsi_batch_prints_invited_staff(
    dsi: User, college: Establishment, django_capture_on_commit_callbacks: Any
) -> None:
    marc = actions.create_account(
        acting_user=None,
        first_name="Marc",
        last_name="Dumas",
        roles=[RoleGrant(college, Role.ENSEIGNANT)],
    )
    batch = run_batch(dsi, college, LetterAudience.PERSONNELS, django_capture_on_commit_callbacks)
    assert batch.total == 1
    assert marc.login in pdf_text(batch_pdf(batch))


def test_failed_batch_leaves_no_file(
    referent: User,
    college: Establishment,
    invited_pupil: User,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    def broken(self: Any, letter: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(letters.LetterWriter, "draw", broken)
    batch = run_batch(referent, college, LetterAudience.ELEVES, django_capture_on_commit_callbacks)
    assert batch.state == JobState.FAILED
    assert "a échoué" in batch.error
    assert batch.file_path == ""
    assert not list(letters.letters_dir().iterdir())


def test_a_batch_runs_once(
    referent: User,
    college: Establishment,
    invited_pupil: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    batch = run_batch(referent, college, LetterAudience.ELEVES, django_capture_on_commit_callbacks)
    letters.build_letter_batch(batch.pk)
    assert AuditEvent.objects.of_type(events.ACTIVATION_LETTER_ISSUED).count() == 1


def test_stale_letter_files_are_purged_after_a_day(
    referent: User,
    college: Establishment,
    invited_pupil: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    batch = run_batch(referent, college, LetterAudience.ELEVES, django_capture_on_commit_callbacks)
    path = letters.batch_file(batch)
    assert path is not None
    assert letters.purge_stale_letter_files() == 0
    assert path.exists()
    tomorrow = timezone.now() + datetime.timedelta(hours=25)
    assert letters.purge_stale_letter_files(now=tomorrow) == 1
    assert not path.exists()
    batch.refresh_from_db()
    assert batch.file_path == ""


def test_activation_url_carries_the_login_never_the_code(settings: Any) -> None:
    settings.HTTPS = True
    url = letters.activation_url("hlambert", host="portail.ac-besancon.fr")
    assert url == "https://portail.ac-besancon.fr/activation/?identifiant=hlambert"


def test_single_letter_is_one_page(referent: User, invited_pupil: User) -> None:
    pdf = provisioning_actions.reprint_activation_letter(acting_user=referent, user=invited_pupil)
    assert page_count(pdf) == 1
    assert "hlambert" in pdf_text(pdf)


def test_render_many_letters_gives_one_page_each(demo: None) -> None:
    letter = letters.Letter(
        full_name="Jeanne Œillet",
        login="joeillet",
        code="ABCD-EFGH-JKLM",
        expires_at=timezone.now(),
        establishment="Collège Victor Hugo",
        establishment_city="Besançon",
        uai="0250013D",
        audience=LetterAudience.ELEVES,
        division="3e A",
    )
    out = io.BytesIO()
    pages = letters.render_letters([letter] * 3, out, host="portail.test", title="t")
    assert pages == 3
    assert page_count(out.getvalue()) == 3


def test_qr_code_is_drawn_module_for_module() -> None:
    matrix = letters.qr_matrix("https://portail.ac-besancon.fr/activation/?identifiant=hlambert")
    assert len(matrix) == len(matrix[0]) and not any(matrix[0])  # quiet zone on top
    rebuilt = [[False] * len(row) for row in matrix]
    for row, start, end in letters.dark_runs(matrix):
        assert all(matrix[row][start:end]) and start < end
        rebuilt[row][start:end] = [True] * (end - start)
    assert rebuilt == matrix
