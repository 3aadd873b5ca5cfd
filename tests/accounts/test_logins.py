"""Academic logins: transliteration, numbering, the database's shape and racing creations."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext

from convergence.accounts import logins
from convergence.accounts.logins import (
    BASE_MAX_LENGTH,
    FALLBACK_BASE,
    LoginAllocationError,
    allocate_login,
    allocate_logins_bulk,
    base_login,
    create_with_unique_login,
    next_free_login,
    taken_logins,
    transliterate,
)
from convergence.accounts.models import User

# The CheckConstraint "user_login_shape" of accounts.User, and the column's length.
LOGIN_SHAPE = re.compile(r"^[a-z0-9][a-z0-9.\-]*$")
LOGIN_MAX_LENGTH = 64

NASTY_NAMES = [
    ("", ""),
    ("", "Dupont"),
    ("Jean", ""),
    ("   ", " - ' "),
    ("😀", "🎉🎉"),
    ("Jean", "😀 Dupont 🎉"),
    ("Νίκος", "Παπαδόπουλος"),
    ("Nikos", "Παπαδόπουλος"),
    ("Иван", "Иванов"),
    ("李", "小龙"),
    ("مريم", "Benali"),
    ("Jean", "O'Brien-Smith y García de la Vega Hernández-Ñúñez"),
    ("A" * 150, "B" * 150),  # the columns' full length
    ("Louis", "XIV 2 ①"),
    ("\u0301\u0308", "\u200b\u00a0\t\n"),
    ("Jean", "../../etc/passwd"),
    ("Jean", "Robert'); DROP TABLE accounts_user;--"),
    ("İlkay", "Gündoğan"),
    ("ﬁfi", "ǅurić"),
]


def make_user(first_name: str, last_name: str) -> Callable[[str], User]:
    """A ``create`` callable that inserts the account, as account creation code does."""

    def create(login: str) -> User:
        return User.objects.create_user(
            login=login, password=None, first_name=first_name, last_name=last_name
        )

    return create


def add_user(login: str) -> User:
    return User.objects.create_user(login=login, password=None, first_name="X", last_name="Y")


# --- Transliteration ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Éloïse", "eloise"),
        ("N'Guyen-Çelik", "nguyencelik"),
        ("Œdipe", "oedipe"),
        ("cœur", "coeur"),
        ("Ægir", "aegir"),
        ("Læticia", "laeticia"),
        ("Straße", "strasse"),
        ("STRAẞE", "strasse"),
        ("Łukasz", "lukasz"),
        ("Ñúñez", "nunez"),
        ("Søren Ødegaard", "sorenodegaard"),
        ("Đorđe Ðuro", "dordeduro"),
        ("I\u0131\u0130", "iii"),  # I, dotless i, dotted capital I
        ("Þór Þórsdóttir", "thorthorsdottir"),
        ("Ħal Ŧ", "halt"),
        ("d'Artagnan", "dartagnan"),
        ("d\u2019Artagnan", "dartagnan"),  # typographic apostrophe
        ("de La Fontaine", "delafontaine"),
        ("Martin-Durand", "martindurand"),
        ("Jean-Pierre", "jeanpierre"),
        ("Noël Ängström", "noelangstrom"),
        ("ﬁne", "fine"),
        ("Ĳsselmeer", "ijsselmeer"),
        ("Louis XIV 2", "louisxiv"),
        ("Παπαδόπουλος", ""),
        ("Иванов", ""),
        ("😀", ""),
        ("", ""),
    ],
)
def test_transliterate(text: str, expected: str) -> None:
    assert transliterate(text) == expected


def test_transliterate_first_and_last_name_of_eloise() -> None:
    assert transliterate("Éloïse") == "eloise"
    assert transliterate("N'Guyen-Çelik") == "nguyencelik"
    assert base_login("Éloïse", "N'Guyen-Çelik") == "enguyencelik"


# --- Base login ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first_name", "last_name", "expected"),
    [
        ("Jean", "Dupont", "jdupont"),
        ("Marie", "Martin-Durand", "mmartindurand"),
        ("Jean-Pierre", "Dupont", "jdupont"),
        ("Jean Pierre", "Dupont", "jdupont"),
        ("Jean", "de La Fontaine", "jdelafontaine"),
        ("Charles", "d'Artagnan", "cdartagnan"),
        ("Œdipe", "Roi", "oroi"),
        ("Ægir", "Straße", "astrasse"),
        ("Łukasz", "Ñúñez", "lnunez"),
        ("Éloïse", "N'Guyen-Çelik", "enguyencelik"),
        ("", "Dupont", "dupont"),
        ("  ", "Dupont", "dupont"),
        ("Nikos", "Παπαδόπουλος", "nikos"),
        ("Νίκος", "Παπαδόπουλος", FALLBACK_BASE),
        ("", "", FALLBACK_BASE),
        ("Jean", "O'Brien-Smith y García de la Vega", "jobriensmithygarciad"),
        ("", "O'Brien-Smith y García de la Vega", "obriensmithygarciade"),
    ],
)
def test_base_login(first_name: str, last_name: str, expected: str) -> None:
    assert base_login(first_name, last_name) == expected


def test_base_login_leaves_room_for_a_number() -> None:
    base = base_login("Jean", "Wolfeschlegelsteinhausenbergerdorff")
    assert base == "jwolfeschlegelsteinh"
    assert len(base) == BASE_MAX_LENGTH


@pytest.mark.parametrize(("first_name", "last_name"), NASTY_NAMES)
def test_every_login_fits_the_database_shape(first_name: str, last_name: str) -> None:
    base = base_login(first_name, last_name)
    assert re.fullmatch(r"[a-z]+", base), base
    assert len(base) <= BASE_MAX_LENGTH
    numbered = next_free_login(base, {base, *(f"{base}{n}" for n in range(2, 10_000))})
    assert numbered == f"{base}10000"
    for login in (base, numbered):
        assert LOGIN_SHAPE.match(login), login
        assert len(login) <= LOGIN_MAX_LENGTH


@pytest.mark.django_db
def test_the_database_accepts_logins_for_nasty_names() -> None:
    """The CheckConstraint and column length agree: every nasty name gets an account."""
    created = [
        create_with_unique_login(
            first_name=first_name, last_name=last_name, create=make_user(first_name, last_name)
        )
        for first_name, last_name in NASTY_NAMES
    ]
    logins_ = [user.login for user in created]
    assert len(set(logins_)) == len(NASTY_NAMES)
    assert set(User.objects.values_list("login", flat=True)) == set(logins_)
    assert "user" in logins_
    assert "user2" in logins_


# --- Numbering ----------------------------------------------------------------------------


def test_next_free_login_numbers_from_two() -> None:
    assert next_free_login("jdupont", set()) == "jdupont"
    assert next_free_login("jdupont", {"jdupont"}) == "jdupont2"
    assert next_free_login("jdupont", {"jdupont", "jdupont2"}) == "jdupont3"
    # A hole is filled: numbers freed by deleted accounts are given again.
    assert next_free_login("jdupont", {"jdupont", "jdupont3"}) == "jdupont2"
    # The bare base is the first choice even if numbered ones exist.
    assert next_free_login("jdupont", {"jdupont2"}) == "jdupont"


@pytest.mark.django_db
def test_allocate_login_with_existing_accounts() -> None:
    assert allocate_login("Jean", "Dupont") == "jdupont"
    add_user("jdupont")
    assert allocate_login("Jean", "Dupont") == "jdupont2"
    assert allocate_login("Julie", "Dupont") == "jdupont2"
    add_user("jdupont2")
    add_user("jdupont4")
    assert allocate_login("Jean", "Dupont") == "jdupont3"
    assert allocate_login("Jean", "Dupond") == "jdupond"


@pytest.mark.django_db
def test_taken_logins_only_counts_the_base_and_its_numbers() -> None:
    for login in ["jdupont", "jdupont2", "jdupont17", "jdupontel", "jdupontel2", "xjdupont"]:
        add_user(login)
    add_user("j.dupont")
    add_user("j-dupont3")
    # Inside the range the database is asked for, but not numbered logins of "jdupont".
    add_user("jdupont-2")
    add_user("jdupont.b")
    add_user("jdupont2b")
    assert taken_logins("jdupont") == {"jdupont", "jdupont2", "jdupont17"}
    # The base is escaped: the dot of a legacy login is not a regex wildcard.
    assert taken_logins("j.dupont") == {"j.dupont"}
    assert taken_logins("jxdupont") == set()
    assert taken_logins("j-dupont") == {"j-dupont3"}


@pytest.mark.django_db
def test_taken_logins_is_one_query(django_assert_num_queries: Any) -> None:
    for n in ["", "2", "3", "5"]:
        add_user(f"jdupont{n}")
    with django_assert_num_queries(1):
        assert allocate_login("Jean", "Dupont") == "jdupont4"


@pytest.mark.django_db
def test_taken_logins_is_answered_from_the_login_index() -> None:
    """No full scan and no per-row Python function, however many accounts there are."""
    with CaptureQueriesContext(connection) as captured:
        taken_logins("jdupont")
    [query] = captured.captured_queries
    assert "REGEXP" not in query["sql"].upper()
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN {query['sql']}")
            plan = " ".join(str(row[-1]) for row in cursor.fetchall())
            assert "SEARCH accounts_user USING COVERING INDEX" in plan, plan
        else:
            # Without this, a table this small is cheaper to read whole.
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(f"EXPLAIN {query['sql']}")
            plan = " ".join(row[0] for row in cursor.fetchall())
            assert "Seq Scan" not in plan, plan
            assert "Index" in plan, plan


# --- Creation and its retry ---------------------------------------------------------------


@pytest.mark.django_db
def test_create_with_unique_login_numbers_people_with_the_same_name() -> None:
    users = [
        create_with_unique_login(first_name="Jean", last_name="Dupont", create=make_user(*name))
        for name in [("Jean", "Dupont"), ("Jules", "Dupont"), ("Jeanne", "Dupont")]
    ]
    assert [user.login for user in users] == ["jdupont", "jdupont2", "jdupont3"]


@pytest.mark.django_db
def test_a_concurrent_insertion_is_retried_with_the_next_number(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The race, made deterministic: the first read misses a row another process committed.

    "jdupont" exists, but the first lookup of taken logins returns the state from before
    that insertion, as a racing process would see it. The database's unique constraint then
    raises a real IntegrityError, and the retry reads again and takes "jdupont2".
    """
    add_user("jdupont")
    real_taken_logins = logins.taken_logins
    lookups: list[set[str]] = []

    def stale_then_real(base: str) -> set[str]:
        taken = set() if not lookups else real_taken_logins(base)
        lookups.append(taken)
        return taken

    monkeypatch.setattr(logins, "taken_logins", stale_then_real)
    tried: list[str] = []
    errors: list[IntegrityError] = []
    create_user = make_user("Jean", "Dupont")

    def create(login: str) -> User:
        tried.append(login)
        try:
            return create_user(login)
        except IntegrityError as error:
            errors.append(error)
            raise

    user = create_with_unique_login(first_name="Jean", last_name="Dupont", create=create)

    assert tried == ["jdupont", "jdupont2"]
    assert len(errors) == 1
    assert lookups == [set(), {"jdupont"}]
    assert user.login == "jdupont2"
    # The failed attempt's savepoint was rolled back, the outer transaction goes on.
    assert sorted(User.objects.values_list("login", flat=True)) == ["jdupont", "jdupont2"]


@pytest.mark.django_db
def test_other_integrity_errors_are_not_retried() -> None:
    User.objects.create_user(
        login="autre", password=None, first_name="A", last_name="B", email="jean@example.fr"
    )
    calls: list[str] = []

    def create(login: str) -> User:
        calls.append(login)
        return User.objects.create_user(
            login=login,
            password=None,
            first_name="Jean",
            last_name="Dupont",
            email="jean@example.fr",
        )

    with pytest.raises(IntegrityError):
        create_with_unique_login(first_name="Jean", last_name="Dupont", create=create)
    assert calls == ["jdupont"]
    assert not User.objects.filter(login="jdupont").exists()


@pytest.mark.django_db
def test_giving_up_after_the_attempts(monkeypatch: pytest.MonkeyPatch) -> None:
    add_user("jdupont")
    # A reader that never sees the committed row: every attempt collides.
    monkeypatch.setattr(logins, "taken_logins", lambda base: set())
    with pytest.raises(LoginAllocationError) as raised:
        create_with_unique_login(
            first_name="Jean", last_name="Dupont", create=make_user("Jean", "Dupont"), attempts=3
        )
    assert isinstance(raised.value.__cause__, IntegrityError)
    assert User.objects.count() == 1


@pytest.mark.usefixtures("concurrent_db")
def test_threads_creating_the_same_name_get_distinct_logins(run_together: Any) -> None:
    """Several threads, each with its own database connection, create "Jean Dupont" at once.

    On PostgreSQL the threads really race: they read the same taken logins, all insert the
    same one, and the losers go through the IntegrityError retry. On SQLite the IMMEDIATE
    transaction serialises read and insert, so the threads check that nothing collides.
    """
    threads_count = 6
    per_thread = 3
    collisions: list[str] = []
    lock = threading.Lock()
    create_user = make_user("Jean", "Dupont")

    def create(login: str) -> User:
        try:
            return create_user(login)
        except IntegrityError:
            with lock:
                collisions.append(login)
            raise

    def work(_number: int) -> list[str]:
        return [
            create_with_unique_login(first_name="Jean", last_name="Dupont", create=create).login
            for _ in range(per_thread)
        ]

    created = [login for logins_ in run_together(threads_count, work) for login in logins_]

    total = threads_count * per_thread
    assert len(created) == total
    assert len(set(created)) == total
    expected = {"jdupont", *(f"jdupont{n}" for n in range(2, total + 1))}
    assert set(created) == expected
    assert User.objects.filter(last_name="Dupont").count() == total
    # Every collision was retried: each login tried and refused was taken by another thread.
    assert set(collisions) <= set(created)


# --- Bulk ---------------------------------------------------------------------------------


def test_allocate_logins_bulk_numbers_in_order_and_fills_taken() -> None:
    taken = {"jdupont", "jdupont3", "mmartindurand"}
    names = [
        ("Jean", "Dupont"),
        ("Marie", "Martin-Durand"),
        ("Julie", "Dupont"),
        ("Jeanne", "Dupont"),
        ("Éloïse", "N'Guyen-Çelik"),
        ("", ""),
        ("Νίκος", "Παπαδόπουλος"),
    ]
    result = allocate_logins_bulk(names, taken)
    assert result == [
        "jdupont2",
        "mmartindurand2",
        "jdupont4",
        "jdupont5",
        "enguyencelik",
        "user",
        "user2",
    ]
    assert taken >= set(result)
    assert len(taken) == 3 + len(names)


def test_allocate_logins_bulk_agrees_with_next_free_login() -> None:
    names = [("Jean", "Dupont"), ("Jules", "Dupont"), ("Paul", "Durand")] * 50
    initial = {"jdupont", "jdupont2", "jdupont7", "pdurand5"}
    taken_one_by_one = set(initial)
    one_by_one = []
    for first_name, last_name in names:
        login = next_free_login(base_login(first_name, last_name), taken_one_by_one)
        taken_one_by_one.add(login)
        one_by_one.append(login)
    assert allocate_logins_bulk(names, set(initial)) == one_by_one


def test_allocate_logins_bulk_numbers_many_homonyms_after_existing_ones() -> None:
    """55,000 names with thousands of homonyms get distinct logins that continue the numbering.

    Its speed is measured by the seed benchmark (docs/performance.md), not asserted here.
    """
    first_names = ["Jean", "Marie", "Éloïse", "Jean-Pierre", "Œdipe", "Léa", "Yanis", "Inès"]
    last_names = [
        f"{stem}{suffix}"
        for stem in ["Martin", "Dupont", "Lefèvre"]
        for suffix in ["", "-Durand", " de La Fontaine", "ez", "eau", "ière", "ot", "y"]
    ]
    names = [
        (first_names[i % len(first_names)], f"{last_names[i % len(last_names)]}{'a' * (i % 50)}")
        for i in range(50_000)
    ]
    names += [("Jean", "Martin")] * 5_000
    taken = {"jmartin", *(f"jmartin{n}" for n in range(2, 1_000))}
    result = allocate_logins_bulk(names, taken)
    assert len(result) == len(names)
    assert len(set(result)) == len(names)
    homonyms = sum(base_login(*name) == "jmartin" for name in names)
    assert {login for login in result if re.fullmatch(r"jmartin[0-9]*", login)} == {
        f"jmartin{n}" for n in range(1_000, 1_000 + homonyms)
    }
