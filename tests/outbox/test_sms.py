"""The SMS adapter: French mobile numbers, the development outbox and the HTTP provider API."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured, ValidationError

from convergence.outbox import sms
from convergence.outbox.models import SmsMessage
from tests.conftest import stop_serving


@pytest.mark.parametrize(
    "typed",
    ["06 12 34 56 78", "0612345678", "06.12.34.56.78", "+33 6 12 34 56 78", "0033612345678"],
)
def test_french_mobile_numbers_are_normalised(typed: str) -> None:
    assert sms.normalise_french_mobile(typed) == "+33612345678"


def test_07_numbers_are_mobiles_too() -> None:
    assert sms.normalise_french_mobile("07 98 76 54 32") == "+33798765432"


@pytest.mark.parametrize(
    "typed", ["01 23 45 67 89", "06 12 34 56", "+44 7700 900123", "06 12 34 56 78 9", "abc", ""]
)
def test_other_numbers_are_refused_in_french(typed: str) -> None:
    with pytest.raises(ValidationError) as caught:
        sms.normalise_french_mobile(typed)
    assert "numéro de téléphone mobile français" in caught.value.messages[0]


def test_masked_phone_shows_only_its_last_digits() -> None:
    assert sms.mask_phone("+33612345678") == "06 •• •• •• 78"


@pytest.mark.django_db
def test_outbox_backend_keeps_the_message(settings: Any) -> None:
    settings.SMS_BACKEND = "outbox"
    sms.send_sms("+33612345678", "Votre code : 123456")
    message = SmsMessage.objects.get()
    assert (message.to, message.body) == ("+33612345678", "Votre code : 123456")


def test_unknown_backend_fails_loudly(settings: Any) -> None:
    settings.SMS_BACKEND = "pigeon"
    with pytest.raises(ImproperlyConfigured):
        sms.send_sms("+33612345678", "x")


def test_http_backend_needs_a_url(settings: Any) -> None:
    settings.SMS_BACKEND = "http"
    settings.SMS_HTTP_URL = ""
    with pytest.raises(ImproperlyConfigured):
        sms.send_sms("+33612345678", "x")


# The server below stands for the external SMS provider's HTTP API (outside the académie, so
# it is the one thing these tests replace); the adapter talks real HTTP to it.
@dataclass
class FakeProvider:
    status: int = 202
    delay: float = 0.0
    requests: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""


@pytest.fixture
def provider(settings: Any) -> Iterator[FakeProvider]:
    state = FakeProvider()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            state.requests.append(
                {
                    "path": self.path,
                    "authorization": self.headers.get("Authorization"),
                    "content_type": self.headers.get("Content-Type"),
                    "json": json.loads(self.rfile.read(length) or b"null"),
                }
            )
            if state.delay:
                time.sleep(state.delay)
            self.send_response(state.status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"id": "msg-1"}')

        def log_message(self, format: str, *args: Any) -> None:
            """Keep the test output quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/v1/sms"
    settings.SMS_BACKEND = "http"
    settings.SMS_HTTP_URL = state.url
    settings.SMS_HTTP_TOKEN = "jeton-de-test"
    settings.SMS_SENDER = "ACBESANCON"
    settings.SMS_TIMEOUT_SECONDS = 2.0
    try:
        yield state
    finally:
        stop_serving(server, thread)


def test_http_backend_posts_json_with_bearer_token(provider: FakeProvider) -> None:
    sms.send_sms("+33612345678", "Votre code : 123456")

    [request] = provider.requests
    assert request["path"] == "/v1/sms"
    assert request["authorization"] == "Bearer jeton-de-test"
    assert request["content_type"] == "application/json"
    assert request["json"] == {
        "to": "+33612345678",
        "from": "ACBESANCON",
        "text": "Votre code : 123456",
    }


@pytest.mark.django_db
def test_http_backend_stores_nothing_in_the_outbox(provider: FakeProvider) -> None:
    sms.send_sms("+33612345678", "x")
    assert not SmsMessage.objects.exists()


@pytest.mark.parametrize("status", [400, 401, 429, 500, 503])
def test_http_backend_raises_sms_error_when_refused(provider: FakeProvider, status: int) -> None:
    provider.status = status
    with pytest.raises(sms.SmsError, match=str(status)):
        sms.send_sms("+33612345678", "x")


def test_http_backend_raises_sms_error_on_timeout(provider: FakeProvider, settings: Any) -> None:
    settings.SMS_TIMEOUT_SECONDS = 0.2
    provider.delay = 1.0
    with pytest.raises(sms.SmsError, match="timed out"):
        sms.send_sms("+33612345678", "x")


def test_http_backend_raises_sms_error_when_unreachable(
    provider: FakeProvider, settings: Any
) -> None:
    # A port nothing listens on: the provider being down.
    with ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler) as closed:
        port = closed.server_address[1]
    settings.SMS_HTTP_URL = f"http://127.0.0.1:{port}/v1/sms"
    with pytest.raises(sms.SmsError, match="unreachable"):
        sms.send_sms("+33612345678", "x")


def test_http_backend_never_logs_the_text(
    provider: FakeProvider, caplog: pytest.LogCaptureFixture
) -> None:
    provider.status = 500
    with pytest.raises(sms.SmsError):
        sms.send_sms("+33612345678", "Votre code : 987654")
    assert "987654" not in caplog.text
    assert "HTTP 500" in caplog.text


OUTBOX = "/administration/outbox/smsmessage/"


def test_dsi_reads_the_outbox_in_the_administration(client: Any, dsi: Any) -> None:
    message = SmsMessage.objects.create(to="+33612345678", body="Votre code : 123456")
    client.force_login(dsi)

    assert "+33612345678" in client.get(OUTBOX).content.decode()
    page = client.get(f"{OUTBOX}{message.pk}/change/")
    assert page.status_code == 200
    assert "Votre code : 123456" in page.content.decode()


def test_outbox_is_read_only(client: Any, dsi: Any) -> None:
    message = SmsMessage.objects.create(to="+33612345678", body="x")
    client.force_login(dsi)

    assert client.get(f"{OUTBOX}add/").status_code == 403
    client.post(f"{OUTBOX}{message.pk}/change/", {"to": "+33600000000", "body": "y"})
    message.refresh_from_db()
    assert (message.to, message.body) == ("+33612345678", "x")
