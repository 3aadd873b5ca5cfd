"""« Cet appareil » on the preferences page: subscribing a browser (JSON, CSRF), removing a
device (own only), the test push (rate-limited); /sw.js and the web-app manifest."""

from __future__ import annotations

import base64
import json
import os
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.test import Client

from convergence.audit.models import AuditEvent
from convergence.core.personal_data import collect_personal_data
from convergence.notifications import push_actions
from convergence.notifications.models import PushSubscription
from tests.helpers import client_of, text_of

SUBSCRIBE = "/notifications/appareils/"
FIREFOX = "Mozilla/5.0 (Android 14; Mobile; rv:128.0) Gecko/128.0 Firefox/128.0"


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def subscription(endpoint: str = "https://fcm.googleapis.com/fcm/send/abc") -> dict[str, Any]:
    point = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )
    return {"endpoint": endpoint, "keys": {"p256dh": b64u(point), "auth": b64u(os.urandom(16))}}


def post_json(client: Client, document: Any, **extra: Any) -> Any:
    body = document if isinstance(document, str) else json.dumps(document)
    return client.post(SUBSCRIBE, body, content_type="application/json", **extra)


def test_a_browser_subscribes_with_its_label_and_the_change_is_audited(teacher: Any) -> None:
    response = post_json(client_of(teacher), subscription(), HTTP_USER_AGENT=FIREFOX)
    assert response.status_code == 201
    device = PushSubscription.objects.get()
    assert device.person == teacher and response.json()["label"] == device.label
    assert "Firefox" in device.label
    event = AuditEvent.objects.get(event_type="notifications.push_device_added")
    assert event.actor == teacher and event.data["service"] == "fcm.googleapis.com"
    assert "abc" not in json.dumps(event.data)  # the endpoint's secret path is not kept


def test_subscribing_needs_the_csrf_token(teacher: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(teacher)
    assert post_json(client, subscription()).status_code == 403
    page = client.get("/notifications/preferences/")
    token = str(page.context["csrf_token"])
    assert post_json(client, subscription(), HTTP_X_CSRFTOKEN=token).status_code == 201


def test_a_visitor_cannot_subscribe(db: None) -> None:
    response = post_json(Client(), subscription())
    assert response.status_code == 403 and "reconnectez-vous" in response.json()["error"]
    assert not PushSubscription.objects.exists()


def test_bad_subscriptions_get_a_400_with_a_french_message(teacher: Any) -> None:
    client = client_of(teacher)
    bad_keys = subscription()
    bad_keys["keys"]["p256dh"] = b64u(b"\x04" + b"\x01" * 64)  # not a point of the curve
    cases = {
        "pas du json": "invalide",
        json.dumps([1, 2]): "invalide",
        json.dumps({"endpoint": "https://fcm.googleapis.com/x"}): "invalide",
        json.dumps(subscription("http://fcm.googleapis.com/x")): "ne connaît pas",
        json.dumps(subscription("https://intranet.ac-besancon.fr/x")): "ne connaît pas",
        json.dumps(bad_keys): "clés de chiffrement",
    }
    for body, words in cases.items():
        response = post_json(client, body)
        assert response.status_code == 400, body
        assert words in response.json()["error"], body
    assert not PushSubscription.objects.exists()


def _device(person: Any, name: str = "abc") -> PushSubscription:
    document = subscription(f"https://fcm.googleapis.com/fcm/send/{name}")
    return push_actions.subscribe_device(
        acting_user=person,
        endpoint=document["endpoint"],
        p256dh=document["keys"]["p256dh"],
        auth=document["keys"]["auth"],
        label="Chrome sur Android",
    )


def test_the_page_lists_ones_devices_and_removes_them(teacher: Any, pupil: Any) -> None:
    mine = _device(teacher, "mine")
    theirs = _device(pupil, "theirs")
    client = client_of(teacher)
    page = text_of(client.get("/notifications/preferences/"))
    assert "Cet appareil" in page and "Chrome sur Android" in page
    assert "Recevoir les notifications sur cet appareil" in page
    assert "Envoyer une notification d'essai" in page
    assert "Sur mes appareils" in page
    assert client.post(f"/notifications/appareils/{theirs.pk}/retirer/").status_code == 404
    response = client.post(f"/notifications/appareils/{mine.pk}/retirer/")
    assert response.status_code == 302
    assert list(PushSubscription.objects.all()) == [theirs]
    assert AuditEvent.objects.filter(event_type="notifications.push_device_removed").count() == 1


def test_the_test_push_is_rate_limited(
    teacher: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client = client_of(teacher)
    assert client.post("/notifications/appareils/essai/").status_code == 302  # no device
    _device(teacher)
    for _attempt in range(push_actions.TEST_PER_HOUR):
        with django_capture_on_commit_callbacks() as callbacks:
            assert client.post("/notifications/appareils/essai/").status_code == 302
        assert len(callbacks) == 1
    refused = client.post("/notifications/appareils/essai/")
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert "Réessayez dans" in text_of(refused)


def test_the_service_worker_is_served_from_the_root(db: None) -> None:
    response = Client().get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert response["Cache-Control"] == "no-cache"
    assert response["Service-Worker-Allowed"] == "/"
    source = response.content.decode()
    assert source.startswith('self.NOTIFICATION_ICON = "/static/notifications/icon-192.png";')
    assert "showNotification" in source and "notificationclick" in source
    # The page's policy lets the portal's own worker and manifest in.
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy


def test_the_manifest_installs_the_portal(teacher: Any) -> None:
    response = Client().get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    manifest = response.json()
    assert manifest["name"].startswith("Convergence — Académie")
    assert manifest["start_url"] == "/" and manifest["display"] == "standalone"
    assert manifest["lang"] == "fr" and manifest["theme_color"] == "#000091"
    sizes = {(icon["sizes"], icon.get("purpose", "any")) for icon in manifest["icons"]}
    assert sizes == {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")}
    for icon in manifest["icons"]:
        assert Client().get(icon["src"]).status_code == 200
    page = client_of(teacher).get("/notifications/preferences/").content.decode()
    assert '<link rel="manifest" href="/manifest.webmanifest">' in page


def test_my_data_lists_notifications_settings_and_devices_without_keys(teacher: Any) -> None:
    device = _device(teacher)
    data = collect_personal_data(teacher)
    sections = {section["key"]: section["entries"] for section in data["sections"]}
    assert sections["notification_devices"][0]["Appareil"] == "Chrome sur Android"
    dumped = json.dumps(data)
    assert device.p256dh not in dumped and device.auth not in dumped
    assert device.endpoint not in dumped
    assert "notifications" in sections and "notification_preferences" in sections


def test_subscribing_is_limited_per_person(teacher: Any, pupil: Any) -> None:
    """A script posting subscriptions in a loop cannot churn the devices or the trail."""
    client = client_of(teacher)
    for number in range(push_actions.SUBSCRIBE_PER_HOUR):
        document = subscription(f"https://fcm.googleapis.com/fcm/send/{number}")
        assert post_json(client, document).status_code == 201
    refused = post_json(client, subscription("https://fcm.googleapis.com/fcm/send/encore"))
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert "Réessayez dans" in refused.json()["error"]
    assert not PushSubscription.objects.filter(endpoint__endswith="/encore").exists()
    # Another person is not held by it.
    assert post_json(client_of(pupil), subscription()).status_code == 201


def test_the_same_browser_subscribed_again_unchanged_is_not_audited_again(teacher: Any) -> None:
    client = client_of(teacher)
    document = subscription()
    for _attempt in range(3):
        assert post_json(client, document, HTTP_USER_AGENT=FIREFOX).status_code == 201
    added = AuditEvent.objects.filter(event_type="notifications.push_device_added")
    assert added.count() == 1
    refreshed = subscription()  # the browser renewed its keys: that is a change
    assert post_json(client, refreshed, HTTP_USER_AGENT=FIREFOX).status_code == 201
    assert added.count() == 2
    assert PushSubscription.objects.get().p256dh == refreshed["keys"]["p256dh"]
