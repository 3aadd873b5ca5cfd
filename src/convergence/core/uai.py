"""UAI codes (Unité administrative immatriculée): seven characters and a check letter.

The letter is the number formed by the first seven characters, modulo 23, read in an alphabet
of 23 letters without I, O and Q. Corsica's departments 2A and 2B are written 620 and 720.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

CHECK_ALPHABET = "ABCDEFGHJKLMNPRSTUVWXYZ"
UAI_PATTERN = re.compile(r"^(\d{7})([A-Z])$")


def check_letter(first_seven: str) -> str:
    """Return the check letter for the seven leading digits of a UAI."""
    return CHECK_ALPHABET[int(first_seven) % 23]


def normalise_uai(value: str) -> str:
    return value.strip().upper().replace(" ", "")


def validate_uai(value: str) -> None:
    """Raise a French ValidationError unless ``value`` is a UAI with the right check letter."""
    uai = normalise_uai(value)
    match = UAI_PATTERN.match(uai)
    if not match:
        raise ValidationError(
            _("Un code UAI s'écrit avec 7 chiffres suivis d'une lettre, par exemple 0250007X."),
            code="uai_format",
        )
    expected = check_letter(match.group(1))
    if match.group(2) != expected:
        raise ValidationError(
            _(
                "La lettre clé du code UAI %(uai)s est incorrecte : pour %(digits)s, "
                "la lettre attendue est %(expected)s."
            )
            % {"uai": uai, "digits": match.group(1), "expected": expected},
            code="uai_check_letter",
        )


def department_code_of(uai: str) -> str:
    """The department a UAI belongs to: '025' → '25', '620' → '2A', '974' → '974'."""
    prefix = normalise_uai(uai)[:3]
    if prefix == "620":
        return "2A"
    if prefix == "720":
        return "2B"
    if prefix.startswith("97"):
        return prefix
    return prefix[1:]
