"""Rentrée and departures: closing a school year archives leavers, who lose access at once;
their personal data goes three months later, audit entries after twelve (time travel by
passing ``now=``). The schedule that runs the purges: tests/core/test_schedule.py."""

from __future__ import annotations

import datetime
import html

import pytest
from django.urls import reverse
from django.utils import timezone

from convergence.accounts import actions as accounts_actions
from convergence.accounts.models import (
    AccountState,
    Assignment,
    Guardianship,
    OneTimeCode,
    SchoolYear,
    User,
    current_school_year,
)
from convergence.accounts.models import current_school_year as open_school_year
from convergence.accounts.school_years import next_school_year
from convergence.audit import actions as audit_actions
from convergence.audit import events as audit_events
from convergence.audit.models import AuditEvent
from convergence.provisioning import actions as provisioning_actions
from convergence.provisioning import events as provisioning_events
from tests.helpers import post_sign_in as sign_in

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


def archived_days_ago(user: User, days: int) -> None:
    now = timezone.now()
    provisioning_actions.archive_account(acting_user=None, user=user, now=now - days * DAY)


def move_to_next_year(*users: User) -> None:
    """What the rentrée import does for those who stay: a role in the next year."""
    year = current_school_year()
    for user in users:
        for assignment in Assignment.objects.filter(user=user, school_year=year):
            Assignment.objects.create(
                user=user,
                establishment=assignment.establishment,
                role=assignment.role,
                division=assignment.division,
                school_year=next_school_year(year),
            )


# --- Archiving ------------------------------------------------------------------------------


def test_archived_pupil_cannot_sign_in(client, pupil):
    assert client.login(username=pupil.login, password=pupil.demo_password)
    client.logout()

    provisioning_actions.archive_account(acting_user=None, user=pupil)

    assert not client.login(username=pupil.login, password=pupil.demo_password)
    response = sign_in(client, pupil.login, pupil.demo_password)
    assert "_auth_user_id" not in client.session
    assert response["Location"] == reverse("account_inactive")
    pupil.refresh_from_db()
    assert pupil.state == AccountState.ARCHIVED
    assert pupil.archived_at is not None


def test_archived_pupil_loses_an_open_session_at_once(client, pupil):
    sign_in(client, pupil.login, pupil.demo_password)
    assert client.get(reverse("accounts:account")).status_code == 200

    provisioning_actions.archive_account(acting_user=None, user=pupil)

    response = client.get(reverse("accounts:account"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_archiving_is_audited_and_deletes_unused_codes(pupil, dsi):
    OneTimeCode.objects.create(
        user=pupil,
        purpose="activation",
        digest="a" * 64,
        expires_at=timezone.now() + 30 * DAY,
    )

    provisioning_actions.archive_account(acting_user=dsi, user=pupil)

    event = AuditEvent.objects.of_type(provisioning_events.ACCOUNT_ARCHIVED).get(subject=pupil)
    assert event.actor == dsi
    assert event.data == {"from": AccountState.ACTIVE}
    assert not OneTimeCode.objects.filter(user=pupil).exists()


def test_archiving_twice_changes_nothing(pupil):
    first = timezone.now() - 10 * DAY
    provisioning_actions.archive_account(acting_user=None, user=pupil, now=first)
    provisioning_actions.archive_account(acting_user=None, user=pupil)

    pupil.refresh_from_db()
    assert pupil.archived_at == first
    assert (
        AuditEvent.objects.of_type(provisioning_events.ACCOUNT_ARCHIVED)
        .filter(subject=pupil)
        .count()
        == 1
    )


# --- Closing a school year -------------------------------------------------------------------


def test_closing_the_year_archives_leavers_and_keeps_stayers(dsi, pupil, pupil_in_dole, teacher):
    year = current_school_year()
    move_to_next_year(dsi, pupil)

    closing = provisioning_actions.close_school_year(acting_user=dsi, year=year)

    for user in (pupil_in_dole, teacher):
        user.refresh_from_db()
        assert user.state == AccountState.ARCHIVED, user.login
    for user in (pupil, dsi):
        user.refresh_from_db()
        assert user.state == AccountState.ACTIVE, user.login
    assert closing.leavers["pupils"] >= 1
    assert closing.leavers["staff"] >= 1


def test_parent_stays_while_one_child_stays(dsi, parent, pupil, pupil_in_dole):
    move_to_next_year(dsi, pupil)

    provisioning_actions.close_school_year(acting_user=dsi, year=current_school_year())

    parent.refresh_from_db()
    pupil_in_dole.refresh_from_db()
    assert parent.state == AccountState.ACTIVE
    assert pupil_in_dole.state == AccountState.ARCHIVED


def test_parent_leaves_when_all_children_left(dsi, parent):
    move_to_next_year(dsi)

    closing = provisioning_actions.close_school_year(acting_user=dsi, year=current_school_year())

    parent.refresh_from_db()
    assert parent.state == AccountState.ARCHIVED
    assert closing.leavers["parents"] >= 1


def test_the_person_closing_the_year_is_never_archived(dsi):
    provisioning_actions.close_school_year(acting_user=dsi, year=current_school_year())

    dsi.refresh_from_db()
    assert dsi.state == AccountState.ACTIVE


def test_closing_opens_the_next_year_and_keeps_history(dsi, pupil):
    year = current_school_year()
    before = Assignment.objects.filter(school_year=year).count()

    provisioning_actions.close_school_year(acting_user=dsi, year=year)

    assert SchoolYear.objects.get(name=year).closed_at is not None
    following = SchoolYear.objects.get(name=next_school_year(year))
    assert following.closed_at is None
    assert open_school_year() == next_school_year(year)
    assert Assignment.objects.filter(school_year=year).count() == before
    event = AuditEvent.objects.of_type(provisioning_events.SCHOOL_YEAR_CLOSED).get()
    assert event.data["year"] == year
    assert event.data["assignments"] == before
    assert event.data["archived"] >= 1


def test_current_assignments_are_those_of_the_open_year(dsi, pupil):
    year = current_school_year()
    move_to_next_year(dsi)

    provisioning_actions.close_school_year(acting_user=dsi, year=year)

    assert current_school_year() == next_school_year(year)
    assert not Assignment.objects.current().filter(user=pupil).exists()
    assert Assignment.objects.current().filter(user=dsi).exists()


def test_a_closed_year_cannot_be_closed_again(dsi):
    year = current_school_year()
    provisioning_actions.close_school_year(acting_user=dsi, year=year)

    with pytest.raises(provisioning_actions.SchoolYearError):
        provisioning_actions.close_school_year(acting_user=dsi, year=year)


def test_preview_counts_leavers_without_writing(dsi, pupil):
    year = current_school_year()
    everyone = provisioning_actions.preview_school_year_closing(acting_user=dsi, year=year)
    move_to_next_year(pupil)

    preview = provisioning_actions.preview_school_year_closing(acting_user=dsi, year=year)

    # Léa stays, and so does her father.
    assert preview.archived == everyone.archived - 2
    assert preview.leavers["pupils"] == everyone.leavers["pupils"] - 1
    assert preview.leavers["parents"] == everyone.leavers["parents"] - 1
    assert preview.assignments == Assignment.objects.filter(school_year=year).count()
    pupil.refresh_from_db()
    assert pupil.state == AccountState.ACTIVE
    assert not SchoolYear.objects.exists()
    assert not AuditEvent.objects.of_type(provisioning_events.ACCOUNT_ARCHIVED).exists()


# --- School year page ------------------------------------------------------------------------


def test_school_year_page_shows_the_preview_to_the_dsi(client, dsi):
    client.force_login(dsi)

    response = client.get(reverse("provisioning:school_year"))

    assert response.status_code == 200
    assert current_school_year() in response.content.decode()


@pytest.mark.parametrize("who", ["referent", "teacher", "pupil"])
def test_school_year_page_is_refused_to_others(client, who, request):
    client.force_login(request.getfixturevalue(who))

    assert client.get(reverse("provisioning:school_year")).status_code == 403
    response = client.post(
        reverse("provisioning:school_year"), {"year": current_school_year(), "confirm": "on"}
    )
    assert response.status_code == 403
    assert not SchoolYear.objects.exists()


def test_dsi_closes_the_year_from_the_page(client, dsi, pupil, immediate_tasks):
    client.force_login(dsi)
    year = current_school_year()
    # The staff import of the next year came first: the DSI keeps their role after closing.
    for assignment in dsi.assignments.filter(school_year=year):
        assignment.pk = None
        assignment.school_year = next_school_year(year)
        assignment.save()

    response = client.post(reverse("provisioning:school_year"), {"year": year, "confirm": "on"})

    assert response.status_code == 302
    pupil.refresh_from_db()
    assert pupil.state == AccountState.ARCHIVED
    assert SchoolYear.objects.get(name=year).closed_at is not None
    page = html.unescape(client.get(reverse("provisioning:school_year")).content.decode())
    assert f"Dernière clôture : l'année {year}" in page
    assert f"Année scolaire {next_school_year(year)}" in page


def test_closing_runs_in_the_worker_and_is_not_started_twice(client, dsi, pupil):
    # The database task backend of the settings: enqueued, not run (no worker in tests).
    client.force_login(dsi)
    year = current_school_year()

    client.post(reverse("provisioning:school_year"), {"year": year, "confirm": "on"})
    page = client.get(reverse("provisioning:school_year"))
    again = client.post(reverse("provisioning:school_year"), {"year": year, "confirm": "on"})

    assert "en cours" in html.unescape(page.content.decode())
    assert again.status_code == 400
    assert "déjà en cours" in html.unescape(again.content.decode())
    pupil.refresh_from_db()
    assert pupil.state == AccountState.ACTIVE


def test_polling_page_reloads_once_the_year_is_closed(client, dsi, immediate_tasks):
    client.force_login(dsi)

    response = client.get(reverse("provisioning:school_year"), headers={"HX-Request": "true"})

    assert response["HX-Refresh"] == "true"


def test_closing_without_confirmation_is_refused_in_french(client, dsi, pupil):
    client.force_login(dsi)

    response = client.post(reverse("provisioning:school_year"), {"year": current_school_year()})

    assert response.status_code == 400
    assert "Cochez la case" in response.content.decode()
    assert not SchoolYear.objects.exists()
    pupil.refresh_from_db()
    assert pupil.state == AccountState.ACTIVE


def test_closing_a_year_that_is_not_open_is_refused(client, dsi):
    client.force_login(dsi)

    response = client.post(
        reverse("provisioning:school_year"), {"year": "2001-2002", "confirm": "on"}
    )

    assert response.status_code == 400
    assert "n'est plus l'année ouverte" in html.unescape(response.content.decode())
    assert not SchoolYear.objects.exists()


# --- Purges -----------------------------------------------------------------------------------


def test_departed_account_is_kept_91_days(pupil):
    archived_days_ago(pupil, 91)

    assert provisioning_actions.purge_departed_accounts() == 0
    assert User.objects.filter(pk=pupil.pk).exists()


def test_departed_account_is_deleted_after_93_days_with_what_it_owns(pupil, parent):
    archived_days_ago(pupil, 93)
    pupil_pk = pupil.pk
    assert Guardianship.objects.filter(pupil_id=pupil_pk).exists()

    assert provisioning_actions.purge_departed_accounts() == 1

    assert not User.objects.filter(pk=pupil_pk).exists()
    assert not Assignment.objects.filter(user_id=pupil_pk).exists()
    assert not Guardianship.objects.filter(pupil_id=pupil_pk).exists()
    assert User.objects.filter(pk=parent.pk).exists()
    # The trail stays, without anyone named in it.
    archived = AuditEvent.objects.of_type(provisioning_events.ACCOUNT_ARCHIVED).get()
    assert archived.subject is None
    purged = AuditEvent.objects.of_type(provisioning_events.PERSONAL_DATA_PURGED).get()
    assert purged.data["accounts"] == 1
    assert pupil.login not in str(purged.data)


def test_purge_uses_the_time_it_is_given(pupil):
    archived_days_ago(pupil, 10)

    assert provisioning_actions.purge_departed_accounts(now=timezone.now() + 80 * DAY) == 0
    assert provisioning_actions.purge_departed_accounts(now=timezone.now() + 83 * DAY) == 1


def test_active_account_is_never_purged(pupil):
    User.objects.filter(pk=pupil.pk).update(archived_at=timezone.now() - 400 * DAY)

    assert provisioning_actions.purge_departed_accounts() == 0


def test_audit_entries_are_kept_11_months_and_deleted_after_13(pupil):
    now = timezone.now()
    old = AuditEvent.objects.create(event_type="test.old", subject=pupil)
    recent = AuditEvent.objects.create(event_type="test.recent", subject=pupil)
    AuditEvent.objects.filter(pk=old.pk).update(occurred_at=now - 13 * 31 * DAY)
    AuditEvent.objects.filter(pk=recent.pk).update(occurred_at=now - 11 * 30 * DAY)

    assert audit_actions.purge_old_audit_events(now=now) == 1

    assert not AuditEvent.objects.filter(pk=old.pk).exists()
    assert AuditEvent.objects.filter(pk=recent.pk).exists()
    assert AuditEvent.objects.of_type(audit_events.AUDIT_PURGED).get().data["events"] == 1


def test_expired_codes_are_deleted_a_day_after_expiry(pupil):
    now = timezone.now()
    stale = OneTimeCode.objects.create(
        user=pupil, purpose="password_reset", digest="b" * 64, expires_at=now - 2 * DAY
    )
    just_expired = OneTimeCode.objects.create(
        user=pupil, purpose="password_reset", digest="c" * 64, expires_at=now - DAY / 2
    )

    assert accounts_actions.purge_expired_codes(now=now) == 1

    assert not OneTimeCode.objects.filter(pk=stale.pk).exists()
    assert OneTimeCode.objects.filter(pk=just_expired.pk).exists()


def test_page_warns_a_dsi_without_a_role_next_year(client, dsi):
    client.force_login(dsi)
    warning = f"Vous n'avez aucun rôle en {next_school_year(current_school_year())}"

    before = html.unescape(client.get(reverse("provisioning:school_year")).content.decode())
    move_to_next_year(dsi)
    after = html.unescape(client.get(reverse("provisioning:school_year")).content.decode())

    assert warning in before
    assert warning not in after


def test_purge_keeps_an_oauth_client_the_departed_person_owned(pupil):
    from oauth2_provider.models import Application

    client = Application.objects.create(
        name="Arena de test",
        user=pupil,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
    )
    archived_days_ago(pupil, 93)

    assert provisioning_actions.purge_departed_accounts() == 1

    client.refresh_from_db()
    assert client.user is None
