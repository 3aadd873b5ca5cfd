"""Web push: a local push service on 127.0.0.1 checks the VAPID signature of every push,
the browser (this test) decrypts what it receives; preferences and quiet hours decide what
is pushed, and gone endpoints are forgotten."""

from __future__ import annotations

import base64
import datetime
import json
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from zoneinfo import ZoneInfo

import http_ece
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from freezegun import freeze_time

from convergence.core.notify import Category, notify
from convergence.notifications import push, push_actions
from convergence.notifications.models import (
    Channel,
    Notification,
    PushState,
    PushSubscription,
    VapidKey,
)
from convergence.notifications.preferences import Schedule, grid_of, schedule_of
from tests.conftest import stop_serving

PARIS = ZoneInfo("Europe/Paris")
TUESDAY_10 = datetime.datetime(2025, 3, 11, 10, 0, tzinfo=PARIS)
TUESDAY_22 = datetime.datetime(2025, 3, 11, 22, 0, tzinfo=PARIS)
WEDNESDAY_7 = datetime.datetime(2025, 3, 12, 7, 0, tzinfo=PARIS)


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# --- the local push service ---------------------------------------------------------------


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    claims: dict[str, Any]


@dataclass
class PushService:
    """What a push service does with a push: check the VAPID token (401 when it is wrong),
    keep the encrypted body for the browser, answer 201 (or what a path is told to)."""

    origin: str
    # The portal's public key, as browsers subscribed with it (the service reads no database).
    public_key: str
    received: list[Received] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)


def check_vapid(authorization: str, audience: str, public_key: str) -> dict[str, Any]:
    """RFC 8292: ``vapid t=<JWT>, k=<public key>``; the JWT's ES256 signature verified with
    k; ``aud`` the push service's origin, ``exp`` in the future and within 24 h, ``sub`` a
    mailto: address. Raises on anything wrong."""
    scheme, _space, rest = authorization.partition(" ")
    assert scheme == "vapid"
    params = dict(part.strip().split("=", 1) for part in rest.split(","))
    token, key = params["t"], params["k"]
    assert key == public_key
    header_part, claims_part, signature_part = token.split(".")
    assert json.loads(b64d(header_part)) == {"typ": "JWT", "alg": "ES256"}
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64d(key))
    signature = b64d(signature_part)
    assert len(signature) == 64
    der = encode_dss_signature(
        int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    )
    public.verify(der, f"{header_part}.{claims_part}".encode(), ec.ECDSA(hashes.SHA256()))
    claims: dict[str, Any] = json.loads(b64d(claims_part))
    assert claims["aud"] == audience
    assert time.time() < claims["exp"] <= time.time() + 24 * 3600
    assert claims["sub"].startswith("mailto:") and "@" in claims["sub"]
    return claims


@pytest.fixture
def push_service(settings: Any) -> Iterator[PushService]:
    settings.WEBPUSH_ALLOW_LOCAL_HTTP = True
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    service = PushService(
        origin=f"http://127.0.0.1:{server.server_address[1]}", public_key=push.public_key()
    )

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            try:
                claims = check_vapid(
                    self.headers.get("Authorization", ""), service.origin, service.public_key
                )
            except (AssertionError, InvalidSignature, KeyError, ValueError) as error:
                service.refused.append(repr(error))
                self.send_response(401)
                self.end_headers()
                return
            headers = {name.lower(): value for name, value in self.headers.items()}
            service.received.append(Received(self.path, headers, body, claims))
            self.send_response(service.statuses.get(self.path, 201))
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server.RequestHandlerClass = Handler
    thread = threading.Thread(target=server.serve_forever, name="push-service", daemon=True)
    thread.start()
    try:
        yield service
    finally:
        stop_serving(server, thread)


@dataclass
class Browser:
    """A browser's push keys, made as a browser makes them; it decrypts what it receives."""

    endpoint: str
    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    secret: bytes = field(default_factory=lambda: os.urandom(16))

    @property
    def p256dh(self) -> str:
        return b64u(
            self.key.public_key().public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
        )

    def subscription_json(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "keys": {"p256dh": self.p256dh, "auth": b64u(self.secret)},
        }

    def subscribe(self, person: Any, label: str = "Firefox sur Linux") -> PushSubscription:
        return push_actions.subscribe_device(
            acting_user=person,
            endpoint=self.endpoint,
            p256dh=self.p256dh,
            auth=b64u(self.secret),
            label=label,
        )

    def read(self, received: Received) -> dict[str, Any]:
        assert received.headers["content-encoding"] == "aes128gcm"
        clear = http_ece.decrypt(
            received.body, private_key=self.key, auth_secret=self.secret, version="aes128gcm"
        )
        message: dict[str, Any] = json.loads(clear)
        return message


def _tell(people: list[Any], category: str = Category.ANNONCES, **fields: Any) -> int:
    return notify(people, category=category, title=fields.pop("title", "Réunion"), **fields)


# --- sending ------------------------------------------------------------------------------


def test_a_push_reaches_every_device_signed_and_encrypted(
    teacher: Any, push_service: PushService
) -> None:
    phone = Browser(f"{push_service.origin}/push/phone")
    laptop = Browser(f"{push_service.origin}/push/laptop")
    phone.subscribe(teacher)
    laptop.subscribe(teacher)
    with freeze_time(TUESDAY_10):
        _tell([teacher], title="Conseil pédagogique", body="x" * 500, url="/annonces/3/")
    (notification,) = Notification.objects.of(teacher)
    assert notification.push_state == PushState.WAITING

    assert push_actions.deliver_due_push(now=TUESDAY_10) == 2
    assert push_actions.deliver_due_push(now=TUESDAY_10) == 0  # at most once
    assert not push_service.refused
    by_path = {received.path: received for received in push_service.received}
    assert sorted(by_path) == ["/push/laptop", "/push/phone"]
    message = phone.read(by_path["/push/phone"])
    assert message == {
        "title": "Conseil pédagogique",
        "body": "x" * 299 + "…",
        "url": "/annonces/3/",
        "tag": f"notification-{notification.pk}",
    }
    assert laptop.read(by_path["/push/laptop"])["title"] == "Conseil pédagogique"
    assert int(by_path["/push/phone"].headers["ttl"]) > 0
    assert all(row.last_used_at for row in PushSubscription.objects.of(teacher))
    notification.refresh_from_db()
    assert notification.push_state == PushState.SENT


def test_gone_endpoints_are_forgotten_and_failures_not_retried(
    teacher: Any, push_service: PushService
) -> None:
    push_service.statuses = {"/push/404": 404, "/push/410": 410, "/push/500": 500}
    for name in ("404", "410", "500", "ok"):
        Browser(f"{push_service.origin}/push/{name}").subscribe(teacher)
    with freeze_time(TUESDAY_10):
        _tell([teacher], category=Category.SECURITE, title="Nouvel appareil connecté")
    assert push_actions.deliver_due_push(now=TUESDAY_10) == 1
    left = sorted(row.endpoint.rsplit("/", 1)[1] for row in PushSubscription.objects.of(teacher))
    assert left == ["500", "ok"]
    assert Notification.objects.of(teacher).get().push_state == PushState.SENT
    assert push_actions.deliver_due_push(now=TUESDAY_10) == 0
    assert len(push_service.received) == 4


def test_an_unreachable_push_service_is_a_push_failure(teacher: Any, settings: Any) -> None:
    settings.WEBPUSH_ALLOW_LOCAL_HTTP = True
    settings.WEBPUSH_TIMEOUT = 2
    with socket_closed() as port:
        subscription = Browser(f"http://127.0.0.1:{port}/push/x").subscribe(teacher)
        with pytest.raises(push.PushFailed):
            push.send(subscription, push.payload(title="t", body="", url="/", tag="t"))


class socket_closed:
    """A port nothing listens on."""

    def __enter__(self) -> int:
        import socket

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        port: int = self.sock.getsockname()[1]
        return port

    def __exit__(self, *exc: object) -> None:
        self.sock.close()


def test_the_sink_enqueues_the_push_task_on_commit(
    teacher: Any,
    push_service: PushService,
    immediate_tasks: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    browser = Browser(f"{push_service.origin}/push/phone")
    browser.subscribe(teacher)
    with django_capture_on_commit_callbacks(execute=True):
        _tell([teacher], category=Category.SECURITE, title="Mot de passe changé")
    (received,) = push_service.received
    assert browser.read(received)["title"] == "Mot de passe changé"


# --- preferences and quiet hours ----------------------------------------------------------


def _save(person: Any, *, off: tuple[tuple[str, str], ...] = ()) -> None:
    from convergence.notifications import actions

    grid = grid_of(person)
    for cell in off:
        grid[cell] = False
    actions.save_preferences(acting_user=person, grid=grid, schedule=schedule_of(person))


def test_the_push_channel_follows_the_grid_and_needs_a_device(
    pupil: Any, parent: Any, push_service: PushService
) -> None:
    Browser(f"{push_service.origin}/push/lea").subscribe(pupil)
    grid = grid_of(pupil)
    assert grid[(Category.ANNONCES, Channel.PUSH)] is True
    assert grid[(Category.SERVICES, Channel.PUSH)] is False  # the one default off
    _save(pupil, off=((Category.ASSISTANCE, Channel.PUSH), (Category.SECURITE, Channel.PUSH)))
    with freeze_time(TUESDAY_10):
        _tell([pupil, parent], category=Category.ANNONCES, title="Sortie")
        _tell([pupil], category=Category.ASSISTANCE, title="Ticket")
        _tell([pupil], category=Category.SERVICES, title="Nouveau service")
        _tell([pupil], category=Category.SECURITE, title="Sécurité")
    states = dict(Notification.objects.of(pupil).values_list("title", "push_state"))
    assert states == {
        "Sortie": PushState.WAITING,
        "Ticket": PushState.NONE,
        "Nouveau service": PushState.NONE,
        "Sécurité": PushState.WAITING,  # cannot be switched off
    }
    # The father has subscribed no device: nothing to push.
    assert Notification.objects.of(parent).get(title="Sortie").push_state == PushState.NONE
    assert push_actions.deliver_due_push(now=TUESDAY_10) == 2


def test_quiet_hours_hold_the_push_but_not_security(
    teacher: Any, push_service: PushService
) -> None:
    browser = Browser(f"{push_service.origin}/push/phone")
    browser.subscribe(teacher)
    with freeze_time(TUESDAY_22):
        _tell([teacher], category=Category.INCIDENTS, title="Maintenance de l'ENT")
        _tell([teacher], category=Category.SECURITE, title="Nouvel appareil connecté")
    assert push_actions.deliver_due_push(now=TUESDAY_22) == 1
    assert [browser.read(r)["title"] for r in push_service.received] == ["Nouvel appareil connecté"]
    waiting = Notification.objects.get(title="Maintenance de l'ENT")
    assert waiting.push_due_at is not None and waiting.push_due_at.astimezone(PARIS) == WEDNESDAY_7
    assert push_actions.deliver_due_push(now=WEDNESDAY_7 - datetime.timedelta(minutes=1)) == 0
    assert push_actions.deliver_due_push(now=WEDNESDAY_7 + datetime.timedelta(minutes=1)) == 1
    assert browser.read(push_service.received[-1])["title"] == "Maintenance de l'ENT"


def test_a_digest_does_not_hold_the_push(teacher: Any, push_service: PushService) -> None:
    assert schedule_of(teacher).email_mode == "digest"  # staff default
    Browser(f"{push_service.origin}/push/phone").subscribe(teacher)
    with freeze_time(TUESDAY_10):
        _tell([teacher], category=Category.ANNONCES)
    assert Notification.objects.of(teacher).get().push_due_at == TUESDAY_10
    assert Schedule().quiet_at(TUESDAY_10) is False


# --- devices ------------------------------------------------------------------------------


def test_ten_devices_at_most_the_oldest_dropped(teacher: Any, push_service: PushService) -> None:
    for number in range(11):
        Browser(f"{push_service.origin}/push/{number}").subscribe(teacher, label=f"n{number}")
    labels = set(PushSubscription.objects.of(teacher).values_list("label", flat=True))
    assert len(labels) == push_actions.MAX_DEVICES and "n0" not in labels and "n10" in labels


def test_an_endpoint_subscribed_again_moves_to_who_signed_in_there(
    teacher: Any, pupil: Any, push_service: PushService
) -> None:
    shared = Browser(f"{push_service.origin}/push/shared")
    shared.subscribe(teacher)
    shared.subscribe(pupil)
    assert PushSubscription.objects.get().person == pupil


def test_the_vapid_key_is_generated_once_or_taken_from_settings(db: None, settings: Any) -> None:
    first = push.public_key()
    assert push.public_key() == first and VapidKey.objects.count() == 1
    assert len(b64d(first)) == 65 and b64d(first)[0] == 4
    other = ec.generate_private_key(ec.SECP256R1())
    settings.WEBPUSH_VAPID_PRIVATE_KEY = other.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    expected = b64u(
        other.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
    )
    assert push.public_key() == expected


@pytest.mark.parametrize(
    ("endpoint", "allowed"),
    [
        ("https://fcm.googleapis.com/fcm/send/abc", True),
        ("https://updates.push.services.mozilla.com/wpush/v2/abc", True),
        ("https://web.push.apple.com/abc", True),
        ("http://fcm.googleapis.com/fcm/send/abc", False),
        ("https://fcm.googleapis.com.evil.example/abc", False),
        ("https://intranet.ac-besancon.fr/admin", False),
        ("https://user:pw@fcm.googleapis.com/abc", False),
        ("http://127.0.0.1:9/push", False),  # not without the local setting
    ],
)
def test_only_known_push_services_are_accepted(endpoint: str, allowed: bool, settings: Any) -> None:
    settings.WEBPUSH_ALLOW_LOCAL_HTTP = False
    assert push.endpoint_allowed(endpoint) is allowed


def test_purge_deletes_old_read_and_very_old_unread(teacher: Any) -> None:
    from convergence.notifications import actions

    now = TUESDAY_10
    with freeze_time(now - datetime.timedelta(days=100)):
        _tell([teacher], title="Lue il y a longtemps")
        _tell([teacher], title="Non lue récente")
    with freeze_time(now - datetime.timedelta(days=400)):
        _tell([teacher], title="Non lue très ancienne")
    with freeze_time(now - datetime.timedelta(days=10)):
        _tell([teacher], title="Lue récemment")
    Notification.objects.exclude(recipient=teacher).delete()  # the demo's own
    Notification.objects.filter(title__startswith="Lue").update(read_at=now)
    assert actions.purge_old_notifications(now=now) == 2
    assert set(Notification.objects.of(teacher).values_list("title", flat=True)) == {
        "Non lue récente",
        "Lue récemment",
    }


# --- what cannot stall the pushes ---------------------------------------------------------


def _size(message: dict[str, str]) -> int:
    return len(json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode())


def test_an_oversized_notification_is_pushed_cut_to_fit_and_the_next_still_goes(
    teacher: Any, push_service: PushService
) -> None:
    browser = Browser(f"{push_service.origin}/push/phone")
    browser.subscribe(teacher)
    title = "😀" * 200  # 4 bytes each in UTF-8
    with freeze_time(TUESDAY_10):
        _tell(
            [teacher],
            category=Category.SECURITE,
            title=title,
            body="𝄞" * 2000,
            url="/recherche/?q=" + "😀" * 480,
        )
        _tell([teacher], category=Category.SECURITE, title="Après")
    assert push_actions.deliver_due_push(now=TUESDAY_10) == 2
    first, second = (browser.read(received) for received in push_service.received)
    assert first["title"] == title
    assert first["url"] == "/notifications/"  # the link did not fit: the centre
    assert first["body"].startswith("𝄞") and first["body"].endswith("…")
    assert _size(first) <= push.PAYLOAD_BYTES
    assert second["title"] == "Après"


def test_the_payload_shortens_the_body_then_the_title_to_fit() -> None:
    url = "/" + "é" * 499  # 999 bytes: kept
    message = push.payload(title="😀" * 200, body="😀" * 300, url=url, tag="notification-1")
    assert message["url"] == url and message["title"] == "😀" * 200
    assert message["body"].endswith("…") and len(message["body"]) < 300
    assert _size(message) <= push.PAYLOAD_BYTES
    huge = push.payload(title="😀" * 1000, body="x", url=url, tag="notification-2")
    assert huge["body"] == "" and huge["title"].endswith("…")
    assert _size(huge) <= push.PAYLOAD_BYTES


def test_a_device_that_fails_unexpectedly_does_not_stop_the_others(
    teacher: Any, push_service: PushService, caplog: Any
) -> None:
    # Keys that are no point of the curve: the encryption itself fails for this device.
    PushSubscription.objects.create(
        person=teacher,
        endpoint=f"{push_service.origin}/push/broken",
        p256dh=b64u(b"\x04" + b"\x01" * 64),
        auth=b64u(os.urandom(16)),
        label="Ancien navigateur",
    )
    browser = Browser(f"{push_service.origin}/push/ok")
    browser.subscribe(teacher)
    with freeze_time(TUESDAY_10):
        _tell([teacher], category=Category.SECURITE, title="Un")
        _tell([teacher], category=Category.SECURITE, title="Deux")
    assert push_actions.deliver_due_push(now=TUESDAY_10) == 2
    assert [browser.read(received)["title"] for received in push_service.received] == [
        "Un",
        "Deux",
    ]
    assert "failed unexpectedly" in caplog.text
