"""Fixtures of the webmail's tests: the académie's mail server as a server client."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from convergence.core.blueprints import apply
from tests.mail.dovecot import SERVER_CLIENT_ID, SERVER_CLIENT_SECRET


@dataclass(frozen=True)
class ServerClient:
    client_id: str
    client_secret: str

    def basic(self) -> str:
        raw = f"{self.client_id}:{self.client_secret}".encode()
        return "Basic " + base64.b64encode(raw).decode()


MAIL_SERVER = ServerClient(SERVER_CLIENT_ID, SERVER_CLIENT_SECRET)


@pytest.fixture
def mail_server_client(db: None) -> ServerClient:
    apply(
        {
            "server_clients": [
                {
                    "client_id": MAIL_SERVER.client_id,
                    "name": "Serveur de messagerie",
                    "client_secret": MAIL_SERVER.client_secret,
                }
            ]
        }
    )
    return MAIL_SERVER


@pytest.fixture(autouse=True)
def _close_mail_connections() -> Iterator[None]:
    from convergence.mail import connections

    connections.reset()
    yield
    connections.reset()
