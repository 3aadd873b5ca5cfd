"""Setting up phones and mail clients: Thunderbird's autoconfig, Apple's configuration
profile (unsigned and signed), the per-device pages that make an app password on the spot,
and the one-time download of the iPhone's profile."""

from __future__ import annotations

import datetime
import os
import plistlib
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID
from django.test import Client
from django.urls import reverse
from freezegun import freeze_time

from convergence.audit.models import AuditEvent
from convergence.core.links import absolute_url
from convergence.mail import actions, setup, setup_views
from convergence.mail.models import AppPassword, Device
from tests.helpers import client_of, sign_in_with_totp, text_of

AUTOCONFIG_PATHS = ("/.well-known/autoconfig/mail/config-v1.1.xml", "/mail/config-v1.1.xml")
SIGNED_DATA_OID = bytes.fromhex("06092a864886f70d010702")  # 1.2.840.113549.1.7.2


@pytest.fixture
def public_servers(settings: Any) -> setup.Servers:
    settings.MAIL_PUBLIC_IMAP_HOST = "imap.ac-besancon.fr"
    settings.MAIL_PUBLIC_IMAP_PORT = 993
    settings.MAIL_PUBLIC_IMAP_SECURITY = "tls"
    settings.MAIL_PUBLIC_SUBMISSION_HOST = "smtp.ac-besancon.fr"
    settings.MAIL_PUBLIC_SUBMISSION_PORT = 587
    settings.MAIL_PUBLIC_SUBMISSION_SECURITY = "starttls"
    return setup.servers_from_settings()


def _profile(servers: setup.Servers, **extra: Any) -> bytes:
    return setup.mobileconfig(
        "sbernard",
        "sophie.bernard@ac-besancon.fr",
        "Sophie Bernard",
        "abcde-fghjk-mnpqr-stuvw",
        servers,
        organization="Académie de Besançon",
        email_domain="ac-besancon.fr",
        **extra,
    )


# --- Thunderbird's autoconfig ------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("path", AUTOCONFIG_PATHS)
def test_autoconfig_carries_the_public_hosts_ports_and_socket_types(
    path: str, public_servers: setup.Servers
) -> None:
    response = Client().get(path)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/xml")
    root = ET.fromstring(response.content)  # noqa: S314  (the portal's own document)
    assert root.tag == "clientConfig" and root.get("version") == "1.1"
    provider = root.find("emailProvider")
    assert provider is not None
    assert provider.findtext("domain") == "ac-besancon.fr"
    incoming = provider.find("incomingServer[@type='imap']")
    outgoing = provider.find("outgoingServer[@type='smtp']")
    assert incoming is not None and outgoing is not None
    assert incoming.findtext("hostname") == "imap.ac-besancon.fr"
    assert incoming.findtext("port") == "993"
    assert incoming.findtext("socketType") == "SSL"
    assert outgoing.findtext("hostname") == "smtp.ac-besancon.fr"
    assert outgoing.findtext("port") == "587"
    assert outgoing.findtext("socketType") == "STARTTLS"
    for server in (incoming, outgoing):
        assert server.findtext("authentication") == "password-cleartext"
        # The académie's logins are not the address's local part.
        assert server.findtext("username") == "%EMAILADDRESS%"


@pytest.mark.django_db
def test_autoconfig_is_public_cacheable_and_the_same_for_every_address(
    teacher: Any, public_servers: setup.Servers
) -> None:
    anonymous = Client().get(AUTOCONFIG_PATHS[0])
    known = Client().get(AUTOCONFIG_PATHS[0], {"emailaddress": teacher.email})
    unknown = Client().get(AUTOCONFIG_PATHS[0], {"emailaddress": "personne@ac-besancon.fr"})
    assert anonymous.content == known.content == unknown.content
    assert teacher.login not in known.content.decode()
    assert "public" in known["Cache-Control"] and "max-age=3600" in known["Cache-Control"]
    assert "Set-Cookie" not in known.headers


def test_autoconfig_says_plain_for_a_server_without_tls_and_uses_a_known_login() -> None:
    servers = setup.Servers(
        imap=setup.MailServer("127.0.0.1", 1143, "none"),
        smtp=setup.MailServer("127.0.0.1", 1587, "none"),
    )
    document = setup.autoconfig_xml(
        "ac-besancon.fr", servers, display_name="Démo", username="sbernard"
    )
    root = ET.fromstring(document)  # noqa: S314  (built just above)
    assert [e.text for e in root.iter("socketType")] == ["plain", "plain"]
    assert [e.text for e in root.iter("username")] == ["sbernard", "sbernard"]


# --- Apple's configuration profile -------------------------------------------------------------


def test_an_unsigned_profile_is_a_mail_payload_holding_the_app_password(
    public_servers: setup.Servers,
) -> None:
    profile = plistlib.loads(_profile(public_servers))
    assert profile["PayloadType"] == "Configuration"
    assert profile["PayloadIdentifier"] == "fr.ac-besancon.convergence.messagerie.sbernard"
    (account,) = profile["PayloadContent"]
    assert account["PayloadType"] == "com.apple.mail.managed"
    assert account["EmailAccountType"] == "EmailTypeIMAP"
    assert account["EmailAddress"] == "sophie.bernard@ac-besancon.fr"
    assert account["IncomingMailServerAuthentication"] == "EmailAuthPassword"
    assert account["IncomingMailServerHostName"] == "imap.ac-besancon.fr"
    assert account["IncomingMailServerPortNumber"] == 993
    assert account["IncomingMailServerUseSSL"] is True
    assert account["IncomingMailServerUsername"] == "sbernard"
    assert account["OutgoingMailServerPortNumber"] == 587
    assert account["OutgoingMailServerUseSSL"] is True
    assert account["IncomingPassword"] == account["OutgoingPassword"] == "abcde-fghjk-mnpqr-stuvw"


def test_each_profile_has_new_uuids_but_the_same_identifier(public_servers: setup.Servers) -> None:
    first, second = (
        plistlib.loads(_profile(public_servers)),
        plistlib.loads(_profile(public_servers)),
    )
    assert first["PayloadIdentifier"] == second["PayloadIdentifier"]
    assert first["PayloadUUID"] != second["PayloadUUID"]
    assert first["PayloadContent"][0]["PayloadUUID"] != second["PayloadContent"][0]["PayloadUUID"]


def _self_signed(directory: Path) -> tuple[Path, Path, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Profils de l'académie (test)")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "profiles.pem", directory / "profiles.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path, certificate


def _tlv(data: bytes, at: int) -> tuple[int, int, int]:
    """One DER element at ``at``: (tag, start of its value, end of its value)."""
    tag, length = data[at], data[at + 1]
    start = at + 2
    if length & 0x80:
        count = length & 0x7F
        length = int.from_bytes(data[start : start + count], "big")
        start += count
    return tag, start, start + length


def _attached_content(der: bytes) -> bytes:
    """ContentInfo → [0] SignedData → encapContentInfo → [0] eContent OCTET STRING."""
    tag, start, end = _tlv(der, 0)
    assert tag == 0x30 and end == len(der)
    assert der[start : start + len(SIGNED_DATA_OID)] == SIGNED_DATA_OID
    tag, start, _ = _tlv(der, start + len(SIGNED_DATA_OID))  # [0] EXPLICIT
    assert tag == 0xA0
    tag, start, _ = _tlv(der, start)  # SignedData SEQUENCE
    assert tag == 0x30
    _, _, after_version = _tlv(der, start)  # version INTEGER
    _, _, after_algorithms = _tlv(der, after_version)  # digestAlgorithms SET
    tag, start, _ = _tlv(der, after_algorithms)  # encapContentInfo SEQUENCE
    assert tag == 0x30
    _, _, after_type = _tlv(der, start)  # eContentType OID
    tag, start, _ = _tlv(der, after_type)  # [0] EXPLICIT
    assert tag == 0xA0
    tag, start, end = _tlv(der, start)  # eContent OCTET STRING
    assert tag == 0x04
    return der[start:end]


def test_a_profile_is_signed_when_a_certificate_is_configured(
    public_servers: setup.Servers, settings: Any, tmp_path: Path
) -> None:
    cert_path, key_path, certificate = _self_signed(tmp_path)
    settings.MAIL_MOBILECONFIG_CERTIFICATE = str(cert_path)
    settings.MAIL_MOBILECONFIG_KEY = str(key_path)
    identity = setup.signing_identity()
    assert identity is not None
    signed = _profile(public_servers, identity=identity)
    with pytest.raises(plistlib.InvalidFileException):
        plistlib.loads(signed)
    inside = plistlib.loads(_attached_content(signed))
    assert inside["PayloadContent"][0]["IncomingPassword"] == "abcde-fghjk-mnpqr-stuvw"
    assert pkcs7.load_der_pkcs7_certificates(signed) == [certificate]
    openssl = shutil.which("openssl")
    if openssl is None:
        if os.environ.get("CI") == "true":
            pytest.fail("openssl is missing (Debian: apt-get install openssl)")
        pytest.skip("openssl is missing")
    (tmp_path / "profile.der").write_bytes(signed)
    verified = subprocess.run(
        [
            *(openssl, "cms", "-verify", "-inform", "DER", "-in", str(tmp_path / "profile.der")),
            *("-CAfile", str(cert_path), "-purpose", "any"),
        ],
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert verified.returncode == 0, verified.stderr.decode()
    assert plistlib.loads(verified.stdout)["PayloadType"] == "Configuration"


def test_a_profile_is_unsigned_without_certificate(settings: Any) -> None:
    settings.MAIL_MOBILECONFIG_CERTIFICATE = ""
    settings.MAIL_MOBILECONFIG_KEY = ""
    assert setup.signing_identity() is None


# --- The device pages ------------------------------------------------------------------------


def _secret(response: Any) -> str:
    found = re.search(r'id="app-password-secret">([a-z0-9-]+)<', response.content.decode())
    assert found is not None
    return found.group(1)


@pytest.mark.django_db
@pytest.mark.parametrize("device", ["iphone", "android", "thunderbird", "outlook"])
def test_each_device_page_shows_the_settings_and_the_login(
    device: str, teacher: Any, public_servers: setup.Servers
) -> None:
    response = client_of(teacher).get(reverse("mail_setup:device", args=[device]))
    assert response.status_code == 200
    page = text_of(response)
    assert "imap.ac-besancon.fr" in page and "smtp.ac-besancon.fr" in page
    assert "993" in page and "587" in page and "STARTTLS" in page
    assert f"<code>{teacher.login}</code>" in page


@pytest.mark.django_db
def test_an_unknown_device_is_not_found(teacher: Any) -> None:
    assert client_of(teacher).get("/messagerie/appareils/blackberry/").status_code == 404


@pytest.mark.django_db
def test_the_device_page_creates_an_app_password_for_this_device(teacher: Any) -> None:
    response = client_of(teacher).post(
        reverse("mail_setup:device", args=["android"]), {"label": "Téléphone perso"}
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    secret = _secret(response)
    made = AppPassword.objects.get(user=teacher)
    assert made.device == Device.ANDROID and made.label == "Téléphone perso"
    assert made.digest == actions.digest(secret)
    assert AuditEvent.objects.filter(
        event_type="mail.app_password_created", subject=teacher
    ).exists()
    # The settings' QR code is inline SVG, announced in French, and now carries the secret.
    svg = re.search(r"<svg[^>]*>.*?</svg>", response.content.decode(), re.S)
    assert svg is not None
    assert 'role="img"' in svg.group(0) and 'aria-label="Code QR' in svg.group(0)
    expected = setup.qr_svg(
        setup.settings_text(
            setup.servers_from_settings(),
            login=teacher.login,
            email=teacher.email,
            app_password=secret,
        ),
        label="x",
    )
    assert _path_of(expected) == _path_of(svg.group(0))


def _path_of(svg: str) -> str:
    found = re.search(r' d="([^"]+)"', svg)
    assert found is not None
    return found.group(1)


@pytest.mark.django_db
def test_a_person_with_a_second_factor_must_have_used_it_recently(dsi: Any) -> None:
    url = reverse("mail_setup:device", args=["thunderbird"])
    refused = client_of(dsi).post(url, {"label": "Poste"})
    assert refused.status_code == 302
    assert "reauthenticate" in refused["Location"]
    assert not AppPassword.objects.filter(user=dsi).exists()
    proved = Client()
    sign_in_with_totp(proved, dsi)
    assert proved.post(url, {"label": "Poste"}).status_code == 200
    assert AppPassword.objects.get(user=dsi).device == Device.THUNDERBIRD


@pytest.mark.django_db
def test_a_parent_has_no_mailbox_hence_no_setup_page(parent: Any) -> None:
    browser = client_of(parent)
    assert browser.get(reverse("mail_setup:device", args=["iphone"])).status_code == 403
    assert browser.post(reverse("mail_setup:device", args=["iphone"])).status_code == 403
    assert browser.get(reverse("mail_setup:profile")).status_code == 403
    assert not AppPassword.objects.filter(user=parent).exists()


# --- The iPhone's profile, downloaded once ------------------------------------------------------


def _made_on_iphone(browser: Client) -> tuple[str, str]:
    """The secret just made on the iPhone page and the phone's download token."""
    response = browser.post(
        reverse("mail_setup:device", args=["iphone"]), {"label": "iPhone personnel"}
    )
    assert response.status_code == 200
    token = browser.session[setup_views.SESSION_KEY]["token"]
    page = response.content.decode()
    # The QR code is the absolute address of the phone's download, inline, no image file.
    phone_url = absolute_url(reverse("mail_setup:profile_by_token", args=[token]))
    assert phone_url.startswith(("http://", "https://"))
    assert _path_of(setup.qr_svg(phone_url, label="x")) in page
    return _secret(response), token


def _password_in(response: Any) -> str:
    assert response["Content-Type"] == "application/x-apple-aspen-config"
    assert "no-store" in response["Cache-Control"]
    return str(plistlib.loads(response.content)["PayloadContent"][0]["IncomingPassword"])


@pytest.mark.django_db
def test_the_computer_downloads_the_profile_once(teacher: Any) -> None:
    browser = client_of(teacher)
    secret, token = _made_on_iphone(browser)
    first = browser.get(reverse("mail_setup:profile"))
    assert first.status_code == 200
    assert _password_in(first) == secret
    assert browser.get(reverse("mail_setup:profile")).status_code == 410
    # One download in all: the phone's token went with it.
    assert Client().get(reverse("mail_setup:profile_by_token", args=[token])).status_code == 410
    assert setup_views.SESSION_KEY not in browser.session


@pytest.mark.django_db
def test_the_phone_downloads_the_profile_once_without_signing_in(
    teacher: Any,
) -> None:
    browser = client_of(teacher)
    secret, token = _made_on_iphone(browser)
    phone = Client()
    first = phone.get(reverse("mail_setup:profile_by_token", args=[token]))
    assert first.status_code == 200
    assert _password_in(first) == secret
    assert phone.get(reverse("mail_setup:profile_by_token", args=[token])).status_code == 410
    assert browser.get(reverse("mail_setup:profile")).status_code == 410
    # The page no longer offers the used QR code.
    assert "Installer le profil" not in text_of(
        browser.get(reverse("mail_setup:device", args=["iphone"]))
    )


@pytest.mark.django_db
def test_the_download_token_expires_after_ten_minutes(teacher: Any) -> None:
    with freeze_time() as clock:
        _, token = _made_on_iphone(client_of(teacher))
        clock.tick(datetime.timedelta(minutes=10, seconds=1))
        response = Client().get(reverse("mail_setup:profile_by_token", args=[token]))
    assert response.status_code == 410


@pytest.mark.django_db
def test_the_download_token_is_bound_to_its_person(teacher: Any, head_of_school: Any) -> None:
    secret, token = _made_on_iphone(client_of(teacher))
    url = reverse("mail_setup:profile_by_token", args=[token])
    # Someone else's browser gets nothing, and the token is not spent for its owner.
    assert client_of(head_of_school).get(url).status_code == 410
    assert _password_in(client_of(teacher).get(url)) == secret


@pytest.mark.django_db
def test_a_revoked_app_password_gives_no_profile(teacher: Any) -> None:
    browser = client_of(teacher)
    _, token = _made_on_iphone(browser)
    made = AppPassword.objects.get(user=teacher)
    actions.revoke_app_password(app_password=made, actor=teacher)
    assert Client().get(reverse("mail_setup:profile_by_token", args=[token])).status_code == 410


@pytest.mark.django_db
def test_the_secret_is_not_in_the_cache_in_clear(teacher: Any) -> None:
    from django.core.cache import cache

    secret, token = _made_on_iphone(client_of(teacher))
    stored = cache.get(setup_views._cache_key(token))
    assert secret not in repr(stored) and token not in repr(stored)
    assert cache.get(token) is None


@pytest.mark.django_db
def test_an_invented_token_gives_nothing(teacher: Any) -> None:
    response = Client().get(reverse("mail_setup:profile_by_token", args=["x" * 43]))
    assert response.status_code == 410
