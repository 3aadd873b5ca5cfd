"""The front matter of a guide file: validated, a bad file reported and left out (no 500)."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from convergence.help import guides
from convergence.help.checks import check_guides


def test_valid_front_matter_is_read():
    guide = guides.parse(
        "---\ntitle: T\nsummary: S\nprofiles: [parent]\nerror_codes: [conv-429]\n"
        "last_reviewed: 2026-12-05\neasy_read: true\nvariant_of: autre\norder: 3\n---\nCorps",
        slug="mon-guide",
    )
    assert guide.profiles == ("parent",)
    assert guide.error_codes == ("CONV-429",)
    assert guide.easy_read and guide.variant_of == "autre" and guide.order == 3
    assert guide.body.strip() == "Corps"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("pas d'en-tête", "En-tête absent"),
        ("---\ntitle: [\n---\n", "En-tête YAML illisible"),
        ("---\nsummary: S\nlast_reviewed: 2026-12-05\n---\n", "« title » est obligatoire"),
        ("---\ntitle: T\nsummary: S\n---\n", "« last_reviewed » est obligatoire"),
        (
            "---\ntitle: T\nsummary: S\nlast_reviewed: 2026-12-05\nprofiles: [prof]\n---\n",
            "Profils inconnus : prof",
        ),
        (
            "---\ntitle: T\nsummary: S\nlast_reviewed: 2026-12-05\nerror_codes: [CONV-999]\n---\n",
            "Codes d'erreur inconnus : CONV-999",
        ),
        (
            "---\ntitle: T\nsummary: S\nlast_reviewed: 2026-12-05\ncouleur: x\n---\n",
            "Clés inconnues",
        ),
    ],
)
def test_invalid_front_matter_says_why(text, problem):
    with pytest.raises(guides.InvalidGuide) as raised:
        guides.parse(text, slug="mon-guide")
    assert any(problem in reason for reason in raised.value.problems)


def test_bad_file_is_left_out_and_reported_not_a_500(client, db, guides_dir, write_guide, capsys):
    write_guide("bon", title="Bon guide")
    (guides_dir / "casse.md").write_text("---\ntitle: [\n---\n", encoding="utf-8")
    assert client.get("/aide/").status_code == 200
    assert client.get("/aide/guides/casse/").status_code == 404
    messages = check_guides()
    assert [message.id for message in messages] == ["help.W001"]
    assert "casse.md" in messages[0].msg
    call_command("index_guides")
    assert "casse.md" in capsys.readouterr().err
