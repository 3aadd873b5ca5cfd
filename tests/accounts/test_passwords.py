"""The password policy: CNIL forms accepted, common and personal passwords refused."""

from __future__ import annotations

import hashlib
import math

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from convergence.accounts import passwords
from convergence.accounts.models import Assignment, Role, User
from convergence.accounts.passwords import (
    BASIC_POLICY,
    MAX_LENGTH,
    STAFF_POLICY,
    ProfilePasswordValidator,
    check_password,
    estimate_bits,
    normalise,
    policy_for,
    strength,
)
from convergence.core.models import Department, Establishment, EstablishmentKind

COMMON_MESSAGE = "fait partie des plus courants"
PERSONAL_MESSAGE = "Il ne doit pas reprendre votre identifiant ni votre nom."

RANDOM_12_FOUR_CLASSES = "Kp7#vR2!mQx9"
RANDOM_10_THREE_CLASSES = "Kp7vR2mQx9"
RANDOM_14_THREE_CLASSES = "Kp7vR2mQx9Tb4W"
# Accents and spaces, seven words of three letters or more ("du" does not count).
ACCENTED_PASSPHRASE = "Sept éléphants roses dansent près du kiosque fleuri"
# Every word is in the common list, so only the passphrase estimate can carry these.
COMMON_WORDS = ["chat", "chien", "lapin", "poney", "tortue", "panda", "dauphin"]


def pseudo_random(length: int) -> str:
    """A fixed, unpatterned password of any length (hex digests, mixed case)."""
    hexes = "".join(hashlib.sha256(str(i).encode()).hexdigest() for i in range(length // 32 + 1))
    return "".join(c.upper() if i % 3 == 0 else c for i, c in enumerate(hexes[:length]))


def jean_dupont() -> User:
    return User(
        login="jdupont3",
        first_name="Jean",
        last_name="Dupont",
        email="jean.dupont@ac-besancon.fr",
    )


@pytest.mark.parametrize(
    "password", ["azerty1234", "soleil", "doudou", "motdepasse", "Motdepasse2024!", "P@ssw0rd"]
)
@pytest.mark.parametrize("policy", [STAFF_POLICY, BASIC_POLICY], ids=["staff", "basic"])
def test_common_passwords_are_refused_for_everybody(password, policy):
    messages = check_password(password, policy=policy)

    assert any(COMMON_MESSAGE in message for message in messages)


def test_common_password_check_undoes_leetspeak_accents_and_separators():
    for password in ["4zerty", "S0l3il", "Mot de passe", "CHOUCHOU!!", "Bésançon25"]:
        assert any(COMMON_MESSAGE in m for m in check_password(password)), password


def test_twelve_characters_of_four_classes_are_enough_for_staff():
    assert check_password(RANDOM_12_FOUR_CLASSES, policy=STAFF_POLICY) == []


def test_ten_characters_of_three_classes_suit_a_pupil_but_not_staff():
    assert check_password(RANDOM_10_THREE_CLASSES, policy=STAFF_POLICY) != []
    assert check_password(RANDOM_10_THREE_CLASSES, policy=BASIC_POLICY) == []


def test_fourteen_characters_without_specials_are_enough_for_staff():
    assert check_password(RANDOM_14_THREE_CLASSES, policy=STAFF_POLICY) == []


def test_seven_word_accented_passphrase_is_enough_for_staff():
    assert check_password(ACCENTED_PASSPHRASE, policy=STAFF_POLICY) == []


def test_seven_common_words_pass_for_staff_through_the_passphrase_estimate():
    seven = " ".join(COMMON_WORDS)
    six = " ".join(COMMON_WORDS[:6])

    assert estimate_bits(seven) == pytest.approx(7 * passwords.WORD_BITS)
    assert check_password(seven, policy=STAFF_POLICY) == []
    assert check_password(six, policy=STAFF_POLICY) != []


def test_five_words_are_enough_for_a_pupil_but_not_for_staff():
    five = "-".join(COMMON_WORDS[:5])

    assert check_password(five, policy=BASIC_POLICY) == []
    assert check_password(five, policy=STAFF_POLICY) != []
    assert check_password("-".join(COMMON_WORDS[:4]), policy=BASIC_POLICY) != []


@pytest.mark.parametrize("length", [64, 200, MAX_LENGTH])
def test_long_passwords_are_accepted(length):
    password = pseudo_random(length)

    assert len(password) == length
    assert check_password(password, policy=STAFF_POLICY) == []


def test_a_password_beyond_the_hashing_bound_is_refused_clearly():
    messages = check_password(pseudo_random(MAX_LENGTH + 1), policy=BASIC_POLICY)

    assert messages == ["Ce mot de passe est trop long : 4096 caractères au maximum."]


def test_password_built_from_the_login_is_refused():
    messages = check_password("jdupont3" + "2024!", user=jean_dupont(), policy=BASIC_POLICY)

    assert PERSONAL_MESSAGE in messages


@pytest.mark.parametrize(
    "password", ["JeanDupont", "jean.dupont", "Jean.Dupont1975!", "DUP0NT-J3an"]
)
def test_password_made_of_first_and_last_name_is_refused(password):
    messages = check_password(password, user=jean_dupont(), policy=BASIC_POLICY)

    assert PERSONAL_MESSAGE in messages


def test_a_name_inside_a_strong_password_is_tolerated():
    password = "Jean" + RANDOM_14_THREE_CLASSES + "#x"

    assert check_password(password, user=jean_dupont(), policy=STAFF_POLICY) == []


def test_the_academie_name_counts_as_one_character():
    bare = estimate_bits("Zq9!Besancon")
    with_context = estimate_bits("Zq9!Besancon", context_words=["Académie de Besançon"])

    # "besancon" is already common, so both read it as one character: 5 of 95 symbols.
    assert with_context == bare == pytest.approx(5 * math.log2(95))
    assert estimate_bits("Zq9!Xw7$Tr4&", context_words=["Académie de Besançon"]) > 78


def test_predictable_parts_count_as_one_character():
    one_lower = math.log2(26)

    assert estimate_bits("aaaaaaaaaaaaaaaa") == pytest.approx(one_lower)
    assert estimate_bits("abcdefghijklmnop") == pytest.approx(one_lower)
    assert estimate_bits("poiuytreza") == pytest.approx(one_lower)
    assert estimate_bits("qwertyuiop") == pytest.approx(one_lower)
    assert estimate_bits("98765432") == pytest.approx(math.log2(10))
    # A repeated block adds one character, not its length.
    assert estimate_bits("Kp7#Kp7#Kp7#") == pytest.approx(5 * math.log2(95))
    assert estimate_bits("Kp7#Xw2!") == pytest.approx(8 * math.log2(95))


def test_unicode_is_normalised_to_nfc_before_any_check():
    composed = "Éléphant rose à pois"
    decomposed = "E\u0301le\u0301phant rose a\u0300 pois"

    assert normalise(decomposed) == composed
    assert estimate_bits(decomposed) == estimate_bits(composed)
    assert check_password(decomposed, policy=STAFF_POLICY) == check_password(
        composed, policy=STAFF_POLICY
    )


def test_advice_is_concrete():
    messages = check_password(RANDOM_10_THREE_CLASSES, policy=STAFF_POLICY)

    assert messages == [
        "Ce mot de passe est trop facile à deviner. "
        "Ajoutez 4 caractères, ou 2 dont un caractère spécial.",
        "Une phrase de passe de 7 mots fonctionne aussi : des mots sans lien entre eux, "
        "séparés par des espaces.",
    ]
    assert "Ajoutez 2 mots à votre phrase de passe." in check_password(
        " ".join(COMMON_WORDS[:5]), policy=STAFF_POLICY
    )
    assert any("de 5 mots" in m for m in check_password("Kp7vR2", policy=BASIC_POLICY))


def test_advice_can_name_the_missing_classes():
    lowercase_only = check_password("kpzvrgmqxht", policy=STAFF_POLICY)
    without_specials = check_password("kp7vR2mqx9t", policy=STAFF_POLICY)

    assert lowercase_only[0].endswith(
        "Ajoutez 6 caractères ou une majuscule et un caractère spécial."
    )
    assert without_specials[0].endswith("Ajoutez 3 caractères ou un caractère spécial.")


def test_policies_follow_the_cnil_forms():
    assert STAFF_POLICY.min_bits == 80
    assert BASIC_POLICY.min_bits == 50
    # The CNIL's rounded forms, measured: 12 of 95 symbols, 8 of 62 symbols.
    assert STAFF_POLICY.required_bits == pytest.approx(12 * math.log2(95))
    assert BASIC_POLICY.required_bits == pytest.approx(8 * math.log2(62))
    assert check_password("Kp7vR2mQ", policy=BASIC_POLICY) == []
    assert check_password("Kp7vR2m", policy=BASIC_POLICY) != []


@pytest.fixture
def establishment(db: None) -> Establishment:
    department = Department.objects.create(code="25", name="Doubs")
    return Establishment.objects.create(
        uai="0250007X",
        name="Collège Victor Hugo",
        kind=EstablishmentKind.COLLEGE,
        department=department,
        city="Besançon",
    )


def assigned(login: str, role: Role, establishment: Establishment) -> User:
    user = User.objects.create_user(login, first_name="Prénom", last_name="Nom")
    Assignment.objects.create(
        user=user, establishment=establishment, role=role, school_year="2026-2027"
    )
    return User.objects.get(pk=user.pk)


@pytest.mark.django_db
def test_policy_for_a_teacher_is_staff(establishment, django_assert_max_num_queries):
    teacher = assigned("mmartin", Role.ENSEIGNANT, establishment)

    with django_assert_max_num_queries(1):
        assert policy_for(teacher) is STAFF_POLICY


@pytest.mark.django_db
def test_policy_for_a_pupil_is_basic(establishment, django_assert_max_num_queries):
    pupil = assigned("lmartin2", Role.ELEVE, establishment)

    with django_assert_max_num_queries(1):
        assert policy_for(pupil) is BASIC_POLICY


@pytest.mark.django_db
def test_policy_for_a_pupil_who_also_works_there_is_staff(establishment):
    person = assigned("ldurand", Role.ELEVE, establishment)
    Assignment.objects.create(
        user=person, establishment=establishment, role=Role.AGENT, school_year="2025-2026"
    )

    assert policy_for(person) is STAFF_POLICY


def test_policy_for_unsaved_and_missing_users():
    # No django_db mark: a single query would raise, so these decide without the database.
    assert policy_for(User(login="nouveau")) is BASIC_POLICY
    assert policy_for(User(login="admin", is_staff=True)) is STAFF_POLICY
    assert policy_for(User(login="root", is_superuser=True)) is STAFF_POLICY
    assert policy_for(None) is STAFF_POLICY
    assert policy_for(AnonymousUser()) is STAFF_POLICY  # type: ignore[arg-type]


def test_strength_labels_increase_with_better_passwords():
    ladder = [
        "soleil",
        "Kp7vR2",
        RANDOM_10_THREE_CLASSES,
        RANDOM_12_FOUR_CLASSES,
        RANDOM_12_FOUR_CLASSES + "-Tb4W&zL8",
    ]

    verdicts = [strength(password) for password in ladder]

    assert [v.score for v in verdicts] == [0, 1, 2, 3, 4]
    assert [v.label for v in verdicts] == ["Très faible", "Faible", "Moyen", "Bon", "Excellent"]
    assert [v.acceptable for v in verdicts] == [False, False, False, True, True]
    assert verdicts[0].advice and not verdicts[3].advice
    assert [v.bits for v in verdicts[1:]] == sorted(v.bits for v in verdicts[1:])


@pytest.mark.django_db
def test_strength_uses_the_policy_of_the_user(establishment):
    pupil = assigned("lmartin2", Role.ELEVE, establishment)

    assert strength(RANDOM_10_THREE_CLASSES, user=pupil).acceptable
    assert not strength(RANDOM_10_THREE_CLASSES).acceptable


def test_validator_raises_french_messages():
    validator = ProfilePasswordValidator()

    with pytest.raises(ValidationError) as caught:
        validator.validate("jdupont32024!", user=jean_dupont())

    assert PERSONAL_MESSAGE in caught.value.messages
    assert {error.code for error in caught.value.error_list} == {"password_policy"}
    validator.validate(RANDOM_10_THREE_CLASSES, user=jean_dupont())


def test_validator_is_the_one_django_uses():
    with pytest.raises(ValidationError) as caught:
        validate_password("Motdepasse2024!", user=jean_dupont())

    assert any(COMMON_MESSAGE in message for message in caught.value.messages)


def test_validator_help_text_describes_both_policies():
    text = ProfilePasswordValidator().get_help_text()

    assert "12 caractères" in text
    assert "7 mots" in text
    assert "Élèves et parents" in text
    assert "5 mots" in text


def test_common_password_list_is_clean():
    words = passwords.COMMON_PASSWORDS_FR.read_text(encoding="utf-8").split("\n")
    words = [word for word in words if word]

    assert len(words) >= 300
    assert len(set(words)) == len(words)
    assert all(word == word.lower() and word.isascii() and word.isalnum() for word in words)
    assert {"azerty", "soleil", "doudou", "besancon", "jura", "lycee"} <= set(words)
    assert "password" in passwords.common_passwords()
