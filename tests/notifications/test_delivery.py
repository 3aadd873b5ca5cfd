"""notify() and what reaches people: the centre always, e-mail per their preferences,
after quiet hours or in the daily digest; security cannot be switched off."""

from __future__ import annotations

import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time

from convergence.accounts.mailing import contact_address
from convergence.accounts.models import AccountState
from convergence.audit.models import AuditEvent
from convergence.core import notify as registry
from convergence.core.notify import Category, NoSink, notify
from convergence.notifications import actions
from convergence.notifications.models import (
    EmailMode,
    EmailState,
    Notification,
    PushState,
    PushSubscription,
)
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
def test_bad_calls_are_refused(pupil: Any, fields: dict[str, Any]) -> None:
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


@pytest.mark.parametrize(
    "state", [AccountState.INVITED, AccountState.SUSPENDED, AccountState.ARCHIVED]
)
def test_an_account_not_active_gets_security_and_assistance_mail_only(
    parent: Any, mailoutbox: list[Any], state: str
) -> None:
    """It cannot open the centre: a parent told about their child's account before
    activating their own, a suspended account told about a reset or answered on its
    ticket, at its contact address. Nothing else."""
    parent.state = state
    parent.save(update_fields=["state"])
    with freeze_time(TUESDAY_10):
        _tell([parent], category=Category.SECURITE, title="Lettre d'activation réimprimée")
        _tell([parent], category=Category.ASSISTANCE, title="Réponse à votre demande")
        _tell([parent], category=Category.ANNONCES, title="Réunion")
        _tell([parent], category=Category.INCIDENTS, title="Maintenance")
        assert actions.deliver_due_mail() == 2
    assert sorted(message.subject for message in mailoutbox) == [
        "[Assistance] Réponse à votre demande",
        "[Sécurité] Lettre d'activation réimprimée",
    ]


def test_a_digest_of_an_account_no_longer_active_keeps_only_assistance(
    teacher: Any, mailoutbox: list[Any]
) -> None:
    _save(teacher, digest_hour=18)
    with freeze_time(TUESDAY_10):
        _tell([teacher], category=Category.ASSISTANCE, title="Réponse à votre demande")
        _tell([teacher], category=Category.ANNONCES, title="Conseil pédagogique")
    teacher.state = AccountState.SUSPENDED
    teacher.save(update_fields=["state"])
    with freeze_time(TUESDAY_10.replace(hour=18, minute=2)):
        assert actions.send_digests() == 1
    (digest,) = mailoutbox
    assert "Réponse à votre demande" in digest.body and "Conseil pédagogique" not in digest.body


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


# --- urgent notifications --------------------------------------------------------------------


def _a_device(person: Any) -> None:
    PushSubscription.objects.create(
        person=person,
        endpoint=f"https://fcm.googleapis.com/fcm/send/{person.pk}",
        p256dh="k",
        auth="a",
    )


def test_an_urgent_notification_skips_the_digest_and_quiet_hours(
    teacher: Any, mailoutbox: list[Any]
) -> None:
    assert schedule_of(teacher).email_mode == EmailMode.DIGEST  # staff default
    _a_device(teacher)
    with freeze_time(TUESDAY_22):
        notify(
            [teacher],
            category=Category.INCIDENTS,
            title="À confirmer : ENT indisponible",
            urgent=True,
        )
        notify([teacher], category=Category.INCIDENTS, title="Maintenance prévue")
        assert actions.deliver_due_mail() == 1
    assert [message.subject for message in mailoutbox] == [
        "[Incidents et maintenances] À confirmer : ENT indisponible"
    ]
    urgent = Notification.objects.get(title__startswith="À confirmer")
    assert urgent.push_state == PushState.WAITING and urgent.push_due_at == TUESDAY_22
    calm = Notification.objects.get(title="Maintenance prévue")
    assert calm.email_state == EmailState.DIGEST
    assert calm.push_due_at is not None and calm.push_due_at > TUESDAY_22


def test_an_urgent_notification_still_honours_a_category_switched_off(teacher: Any) -> None:
    _a_device(teacher)
    _save(teacher, off=((Category.INCIDENTS, "email"), (Category.INCIDENTS, "push")))
    with freeze_time(TUESDAY_22):
        notify([teacher], category=Category.INCIDENTS, title="À confirmer", urgent=True)
    notification = Notification.objects.of(teacher).get()
    assert notification.email_state == EmailState.NONE
    assert notification.push_state == PushState.NONE


def test_a_probes_draft_reaches_the_dsi_at_once(dsi: Any, mailoutbox: list[Any]) -> None:
    from convergence.portal.models import Service
    from convergence.status import actions as status_actions
    from convergence.status import notify as status_notify
    from convergence.status.models import Impact

    assert schedule_of(dsi).email_mode == EmailMode.DIGEST
    with freeze_time(SATURDAY_10):  # a quiet weekend, and the DSI takes a digest
        draft = status_actions.open_incident(
            acting_user=None,
            title="Messagerie indisponible",
            impact=Impact.DOWN,
            services=[Service.objects.get(slug="messagerie")],
            message="La messagerie ne répond plus depuis 8 h 02.",
            publish=False,
            automatic=True,
        )
        assert status_notify.send("draft", draft.pk) == 1
        assert actions.deliver_due_mail() == 1
    (message,) = mailoutbox
    assert message.to == [contact_address(dsi)]
    assert message.subject == "[Incidents et maintenances] À confirmer : Messagerie indisponible"


# --- switching a category off -----------------------------------------------------------------


def test_switching_a_channel_off_cancels_what_waits_there(
    pupil: Any, teacher: Any, mailoutbox: list[Any]
) -> None:
    _a_device(pupil)
    with freeze_time(TUESDAY_22):  # quiet hours: e-mail and push wait for the morning
        _tell([pupil], category=Category.ASSISTANCE, title="Ticket résolu")
        _tell([teacher], category=Category.ANNONCES, title="Conseil pédagogique")  # digest
    waiting = Notification.objects.get(title="Ticket résolu")
    assert (waiting.email_state, waiting.push_state) == (EmailState.WAITING, PushState.WAITING)
    assert Notification.objects.get(title="Conseil pédagogique").email_state == EmailState.DIGEST

    _save(pupil, off=((Category.ASSISTANCE, "email"), (Category.ASSISTANCE, "push")))
    _save(teacher, off=((Category.ANNONCES, "email"),))
    waiting.refresh_from_db()
    assert (waiting.email_state, waiting.email_due_at) == (EmailState.NONE, None)
    assert (waiting.push_state, waiting.push_due_at) == (PushState.NONE, None)
    assert Notification.objects.get(title="Conseil pédagogique").email_state == EmailState.NONE
    with freeze_time(WEDNESDAY_7.replace(hour=18, minute=1)):
        assert actions.deliver_due_mail() == 0
        assert actions.send_digests() == 0
    assert mailoutbox == []
