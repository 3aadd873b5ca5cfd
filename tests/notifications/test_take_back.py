"""A taken-back account stops ringing elsewhere: a password reset, a password change, an
account suspended or a browser signing out forget the devices that received its pushes."""

from __future__ import annotations

from typing import Any

from convergence.accounts.actions.accounts import change_account_state
from convergence.accounts.models import AccountState
from convergence.notifications import push_actions
from convergence.notifications.models import PushSubscription
from tests.helpers import client_of
from tests.notifications.test_push_views import post_json, subscription

COMPUTER = "https://fcm.googleapis.com/fcm/send/computer"
TAKER = "https://updates.push.services.mozilla.com/wpush/v2/taker"


def _device(person: Any, endpoint: str) -> PushSubscription:
    document = subscription(endpoint)
    return push_actions.subscribe_device(
        acting_user=person,
        endpoint=endpoint,
        p256dh=document["keys"]["p256dh"],
        auth=document["keys"]["auth"],
        label="Firefox sur Linux",
    )


def _endpoints(person: Any) -> list[str]:
    return sorted(PushSubscription.objects.of(person).values_list("endpoint", flat=True))


def test_a_referent_reset_forgets_every_device_of_the_pupil(referent: Any, pupil: Any) -> None:
    _device(pupil, TAKER)  # the browser of whoever took the password
    _device(pupil, COMPUTER)
    response = client_of(referent).post(f"/gestion/comptes/{pupil.pk}/mot-de-passe/")
    assert response.status_code == 200
    assert _endpoints(pupil) == []


def test_a_password_change_keeps_this_browser_and_forgets_the_others(pupil: Any) -> None:
    _device(pupil, TAKER)
    computer = client_of(pupil)
    assert post_json(computer, subscription(COMPUTER)).status_code == 201
    new_password = "Comte-de-Bourgogne-1289"
    response = computer.post(
        "/compte/mot-de-passe/",
        {"oldpassword": pupil.demo_password, "password1": new_password, "password2": new_password},
    )
    assert response.status_code == 302
    assert _endpoints(pupil) == [COMPUTER]


def test_a_suspended_account_loses_its_devices(dsi: Any, teacher: Any) -> None:
    _device(teacher, TAKER)
    change_account_state(acting_user=dsi, user=teacher, state=AccountState.SUSPENDED)
    assert _endpoints(teacher) == []


def test_signing_out_forgets_the_device_this_browser_subscribed(pupil: Any) -> None:
    phone = _device(pupil, TAKER)  # subscribed from another browser: it stays
    computer = client_of(pupil)
    assert post_json(computer, subscription(COMPUTER)).status_code == 201
    assert computer.post("/deconnexion/").status_code == 302
    assert list(PushSubscription.objects.of(pupil)) == [phone]


def test_signing_out_leaves_a_browser_another_account_took_since(pupil: Any, parent: Any) -> None:
    """A shared computer: Léa subscribed it, then her father signed in there and subscribed
    it too; Léa's old session ending does not take it from him."""
    lea = client_of(pupil)
    assert post_json(lea, subscription(COMPUTER)).status_code == 201
    _device(parent, COMPUTER)
    assert lea.post("/deconnexion/").status_code == 302
    assert _endpoints(parent) == [COMPUTER]


def test_ending_the_other_sessions_keeps_this_browser_and_forgets_the_others(
    pupil: Any,
) -> None:
    _device(pupil, TAKER)
    computer = client_of(pupil)
    assert post_json(computer, subscription(COMPUTER)).status_code == 201
    response = computer.post("/compte/appareils/deconnecter-les-autres/")
    assert response.status_code in (200, 302)
    assert _endpoints(pupil) == [COMPUTER]


def test_an_administrator_ending_every_session_forgets_every_device(dsi: Any, teacher: Any) -> None:
    from convergence.devices.actions import end_user_sessions

    _device(teacher, TAKER)
    _device(teacher, COMPUTER)
    end_user_sessions(acting_user=dsi, user=teacher, request=None)
    assert _endpoints(teacher) == []
