"""notify() and what reaches people: the centre always, e-mail per their preferences,
after quiet hours or in the daily digest; security cannot be switched off."""

from __future__ import annotations

import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time

from convergence.audit.models import AuditEvent
from convergence.core import notify as registry
from convergence.core.notify import Category, NoSink, notify
from convergence.notifications import actions
from convergence.notifications.models import EmailMode, EmailState, Notification
from convergence.notifications.preferences import Schedule, grid_of, schedule_of

PARIS = ZoneInfo("Europe/Paris")
# A Tuesday in winter (Paris = UTC+1) and the Saturday after.
TUESDAY_10 = datetime.datetime(2025, 3, 11, 10, 0, tzinfo=PARIS)
TUESDAY_22 = datetime.datetime(2025, 3, 11, 22, 0, tzinfo=PARIS)
WEDNESDAY_7 = datetime.datetime(2025, 3, 12, 7, 0, tzinfo=PARIS)
SATURDAY_10 = datetime.datetime(2025, 3, 15, 10, 0, tzinfo=PARIS)
MONDAY_7 = datetime.datetime(2025, 3, 17, 7, 0, tzinfo=PARIS)


@pytest.fixture
def pupil(pupil: Any) -> Any:
    """Léa, with a contact address (the demo's has none: she would get the centre only)."""
    pupil.email = "lea.martin@example.org"
    pupil.save(update_fields=["email"])
    return pupil


def _tell(people: list[Any], category: str = Category.ANNONCES, **fields: Any) -> int:
    return notify(people, category=category, title=fields.pop("title", "Réunion"), **fields)


def _save(person: Any, *, off: tuple[tuple[str, str], ...] = (), **schedule: Any) -> None:
    grid = grid_of(person)
    for cell in off:
        grid[cell] = False
    actions.save_preferences(
        acting_user=person,
        grid=grid,
        schedule=Schedule(**{**schedule_of(person).__dict__, **schedule}),
    )


# --- the registry -----------------------------------------------------------------------------


def test_without_a_sink_notify_raises_instead_of_dropping(pupil: Any) -> None:
    sink = registry.registered_sink()
    assert sink is not None
    registry.unregister()
    try:
        with pytest.raises(NoSink):
            _tell([pupil])
    finally:
        registry.register(sink)
    assert not Notification.objects.of(pupil).exists()


@pytest.mark.parametrize(
    "fields",
    [
        {"category": "publicite"},
        {"url": "https://ailleurs.example/"},
        {"url": "//ailleurs.example/"},
        {"url": "/\\ailleurs.example/"},
        {"title": "   "},
    ],
)
def test_bad_calls_are_refused(pupil: Any, fields: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        notify([pupil], **{"category": Category.ANNONCES, "title": "Réunion", **fields})


def test_a_key_makes_notify_idempotent_per_person(pupil: Any, teacher: Any) -> None:
    assert _tell([pupil], key="conseil-1") == 1
    assert _tell([pupil, teacher], key="conseil-1") == 1
    assert _tell([pupil, teacher], key="conseil-1") == 0
    assert Notification.objects.filter(key="conseil-1").count() == 2
    assert _tell([pupil]) == 1 and _tell([pupil]) == 1  # no key: each call counts


def test_a_fan_out_stores_one_notification_per_person_in_few_queries(
    demo: None, django_assert_max_num_queries: Any
) -> None:
    from convergence.accounts.models import User

    people = list(User.objects.all())
    assert len(people) > 5
    with django_assert_max_num_queries(12):
        assert _tell(people, category=Category.INCIDENTS, url="/etat-des-services/") == len(people)
    assert Notification.objects.filter(category=Category.INCIDENTS).count() == len(people)


# --- e-mail per preferences --------------------------------------------------------------------


def test_preferences_are_honoured_per_channel(pupil: Any, mailoutbox: list[Any]) -> None:
    with freeze_time(TUESDAY_10):
        # A pupil's defaults: e-mail for assistance, not for annonces.
        _tell([pupil], category=Category.ANNONCES, title="Sortie au musée")
        _tell([pupil], category=Category.ASSISTANCE, title="Réponse à votre demande")
        assert actions.deliver_due_mail() == 1
    assert [message.subject for message in mailoutbox] == ["[Assistance] Réponse à votre demande"]
    assert mailoutbox[0].to == ["lea.martin@example.org"]

    _save(pupil, off=((Category.ASSISTANCE, "email"), (Category.ANNONCES, "portal")))
    with freeze_time(TUESDAY_10):
        _tell([pupil], category=Category.ASSISTANCE, title="Deuxième réponse")
        _tell([pupil], category=Category.ANNONCES, title="Annonce silencieuse")
        assert actions.deliver_due_mail() == 0
    silent = Notification.objects.get(title="Annonce silencieuse")
    assert silent.read_at is not None  # kept in the centre, but it does not ring the bell
    assert Notification.objects.get(title="Deuxième réponse").email_state == EmailState.NONE


def test_security_cannot_be_switched_off_and_ignores_quiet_hours_and_digest(
    teacher: Any, mailoutbox: list[Any]
) -> None:
    _save(teacher, off=((Category.SECURITE, "email"), (Category.SECURITE, "portal")))
    assert grid_of(teacher)[(Category.SECURITE, "email")] is True
    assert schedule_of(teacher).email_mode == EmailMode.DIGEST  # staff default
    with freeze_time(TUESDAY_22):
        _tell([teacher], category=Category.SECURITE, title="Nouvel appareil connecté")
        assert actions.deliver_due_mail() == 1
    assert mailoutbox[0].subject == "[Sécurité] Nouvel appareil connecté"
    assert Notification.objects.of(teacher).get().read_at is None


def test_an_account_not_yet_activated_gets_security_mail_only(
    parent: Any, mailoutbox: list[Any]
) -> None:
    """A parent told about their child's account before activating their own: at the
    address the school gave. Nothing else, and nothing at all once suspended."""
    from convergence.accounts.models import AccountState

    parent.state = AccountState.INVITED
    parent.save(update_fields=["state"])
    with freeze_time(TUESDAY_10):
        _tell([parent], category=Category.SECURITE, title="Lettre d'activation réimprimée")
        _tell([parent], category=Category.ANNONCES, title="Réunion")
        assert actions.deliver_due_mail() == 1
    assert [message.subject for message in mailoutbox] == [
        "[Sécurité] Lettre d'activation réimprimée"
    ]
    parent.state = AccountState.SUSPENDED
    parent.save(update_fields=["state"])
    with freeze_time(TUESDAY_10):
        _tell([parent], category=Category.SECURITE, title="Encore")
        assert actions.deliver_due_mail() == 0


def test_quiet_hours_hold_the_email_but_not_the_centre(pupil: Any, mailoutbox: list[Any]) -> None:
    with freeze_time(TUESDAY_22):
        _tell([pupil], category=Category.ASSISTANCE, title="Ticket résolu")
        assert actions.deliver_due_mail() == 0
    assert Notification.objects.of(pupil).unread().count() == 1
    with freeze_time(WEDNESDAY_7 - datetime.timedelta(minutes=1)):
        assert actions.deliver_due_mail() == 0
    with freeze_time(WEDNESDAY_7 + datetime.timedelta(minutes=1)):
        assert actions.deliver_due_mail() == 1
        assert actions.deliver_due_mail() == 0  # at most once
    assert len(mailoutbox) == 1


def test_quiet_weekends_wait_for_monday(pupil: Any, mailoutbox: list[Any]) -> None:
    with freeze_time(SATURDAY_10):
        _tell([pupil], category=Category.ASSISTANCE)
    due = Notification.objects.of(pupil).get().email_due_at
    assert due is not None and due.astimezone(PARIS) == MONDAY_7
    _save(pupil, weekends_quiet=False, quiet_from=0, quiet_to=0)
    assert Schedule(weekends_quiet=False, quiet_from=0, quiet_to=0).quiet_ends(TUESDAY_22) == (
        TUESDAY_22
    )


def test_the_daily_digest_collects_and_goes_at_the_persons_hour(
    teacher: Any, mailoutbox: list[Any]
) -> None:
    _save(teacher, digest_hour=18)
    with freeze_time(TUESDAY_10):
        _tell([teacher], category=Category.ANNONCES, title="Conseil pédagogique", url="/x/")
        _tell([teacher], category=Category.INCIDENTS, title="Maintenance de l'ENT")
        _tell([teacher], category=Category.MESSAGERIE, title="Message (pas par courriel)")
        assert actions.deliver_due_mail() == 0
    with freeze_time(TUESDAY_10.replace(hour=17, minute=59)):
        assert actions.send_digests() == 0
    with freeze_time(TUESDAY_10.replace(hour=18, minute=2)):
        _tell([teacher], category=Category.ANNONCES, title="Trop tard pour aujourd'hui")
        assert actions.send_digests() == 1
        assert actions.send_digests() == 0
    (digest,) = mailoutbox
    assert digest.subject == "Vos notifications du jour (2)"
    assert "Conseil pédagogique" in digest.body and "Maintenance de l'ENT" in digest.body
    assert "/x/" in digest.body
    assert "Message (pas par courriel)" not in digest.body
    assert "Trop tard" not in digest.body
    with freeze_time(WEDNESDAY_7.replace(hour=18, minute=1)):
        assert actions.send_digests() == 1
    assert "Trop tard pour aujourd'hui" in mailoutbox[1].body


def test_a_pupil_gets_no_digest_by_default(pupil: Any, parent: Any, teacher: Any) -> None:
    assert schedule_of(pupil).email_mode == EmailMode.IMMEDIATE
    assert schedule_of(parent).email_mode == EmailMode.IMMEDIATE
    assert schedule_of(teacher).email_mode == EmailMode.DIGEST


def test_changing_preferences_is_audited(teacher: Any) -> None:
    _save(teacher, off=((Category.ANNONCES, "email"),), email_mode=EmailMode.IMMEDIATE)
    event = AuditEvent.objects.get(event_type="notifications.preferences_changed")
    assert event.actor == teacher
    assert "annonces/email" in event.data["off"]
    assert event.data["email_mode"] == "immediate"
