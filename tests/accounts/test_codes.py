"""One-time codes: shapes, digests only, single use, expiry, five attempts, invalidation."""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
from django.utils import timezone

from convergence.accounts import codes
from convergence.accounts.models import OneTimeCode, OneTimeCodePurpose

ACTIVATION = OneTimeCodePurpose.ACTIVATION
DAY = datetime.timedelta(days=1)


def test_letter_codes_are_grouped_and_avoid_look_alikes() -> None:
    code = codes.generate(codes.CodeKind.LETTERS)
    assert re.fullmatch(r"[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}", code)


def test_digit_codes_have_six_digits() -> None:
    assert re.fullmatch(r"[0-9]{6}", codes.generate(codes.CodeKind.DIGITS))


def test_tokens_are_long_and_url_safe() -> None:
    token = codes.generate(codes.CodeKind.TOKEN)
    assert re.fullmatch(r"[a-z2-7]{48}", token)


def test_two_codes_differ() -> None:
    assert codes.generate(codes.CodeKind.LETTERS) != codes.generate(codes.CodeKind.LETTERS)


def test_normalisation_ignores_case_spaces_and_dashes() -> None:
    assert codes.normalise(" abcd-efgh jklm ") == "ABCDEFGHJKLM"
    assert codes.normalise("ABCD-EFGH-JKLM") == codes.normalise("abcdefghjklm")
    assert codes.normalise("ABCD-EFGH-JKLM") != codes.normalise("ABCD-EFGH-JKLN")


def test_only_a_keyed_digest_is_stored(invited_pupil: Any) -> None:
    code = codes.issue_code(invited_pupil, ACTIVATION, lifetime=DAY)
    row = OneTimeCode.objects.get(user=invited_pupil)
    assert codes.normalise(code) not in row.digest
    assert row.digest == codes.digest(code, purpose=ACTIVATION, user_id=invited_pupil.pk)
    assert len(row.digest) == 64


def test_code_is_found_whatever_the_typing(invited_pupil: Any) -> None:
    code = codes.issue_code(invited_pupil, ACTIVATION, lifetime=DAY)
    typed = code.lower().replace("-", " ")
    assert codes.find_code(invited_pupil, ACTIVATION, typed) is not None


def test_code_is_single_use(invited_pupil: Any) -> None:
    code = codes.issue_code(invited_pupil, ACTIVATION, lifetime=DAY)
    assert codes.redeem_code(invited_pupil, ACTIVATION, code) is not None
    assert codes.redeem_code(invited_pupil, ACTIVATION, code) is None


def test_code_of_one_account_does_not_work_for_another(invited_pupil: Any, pupil: Any) -> None:
    code = codes.issue_code(invited_pupil, ACTIVATION, lifetime=DAY)
    assert codes.find_code(pupil, ACTIVATION, code) is None


def test_code_of_one_purpose_does_not_serve_another(invited_pupil: Any) -> None:
    code = codes.issue_code(invited_pupil, ACTIVATION, lifetime=DAY)
    assert codes.find_code(invited_pupil, OneTimeCodePurpose.PASSWORD_RESET, code) is None


def test_expired_code_is_refused(invited_pupil: Any) -> None:
    issued = timezone.now() - 2 * DAY
    code = codes.issue_code(invited_pupil, ACTIVATION, lifetime=DAY, now=issued)
    assert codes.find_code(invited_pupil, ACTIVATION, code) is None
    # The same code was good while it lived.
    assert codes.find_code(invited_pupil, ACTIVATION, code, now=issued + DAY / 2) is not None


def test_fifth_wrong_attempt_kills_the_code(invited_pupil: Any) -> None:
    code = codes.issue_code(invited_pupil, ACTIVATION, lifetime=DAY)
    for _ in range(codes.MAX_ATTEMPTS - 1):
        assert codes.find_code(invited_pupil, ACTIVATION, "AAAA-AAAA-AAAA") is None
    assert OneTimeCode.objects.get().attempts == codes.MAX_ATTEMPTS - 1
    assert codes.find_code(invited_pupil, ACTIVATION, code) is not None
    assert codes.find_code(invited_pupil, ACTIVATION, "AAAA-AAAA-AAAA") is None
    assert codes.find_code(invited_pupil, ACTIVATION, code) is None
    assert not OneTimeCode.objects.usable().exists()


def test_new_code_invalidates_the_previous_one(invited_pupil: Any) -> None:
    first = codes.issue_code(invited_pupil, ACTIVATION, lifetime=DAY)
    second = codes.issue_code(invited_pupil, ACTIVATION, lifetime=DAY)
    assert codes.find_code(invited_pupil, ACTIVATION, first) is None
    assert codes.find_code(invited_pupil, ACTIVATION, second) is not None


def test_new_code_keeps_codes_of_other_purposes(invited_pupil: Any) -> None:
    reset = codes.issue_code(
        invited_pupil, OneTimeCodePurpose.PASSWORD_RESET, lifetime=DAY, kind=codes.CodeKind.DIGITS
    )
    codes.issue_code(invited_pupil, ACTIVATION, lifetime=DAY)
    assert codes.find_code(invited_pupil, OneTimeCodePurpose.PASSWORD_RESET, reset) is not None


def test_confirmation_code_must_match_its_target(invited_pupil: Any) -> None:
    purpose = OneTimeCodePurpose.CONFIRM_EMAIL
    code = codes.issue_code(
        invited_pupil, purpose, lifetime=DAY, target="a@exemple.fr", kind=codes.CodeKind.DIGITS
    )
    assert codes.find_code(invited_pupil, purpose, code, target="b@exemple.fr") is None
    assert codes.find_code(invited_pupil, purpose, code, target="a@exemple.fr") is not None


def test_token_is_found_by_itself_and_used_once(invited_pupil: Any) -> None:
    purpose = OneTimeCodePurpose.PASSWORD_RESET
    token = codes.issue_code(invited_pupil, purpose, lifetime=DAY, kind=codes.CodeKind.TOKEN)
    found = codes.find_token(purpose, token)
    assert found is not None and found.user == invited_pupil
    assert codes.redeem_token(purpose, token) is not None
    assert codes.redeem_token(purpose, token) is None
    assert codes.find_token(purpose, "x" * 500) is None


def test_matches_tells_whether_a_text_is_the_code(invited_pupil: Any) -> None:
    code = codes.issue_code(invited_pupil, ACTIVATION, lifetime=DAY)
    row = OneTimeCode.objects.get()
    assert codes.matches(row, code.lower())
    assert not codes.matches(row, "Girafe-Orange-Velo-71")


@pytest.mark.django_db
def test_used_code_cannot_be_used_again_by_a_racing_request(invited_pupil: Any) -> None:
    codes.issue_code(invited_pupil, ACTIVATION, lifetime=DAY)
    row = OneTimeCode.objects.get()
    stale_copy = OneTimeCode.objects.get()
    assert codes.use_code(row)
    assert not codes.use_code(stale_copy)
