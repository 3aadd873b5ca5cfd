"""Documents that set up a phone or a mail client: Thunderbird's autoconfig (clientConfig
v1.1), Apple's configuration profile (``.mobileconfig``), a settings QR code.

The builders are pure (their inputs are arguments, their output bytes or text), except
:func:`servers_from_settings` and :func:`signing_identity`, which read the settings.
"""

from __future__ import annotations

import plistlib
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import qrcode
import qrcode.constants
import qrcode.image.svg
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext as _

# Security as the settings spell it → Thunderbird's socketType.
SOCKET_TYPES = {"tls": "SSL", "starttls": "STARTTLS", "none": "plain"}
# Thunderbird's placeholder for the address typed in its first dialogue. The académie's
# logins are not the local part of the address (sbernard, not sophie.bernard), so
# %EMAILLOCALPART% would always be wrong; the address itself is the honest proposal.
USERNAME_PLACEHOLDER = "%EMAILADDRESS%"
SVG_NAMESPACE = "http://www.w3.org/2000/svg"


@dataclass(frozen=True)
class MailServer:
    """One server as phones and mail clients reach it."""

    hostname: str
    port: int
    security: str  # "tls" (implicit), "starttls" or "none"

    @property
    def socket_type(self) -> str:
        return SOCKET_TYPES.get(self.security, "plain")

    @property
    def encrypted(self) -> bool:
        return self.security in ("tls", "starttls")


@dataclass(frozen=True)
class Servers:
    imap: MailServer
    smtp: MailServer


def servers_from_settings() -> Servers:
    """The académie's public names, ports and TLS modes (``MAIL_PUBLIC_*``)."""
    return Servers(
        imap=MailServer(
            hostname=settings.MAIL_PUBLIC_IMAP_HOST,
            port=int(settings.MAIL_PUBLIC_IMAP_PORT),
            security=settings.MAIL_PUBLIC_IMAP_SECURITY,
        ),
        smtp=MailServer(
            hostname=settings.MAIL_PUBLIC_SUBMISSION_HOST,
            port=int(settings.MAIL_PUBLIC_SUBMISSION_PORT),
            security=settings.MAIL_PUBLIC_SUBMISSION_SECURITY,
        ),
    )


# --- Thunderbird ----------------------------------------------------------------------------


def autoconfig_xml(
    email_domain: str,
    servers: Servers,
    *,
    display_name: str,
    short_name: str = "",
    username: str | None = None,
    documentation_url: str = "",
) -> bytes:
    """Thunderbird's clientConfig v1.1 for ``email_domain``.

    ``username`` is the person's portal login when it is known (a signed-in page); the public
    document never knows it and proposes the address (:data:`USERNAME_PLACEHOLDER`).
    """
    root = ET.Element("clientConfig", version="1.1")
    provider = ET.SubElement(root, "emailProvider", id=email_domain)
    ET.SubElement(provider, "domain").text = email_domain
    ET.SubElement(provider, "displayName").text = display_name
    ET.SubElement(provider, "displayShortName").text = short_name or display_name
    login = username or USERNAME_PLACEHOLDER
    for tag, kind, server in (
        ("incomingServer", "imap", servers.imap),
        ("outgoingServer", "smtp", servers.smtp),
    ):
        element = ET.SubElement(provider, tag, type=kind)
        ET.SubElement(element, "hostname").text = server.hostname
        ET.SubElement(element, "port").text = str(server.port)
        ET.SubElement(element, "socketType").text = server.socket_type
        ET.SubElement(element, "username").text = login
        ET.SubElement(element, "authentication").text = "password-cleartext"
    if documentation_url:
        documentation = ET.SubElement(provider, "documentation", url=documentation_url)
        ET.SubElement(documentation, "descr", lang="fr").text = _(
            "Identifiant : celui du portail (pas l'adresse). "
            "Mot de passe : un mot de passe d'application créé sur le portail."
        )
    ET.indent(root)
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return document


# --- Apple configuration profile ------------------------------------------------------------


def payload_identifier(email_domain: str, login: str) -> str:
    """Stable for one person of one académie: installing a new profile replaces the old one."""
    reversed_domain = ".".join(reversed([p for p in email_domain.lower().split(".") if p]))
    safe_login = "".join(ch for ch in login.lower() if ch.isalnum() or ch in "-_") or "compte"
    return f"{reversed_domain}.convergence.messagerie.{safe_login}"


def mobileconfig_payload(
    *,
    login: str,
    email: str,
    full_name: str,
    app_password: str,
    servers: Servers,
    organization: str,
    email_domain: str,
) -> dict[str, object]:
    """The profile as a property list (a ``com.apple.mail.managed`` payload inside a
    ``Configuration``); random PayloadUUIDs, a stable PayloadIdentifier."""
    identifier = payload_identifier(email_domain, login)
    account: dict[str, object] = {
        "PayloadType": "com.apple.mail.managed",
        "PayloadVersion": 1,
        "PayloadIdentifier": f"{identifier}.compte",
        "PayloadUUID": str(uuid.uuid4()).upper(),
        "PayloadDisplayName": _("Messagerie académique"),
        "PayloadDescription": _("Compte de messagerie %(email)s") % {"email": email},
        "PayloadOrganization": organization,
        "EmailAccountDescription": organization,
        "EmailAccountName": full_name,
        "EmailAccountType": "EmailTypeIMAP",
        "EmailAddress": email,
        "IncomingMailServerAuthentication": "EmailAuthPassword",
        "IncomingMailServerHostName": servers.imap.hostname,
        "IncomingMailServerPortNumber": servers.imap.port,
        "IncomingMailServerUseSSL": servers.imap.encrypted,
        "IncomingMailServerUsername": login,
        "IncomingPassword": app_password,
        "OutgoingMailServerAuthentication": "EmailAuthPassword",
        "OutgoingMailServerHostName": servers.smtp.hostname,
        "OutgoingMailServerPortNumber": servers.smtp.port,
        "OutgoingMailServerUseSSL": servers.smtp.encrypted,
        "OutgoingMailServerUsername": login,
        "OutgoingPassword": app_password,
        "OutgoingPasswordSameAsIncomingPassword": True,
        "PreventMove": False,
        "PreventAppSheet": False,
        "SMIMEEnabled": False,
        "allowMailDrop": False,
    }
    return {
        "PayloadType": "Configuration",
        "PayloadVersion": 1,
        "PayloadIdentifier": identifier,
        "PayloadUUID": str(uuid.uuid4()).upper(),
        "PayloadDisplayName": _("Messagerie — %(organization)s") % {"organization": organization},
        "PayloadDescription": _(
            "Configure l'application Mail pour votre adresse académique. "
            "Le mot de passe inclus est un mot de passe d'application, révocable sur le portail."
        ),
        "PayloadOrganization": organization,
        "PayloadRemovalDisallowed": False,
        "PayloadContent": [account],
    }


@dataclass(frozen=True)
class SigningIdentity:
    certificate: x509.Certificate
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    chain: tuple[x509.Certificate, ...] = ()


def load_signing_identity(certificate_path: str, key_path: str) -> SigningIdentity:
    """The signer's certificate (then any intermediates, in the same PEM file) and its
    unencrypted private key. Raises :class:`ImproperlyConfigured` when unusable."""
    try:
        certificates = x509.load_pem_x509_certificates(Path(certificate_path).read_bytes())
        key = serialization.load_pem_private_key(Path(key_path).read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as error:
        raise ImproperlyConfigured(
            f"MAIL_MOBILECONFIG_CERTIFICATE / MAIL_MOBILECONFIG_KEY unusable: {error}"
        ) from error
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise ImproperlyConfigured("MAIL_MOBILECONFIG_KEY must be an RSA or EC private key.")
    return SigningIdentity(certificate=certificates[0], key=key, chain=tuple(certificates[1:]))


def signing_identity() -> SigningIdentity | None:
    """The identity profiles are signed with, when both settings name a file."""
    certificate = getattr(settings, "MAIL_MOBILECONFIG_CERTIFICATE", "")
    key = getattr(settings, "MAIL_MOBILECONFIG_KEY", "")
    if not certificate or not key:
        return None
    return load_signing_identity(str(certificate), str(key))


def sign(data: bytes, identity: SigningIdentity) -> bytes:
    """``data`` wrapped in a CMS SignedData (DER, content attached), as iOS expects."""
    builder = (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(data)
        .add_signer(identity.certificate, identity.key, hashes.SHA256())
    )
    for certificate in identity.chain:
        builder = builder.add_certificate(certificate)
    return builder.sign(serialization.Encoding.DER, [])


def mobileconfig(
    login: str,
    email: str,
    full_name: str,
    app_password: str,
    servers: Servers,
    *,
    organization: str,
    email_domain: str,
    identity: SigningIdentity | None = None,
) -> bytes:
    """The ``.mobileconfig`` file: an XML property list, signed when ``identity`` is given."""
    payload = mobileconfig_payload(
        login=login,
        email=email,
        full_name=full_name,
        app_password=app_password,
        servers=servers,
        organization=organization,
        email_domain=email_domain,
    )
    data = plistlib.dumps(payload, fmt=plistlib.FMT_XML)
    return sign(data, identity) if identity is not None else data


# --- QR codes and settings text ---------------------------------------------------------------


def security_label(security: str) -> str:
    """How a TLS mode is named in French in the mail apps' own settings screens."""
    return {"tls": "SSL/TLS", "starttls": "STARTTLS", "none": _("aucune")}.get(security, security)


def settings_text(servers: Servers, *, login: str, email: str, app_password: str = "") -> str:
    """The settings as plain text (for a QR code read by a phone's camera)."""
    lines = [
        _("Adresse : %(email)s") % {"email": email},
        _("Identifiant : %(login)s") % {"login": login},
    ]
    for name, server in (("IMAP", servers.imap), ("SMTP", servers.smtp)):
        lines.append(
            _("%(name)s : %(host)s, port %(port)d, sécurité %(security)s")
            % {
                "name": name,
                "host": server.hostname,
                "port": server.port,
                "security": security_label(server.security),
            }
        )
    if app_password:
        lines.append(_("Mot de passe d'application : %(secret)s") % {"secret": app_password})
    return "\n".join(lines)


def qr_svg(value: str, *, label: str, size: int = 240) -> str:
    """An inline SVG QR code of ``value`` (level M), on a white square so that it scans in
    a dark theme too, announced as an image with ``label``; no style attribute (CSP)."""
    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        border=4,
        image_factory=qrcode.image.svg.SvgPathImage,
    )
    code.add_data(value)
    code.make(fit=True)
    image = code.make_image()
    ET.register_namespace("", SVG_NAMESPACE)
    # qrcode's own output, made just above: not untrusted input.
    root = ET.fromstring(image.to_string(encoding="unicode"))  # noqa: S314
    view_box = root.get("viewBox", "0 0 1 1").split()
    background = ET.Element(
        f"{{{SVG_NAMESPACE}}}rect",
        x=view_box[0],
        y=view_box[1],
        width=view_box[2],
        height=view_box[3],
        fill="#ffffff",
    )
    root.insert(0, background)
    for path in root.iter(f"{{{SVG_NAMESPACE}}}path"):
        path.set("fill", "#000000")
    root.set("width", str(size))
    root.set("height", str(size))
    root.set("role", "img")
    root.set("aria-label", label)
    root.set("focusable", "false")
    title = ET.Element(f"{{{SVG_NAMESPACE}}}title")
    title.text = label
    root.insert(0, title)
    return ET.tostring(root, encoding="unicode")
