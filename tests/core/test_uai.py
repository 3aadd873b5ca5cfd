"""UAI codes: shape, check letter, department, and the establishment's own consistency."""

from __future__ import annotations

import pytest
import yaml
from django.core.exceptions import ValidationError

from convergence.core.models import Department, Establishment
from convergence.core.uai import check_letter, department_code_of, validate_uai
from tests.conftest import DEMO_BLUEPRINT


def demo_uais() -> list[str]:
    data = yaml.safe_load(DEMO_BLUEPRINT.read_text(encoding="utf-8"))
    return [str(item["uai"]) for item in data["establishments"]]


@pytest.mark.parametrize("uai", demo_uais())
def test_every_uai_of_the_demo_is_accepted(uai):
    validate_uai(uai)


@pytest.mark.parametrize("typed", ["0250013d", " 0250013D ", "0250 013D", "0390012b"])
def test_uai_typed_in_lower_case_or_with_spaces_is_accepted(typed):
    validate_uai(typed)


def test_check_letter_of_collège_victor_hugo_is_d():
    assert check_letter("0250013") == "D"


def test_check_letter_alphabet_skips_i_o_and_q():
    letters = {check_letter(f"{n:07d}") for n in range(23)}
    assert letters.isdisjoint({"I", "O", "Q"})
    assert len(letters) == 23


def test_wrong_check_letter_is_refused_naming_the_expected_letter():
    with pytest.raises(ValidationError) as caught:
        validate_uai("0250013E")
    assert caught.value.code == "uai_check_letter"
    message = caught.value.messages[0]
    assert "0250013E" in message
    assert "la lettre attendue est D" in message


def test_wrong_check_letter_message_is_french():
    with pytest.raises(ValidationError) as caught:
        validate_uai("0390012C")
    assert caught.value.messages == [
        "La lettre clé du code UAI 0390012C est incorrecte : pour 0390012, "
        "la lettre attendue est B."
    ]


@pytest.mark.parametrize(
    "value",
    ["", "0250013", "025001D", "02500130", "A250013D", "0250013DD", "0250-13D", "0250013é"],
)
def test_badly_shaped_uai_is_refused_with_the_expected_shape(value):
    with pytest.raises(ValidationError) as caught:
        validate_uai(value)
    assert caught.value.code == "uai_format"
    assert "7 chiffres suivis d'une lettre" in caught.value.messages[0]


@pytest.mark.parametrize(
    ("uai", "department"),
    [
        ("0250013D", "25"),
        ("0390012B", "39"),
        ("0700009E", "70"),
        ("0900003P", "90"),
        ("6200001A", "2A"),
        ("7200001A", "2B"),
        ("9740001A", "974"),
        (" 0250013d", "25"),
    ],
)
def test_department_code_of_reads_the_prefix(uai, department):
    assert department_code_of(uai) == department


@pytest.fixture
def doubs_and_jura(db):
    return (
        Department.objects.create(code="25", name="Doubs"),
        Department.objects.create(code="39", name="Jura"),
    )


def test_establishment_in_its_own_department_is_valid(doubs_and_jura):
    _doubs, jura = doubs_and_jura
    establishment = Establishment(
        uai="0390012B", name="Lycée Charles Nodier", kind="lycee", department=jura
    )
    establishment.full_clean()


def test_establishment_refuses_uai_of_another_department(doubs_and_jura):
    doubs, _jura = doubs_and_jura
    establishment = Establishment(
        uai="0390012B", name="Lycée Charles Nodier", kind="lycee", department=doubs
    )
    with pytest.raises(ValidationError) as caught:
        establishment.full_clean()
    assert "department" in caught.value.message_dict
    assert caught.value.message_dict["department"] == [
        "Le code UAI 0390012B désigne le département 39, pas le 25."
    ]


def test_establishment_refuses_uai_with_wrong_check_letter(doubs_and_jura):
    doubs, _jura = doubs_and_jura
    establishment = Establishment(
        uai="0250013E", name="Collège Victor Hugo", kind="college", department=doubs
    )
    with pytest.raises(ValidationError) as caught:
        establishment.full_clean()
    assert "uai" in caught.value.message_dict
