"""Password policy per profile (CNIL délibération 2022-100) and a transparent strength estimate."""

from __future__ import annotations

import functools
import math
import operator
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import combinations, pairwise
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

    from convergence.accounts.models import User

# Hashing cost must stay bounded whatever is posted; 4096 leaves room for any passphrase.
MAX_LENGTH = 4096
# A word drawn from a list of about 2 900 (2**11.5): the CNIL's 7 words for 80 bits.
WORD_BITS = 11.5

POOLS = {"lower": 26, "upper": 26, "digit": 10, "special": 33, "other": 100}
ASCII_CLASSES = ("lower", "upper", "digit", "special")

COMMON_PASSWORDS_FR = Path(__file__).resolve().parent / "data" / "common_passwords_fr.txt"

_LEET_I = str.maketrans(
    {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"}
)
_LEET_L = str.maketrans(
    {"0": "o", "1": "l", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"}
)
_KEYBOARD_ROWS = (
    "azertyuiop",
    "qsdfghjklm",
    "wxcvbn",
    "qwertyuiop",
    "asdfghjkl",
    "zxcvbnm",
    "qwertzuiop",
    "yxcvbnm",
)
# Neighbouring keys read left to right, then right to left.
_FORWARD_KEYS = frozenset(row[k : k + 2] for row in _KEYBOARD_ROWS for k in range(len(row) - 1))
_BACKWARD_KEYS = frozenset(pair[::-1] for pair in _FORWARD_KEYS)
_STRAIGHT_LINES = tuple(
    line
    for forward in ("abcdefghijklmnopqrstuvwxyz", "0123456789", *_KEYBOARD_ROWS)
    for line in (forward, forward[::-1])
)
_LINKED = re.compile(rb"\x01+")
_YEAR = re.compile(r"(?=((?:19|20)\d\d))")
_WORD_SEPARATORS = re.compile(r"[\s\-_.]+")
_NON_ALNUM = re.compile(r"[\W_]+")
_EDGE_NON_LETTERS = re.compile(r"^[\W\d_]+|[\W\d_]+$")
# Shortest predictable run, sequence or keyboard walk; "aa" or "ab" is still two choices.
_MIN_PATTERN = 3
_MAX_PERIOD = 32
_MIN_COMMON_WORD = 4
_MIN_CONTEXT_WORD = 3


@dataclass(frozen=True)
class Policy:
    """What a password must reach for one kind of account.

    The CNIL (délibération 2022-100) asks 80 bits of entropy when the password alone protects
    the account, and accepts 50 bits when sign-in is restricted (delays, lock-outs). Staff
    accounts reach pupils' and parents' personal data across an establishment, so they get the
    80-bit policy whatever the throttling. Pupils and parents see only their own or their
    children's data, and accounts.throttle slows every failed attempt, so the 50-bit policy
    applies to them.

    The CNIL illustrates each level with forms whose figures are rounded: twelve characters of
    the four ASCII classes measure 78.8 bits, not 80. The threshold actually applied,
    ``required_bits``, is therefore the weakest of the policy's CNIL forms as measured by
    ``estimate_bits``, so that every form the CNIL accepts is accepted here, and nothing weaker.
    """

    profile: str
    min_bits: int
    min_length: int
    min_classes: int
    passphrase_words: int
    description: StrOrPromise

    @property
    def required_bits(self) -> float:
        weakest_pool = sum(sorted(POOLS[name] for name in ASCII_CLASSES)[: self.min_classes])
        return min(
            float(self.min_bits),
            self.min_length * math.log2(weakest_pool),
            self.passphrase_words * WORD_BITS,
        )


STAFF_POLICY = Policy(
    profile="staff",
    min_bits=80,
    min_length=12,
    min_classes=4,
    passphrase_words=7,
    description=gettext_lazy(
        "Personnels : au moins 12 caractères mêlant minuscules, majuscules, chiffres et "
        "caractères spéciaux, ou au moins 14 caractères mêlant minuscules, majuscules et "
        "chiffres, ou une phrase de passe d'au moins 7 mots."
    ),
)
BASIC_POLICY = Policy(
    profile="basic",
    min_bits=50,
    min_length=8,
    min_classes=3,
    passphrase_words=5,
    description=gettext_lazy(
        "Élèves et parents : au moins 8 caractères de trois types différents (minuscules, "
        "majuscules, chiffres, caractères spéciaux), ou une phrase de passe d'au moins 5 mots."
    ),
)


def policy_for(user: User | None) -> Policy:
    """Staff if the account holds a staff role in any assignment or may use the admin site.

    Costs at most one query, none for an unsaved user. Without a user (or with an anonymous
    one) nothing shows the account is a pupil's or a parent's, so the stricter policy applies.
    """
    if user is None or user.is_anonymous or user.is_staff or user.is_superuser:
        return STAFF_POLICY
    if user.pk is None:
        return BASIC_POLICY
    # Imported here so the estimate stays usable before the app registry is ready.
    from convergence.accounts.models import STAFF_ROLES

    if user.assignments.filter(role__in=STAFF_ROLES).exists():
        return STAFF_POLICY
    return BASIC_POLICY


def normalise(password: str) -> str:
    """The NFC form of a password: every check runs on it, and the hasher must receive it too.

    An "é" typed on one keyboard may arrive decomposed (e + combining accent) from another;
    both must hash the same, so forms pass ``normalise(password)`` to ``set_password`` and to
    ``authenticate``.
    """
    return unicodedata.normalize("NFC", password)


@functools.lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    """One lowercase, unaccented character per character, so positions stay aligned."""
    lowered = char.lower()
    base = "".join(
        c for c in unicodedata.normalize("NFKD", lowered) if not unicodedata.combining(c)
    )
    if len(base) == 1:
        return base
    return lowered if len(lowered) == 1 else char


def _fold(text: str) -> str:
    return "".join(map(_fold_char, text))


def _variants(folded: str) -> tuple[str, ...]:
    """The folded text as typed, and with leetspeak undone (1 read as i, then as l)."""
    variants = [folded]
    for table in (_LEET_I, _LEET_L):
        undone = folded.translate(table)
        if undone not in variants:
            variants.append(undone)
    return tuple(variants)


@functools.cache
def common_passwords() -> frozenset[str]:
    """Django's 20 000 common passwords and our French list, folded like a password."""
    from django.contrib.auth.password_validation import CommonPasswordValidator

    french = COMMON_PASSWORDS_FR.read_text(encoding="utf-8").split()
    return frozenset(map(_fold, [*CommonPasswordValidator().passwords, *french]))


@dataclass(frozen=True)
class _WordIndex:
    """Words to find inside a password, indexed by their first three characters."""

    words: frozenset[str]
    lengths: dict[str, tuple[int, ...]]

    @classmethod
    def of(cls, words: Iterable[str]) -> _WordIndex:
        kept = frozenset(words)
        lengths: dict[str, set[int]] = {}
        for word in kept:
            lengths.setdefault(word[:3], set()).add(len(word))
        return cls(kept, {key: tuple(sorted(value)) for key, value in lengths.items()})


@functools.cache
def _common_index() -> _WordIndex:
    return _WordIndex.of(word for word in common_passwords() if len(word) >= _MIN_COMMON_WORD)


def _context_terms(words: Iterable[str]) -> frozenset[str]:
    """Folded pieces of names and identifiers worth looking for: "jdupont3" gives jdupont too."""
    terms: set[str] = set()
    for word in words:
        folded = _fold(normalise(word))
        pieces = [piece for piece in _NON_ALNUM.split(folded) if piece]
        for piece in [*pieces, "".join(pieces)]:
            terms.update({piece, piece.rstrip("0123456789"), piece.lstrip("0123456789")})
    return frozenset(term for term in terms if len(term) >= _MIN_CONTEXT_WORD)


def _char_class(char: str) -> str:
    if not char.isascii():
        return "other"
    if "a" <= char <= "z":
        return "lower"
    if "A" <= char <= "Z":
        return "upper"
    if char.isdigit():
        return "digit"
    return "special"


def _linked_intervals(flags: bytes, shortest: int) -> Iterator[tuple[int, int]]:
    """Character intervals whose neighbours are all linked; flags[k] links k and k + 1."""
    for match in _LINKED.finditer(flags):
        if match.end() - match.start() + 1 >= shortest:
            yield match.start(), match.end() + 1


def _pattern_spans(text: str) -> list[tuple[int, int]]:
    """Spans of runs, straight sequences, keyboard walks, repeated blocks and years."""
    n = len(text)
    spans: list[tuple[int, int]] = []
    if n < _MIN_PATTERN:
        return spans
    pairs = [text[k : k + 2] for k in range(n - 1)]
    steps = list(map(operator.sub, map(ord, text[1:]), map(ord, text)))
    alnum = [a.isalnum() and b.isalnum() for a, b in pairwise(text)]
    links = (
        bytes(map(operator.eq, text[1:], text)),
        bytes(step == 1 and both for step, both in zip(steps, alnum, strict=True)),
        bytes(step == -1 and both for step, both in zip(steps, alnum, strict=True)),
        bytes(pair in _FORWARD_KEYS for pair in pairs),
        bytes(pair in _BACKWARD_KEYS for pair in pairs),
    )
    for flags in links:
        for start, end in _linked_intervals(flags, _MIN_PATTERN):
            # Prefixes and suffixes let a pattern give way to a word that overlaps its edge.
            spans.extend((start, stop) for stop in range(start + _MIN_PATTERN, end + 1))
            spans.extend((begin, end) for begin in range(start + 1, end - _MIN_PATTERN + 1))

    # A block repeated right after itself: the repetition adds one choice, not its length.
    # Only distances at which a pair of characters recurs can be periods; testing those
    # alone keeps this linear.
    periods: set[int] = set()
    last_seen: dict[str, int] = {}
    for k, pair in enumerate(pairs):
        previous = last_seen.get(pair)
        if previous is not None and 2 <= k - previous <= _MAX_PERIOD:
            periods.add(k - previous)
        last_seen[pair] = k
    for period in sorted(periods):
        repeats = bytes(map(operator.eq, text[period:], text))
        for match in _LINKED.finditer(repeats):
            if match.end() - match.start() >= period:
                spans.append((match.start() + period, match.end() + period))
    spans.extend((match.start(1), match.end(1)) for match in _YEAR.finditer(text))
    return spans


def _word_spans(variants: Iterable[str], index: _WordIndex, shortest: int) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for text in variants:
        n = len(text)
        for i in range(n - shortest + 1):
            for length in index.lengths.get(text[i : i + 3], ()):
                if i + length <= n and text[i : i + length] in index.words:
                    spans.append((i, i + length))
    return spans


def _effective_length(n: int, spans: Iterable[tuple[int, int]]) -> int:
    """Fewest choices that spell the text when each predictable span counts as one."""
    starts_by_end: dict[int, list[int]] = {}
    for start, end in spans:
        starts_by_end.setdefault(end, []).append(start)
    best = [0] * (n + 1)
    for end in range(1, n + 1):
        cost = best[end - 1] + 1
        for start in starts_by_end.get(end, ()):
            cost = min(cost, best[start] + 1)
        best[end] = cost
    return best[n]


@dataclass(frozen=True)
class _Analysis:
    bits: float
    effective_length: int
    classes: frozenset[str]
    pool: int
    words: int


def _is_one_pattern(word: str) -> bool:
    """Whether a word is a mere run, straight sequence or keyboard walk (aaa, abcd, azer)."""
    return len(set(word)) == 1 or any(word in line for line in _STRAIGHT_LINES)


def _analyse(password: str, context_words: Iterable[str] = ()) -> _Analysis:
    password = normalise(password)
    folded = _fold(password)
    variants = _variants(folded)
    terms = _context_terms(context_words)
    n = len(folded)

    spans = _pattern_spans(folded)
    spans += _word_spans(variants, _common_index(), _MIN_COMMON_WORD)
    if terms:
        spans += _word_spans(variants, _WordIndex.of(terms), _MIN_CONTEXT_WORD)
    effective = _effective_length(n, spans)
    classes = frozenset(map(_char_class, set(password)))
    pool = sum(POOLS[name] for name in classes)
    char_bits = effective * math.log2(pool) if pool else 0.0

    # A passphrase counts its distinct words, not its letters; names and walks don't count.
    words = {
        word
        for word in set(_WORD_SEPARATORS.split(folded)) - terms
        if sum(map(str.isalpha, word)) >= 3 and not _is_one_pattern(word)
    }
    return _Analysis(
        bits=max(char_bits, len(words) * WORD_BITS),
        effective_length=effective,
        classes=classes,
        pool=pool,
        words=len(words),
    )


def estimate_bits(password: str, *, context_words: Iterable[str] = ()) -> float:
    """Entropy of a password in bits, read the way an informed attacker would guess it.

    Characters estimate: length * log2(pool), the pool summing the classes present (lower 26,
    upper 26, digits 10, ASCII specials and space 33, anything beyond ASCII 100). Before
    counting, each predictable part counts as one character: a run (aaa), a straight sequence
    (abcd, 4321), a keyboard walk (azerty, qwerty rows), a block repeated right after itself,
    a year (19xx, 20xx), a common password or word of four letters or more, and a
    ``context_words`` piece (login, names, académie), compared without case or accents and with
    leetspeak undone (0→o, 1→i/l, 3→e, 4→a, 5→s, 7→t, @→a, $→s).

    Passphrase estimate: 11.5 bits per distinct word of three letters or more, words being
    separated by spaces, hyphens, underscores or dots. The larger estimate is returned.
    """
    return _analyse(password, context_words).bits


def _user_words(user: User | None) -> list[str]:
    if user is None:
        return []
    # getattr: the meter may hand over whatever request.user is.
    email = str(getattr(user, "email", "") or "")
    names = (getattr(user, name, "") for name in ("login", "first_name", "last_name"))
    return [*(str(name or "") for name in names), email.partition("@")[0]]


def _academie_words() -> list[str]:
    return [str(getattr(settings, "ACADEMIE_NAME", ""))]


def _found(terms: frozenset[str], variants: Iterable[str]) -> bool:
    return any(term in text for text in variants for term in terms)


def _is_common(password: str) -> bool:
    """Whether the password, stripped of the digits and symbols around it, is a common one."""
    common = common_passwords()
    folded = _fold(password)
    candidates: set[str] = set()
    for form in (folded, _WORD_SEPARATORS.sub("", folded)):
        candidates.update(_variants(form))
        core = _EDGE_NON_LETTERS.sub("", form)
        # Leetspeak is undone after the stripping as well as before: P@ssw0rd1 and 4zerty.
        for text in (*_variants(core), *(_EDGE_NON_LETTERS.sub("", v) for v in _variants(form))):
            if len(text) >= _MIN_COMMON_WORD:
                candidates.add(text)
    return not candidates.isdisjoint(common)


def _join(items: list[str]) -> str:
    if len(items) == 1:
        return items[0]
    return _("%(first)s et %(last)s") % {"first": ", ".join(items[:-1]), "last": items[-1]}


def _class_names() -> dict[str, str]:
    return {
        "lower": _("une minuscule"),
        "upper": _("une majuscule"),
        "digit": _("un chiffre"),
        "special": _("un caractère spécial"),
    }


def _length_advice(analysis: _Analysis, required: float) -> str:
    """How many more characters, or which missing classes, would reach ``required``."""
    present = analysis.classes or frozenset({"lower"})
    pool = analysis.pool or POOLS["lower"]

    def needed(size: int) -> int:
        return max(1, math.ceil(required / math.log2(size) - analysis.effective_length - 1e-9))

    plain = needed(pool)
    best: tuple[int, tuple[str, ...]] | None = None
    missing = [name for name in ASCII_CLASSES if name not in present]
    for size in range(1, len(missing) + 1):
        for combo in combinations(missing, size):
            count = max(size, needed(pool + sum(POOLS[name] for name in combo)))
            if best is None or count < best[0]:
                best = (count, combo)
    if best is None or best[0] >= plain:
        return ngettext("Ajoutez %(count)d caractère.", "Ajoutez %(count)d caractères.", plain) % {
            "count": plain
        }
    names = _class_names()
    classes = _join([names[name] for name in best[1]])
    if best[0] == len(best[1]):
        return ngettext(
            "Ajoutez %(count)d caractère ou %(classes)s.",
            "Ajoutez %(count)d caractères ou %(classes)s.",
            plain,
        ) % {"count": plain, "classes": classes}
    return _("Ajoutez %(count)d caractères, ou %(fewer)d dont %(classes)s.") % {
        "count": plain,
        "fewer": best[0],
        "classes": classes,
    }


@dataclass(frozen=True)
class _Verdict:
    bits: float
    messages: list[str]
    common: bool
    too_long: bool


def _judge(password: str, user: User | None, policy: Policy | None) -> _Verdict:
    policy = policy or policy_for(user)
    if len(password) > MAX_LENGTH:
        message = _("Ce mot de passe est trop long : %(max)d caractères au maximum.") % {
            "max": MAX_LENGTH
        }
        return _Verdict(bits=0.0, messages=[message], common=False, too_long=True)

    password = normalise(password)
    user_terms = _context_terms(_user_words(user))
    academie_terms = _context_terms(_academie_words())
    analysis = _analyse(password, context_words=user_terms | academie_terms)
    required = policy.required_bits
    messages: list[str] = []

    common = _is_common(password)
    if common:
        messages.append(
            _(
                "Ce mot de passe fait partie des plus courants : il serait deviné en quelques "
                "essais. Choisissez-en un autre."
            )
        )
    if analysis.bits < required:
        variants = _variants(_fold(password))
        if _found(user_terms, variants):
            messages.append(_("Il ne doit pas reprendre votre identifiant ni votre nom."))
        elif _found(academie_terms, variants):
            messages.append(_("Il ne doit pas reprendre le nom de l'académie."))
        messages.append(
            _("Ce mot de passe est trop facile à deviner.")
            + " "
            + _length_advice(analysis, required)
        )
        if analysis.words >= 2:
            more = max(1, math.ceil(required / WORD_BITS) - analysis.words)
            messages.append(
                ngettext(
                    "Ajoutez %(count)d mot à votre phrase de passe.",
                    "Ajoutez %(count)d mots à votre phrase de passe.",
                    more,
                )
                % {"count": more}
            )
        else:
            messages.append(
                _(
                    "Une phrase de passe de %(words)d mots fonctionne aussi : des mots sans lien "
                    "entre eux, séparés par des espaces."
                )
                % {"words": policy.passphrase_words}
            )
    return _Verdict(bits=analysis.bits, messages=messages, common=common, too_long=False)


def check_password(
    password: str, *, user: User | None = None, policy: Policy | None = None
) -> list[str]:
    """French reasons to refuse ``password``; an empty list means it is accepted.

    ``policy`` defaults to ``policy_for(user)``. Checks run on the NFC form (``normalise``),
    which is also what the hasher must receive.
    """
    return _judge(password, user, policy).messages


@dataclass(frozen=True)
class Strength:
    """What the strength meter shows while a password is typed."""

    bits: float
    score: int
    label: str
    advice: list[str]
    acceptable: bool


def strength(password: str, *, user: User | None = None) -> Strength:
    """The meter's verdict, from the very checks ``check_password`` makes.

    Scores 3 and 4 are the accepted ones; 4 means a comfortable margin (20 bits, a million
    times more guesses) above what the user's policy requires.
    """
    policy = policy_for(user)
    verdict = _judge(password, user, policy)
    required = policy.required_bits
    acceptable = not verdict.messages
    if acceptable:
        score = 4 if verdict.bits >= required + 20 else 3
    elif verdict.common or verdict.too_long:
        score = 0
    elif verdict.bits >= 0.7 * required:
        score = 2
    elif verdict.bits >= 0.4 * required:
        score = 1
    else:
        score = 0
    labels = [_("Très faible"), _("Faible"), _("Moyen"), _("Bon"), _("Excellent")]
    return Strength(
        bits=verdict.bits,
        score=score,
        label=labels[score],
        advice=verdict.messages,
        acceptable=acceptable,
    )


class ProfilePasswordValidator:
    """Django password validator applying the policy of the account's profile."""

    def validate(self, password: str, user: User | None = None) -> None:
        messages = check_password(password, user=user)
        if messages:
            raise ValidationError(
                [ValidationError(message, code="password_policy") for message in messages]
            )

    def get_help_text(self) -> str:
        return _(
            "%(staff)s %(basic)s Les espaces, les accents et les phrases de passe sont acceptés ; "
            "un mot de passe courant, votre identifiant ou votre nom ne le sont pas."
        ) % {"staff": STAFF_POLICY.description, "basic": BASIC_POLICY.description}
