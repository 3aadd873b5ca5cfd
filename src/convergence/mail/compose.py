"""Writing mail: the message a person sends or saves as a draft, built with the standard
``email`` package under a strict policy (a header value holding CR or LF is refused, so no
header can be injected), replies and forwards prepared from the original.
"""

from __future__ import annotations

import datetime
import email.policy
import email.utils
from dataclasses import dataclass, field
from email.headerregistry import Address as HeaderAddress
from email.message import EmailMessage

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone
from django.utils.translation import gettext as _

from convergence.accounts.models import Assignment, Role, User
from convergence.mail.rendering import RenderedMessage, extract_part

# Strict: raising on defects instead of repairing them quietly; SMTP line endings.
POLICY = email.policy.SMTP.clone(raise_on_defect=True)
MAX_ADDRESSES = 100
LINE_BREAKS = ("\r", "\n", "\x00")


class ComposeError(ValueError):
    """A French message about what the person typed; nothing was sent."""


@dataclass
class Upload:
    filename: str
    content_type: str
    data: bytes


@dataclass
class Draft:
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    bcc: list[str] = field(default_factory=list)
    subject: str = ""
    body: str = ""
    in_reply_to: str = ""
    references: str = ""
    attachments: list[Upload] = field(default_factory=list)
    attached_message: bytes | None = None  # a forward "as attachment"

    @property
    def recipients(self) -> list[str]:
        return [*self.to, *self.cc, *self.bcc]


def attachment_limit_bytes(user: User) -> int:
    """How much a person may attach to one message: pupils less than staff."""
    staff = (
        Assignment.objects.current()
        .filter(user=user)
        .exclude(role__in=[Role.ELEVE, Role.PARENT])
        .exists()
    )
    megabytes = (
        settings.MAIL_ATTACHMENT_MAX_MB_STAFF if staff else settings.MAIL_ATTACHMENT_MAX_MB_PUPIL
    )
    return int(megabytes) * 1024 * 1024


def parse_addresses(text: str) -> list[str]:
    """Addresses typed by a person (commas, semicolons, « Nom <adresse> »), each validated."""
    if any(ch in text for ch in LINE_BREAKS):
        raise ComposeError(_("Une adresse ne peut pas contenir de retour à la ligne."))
    found: list[str] = []
    for _name, address in email.utils.getaddresses([text.replace(";", ",")]):
        address = address.strip()
        if not address:
            continue
        try:
            validate_email(address)
        except ValidationError:
            raise ComposeError(
                _("« %(address)s » n'est pas une adresse électronique valide.")
                % {"address": address[:80]}
            ) from None
        if address.lower() not in (a.lower() for a in found):
            found.append(address)
    if len(found) > MAX_ADDRESSES:
        raise ComposeError(
            _("Un message peut avoir au plus %(count)d destinataires.") % {"count": MAX_ADDRESSES}
        )
    return found


def _clean_header(value: str, label: str) -> str:
    if any(ch in value for ch in LINE_BREAKS):
        raise ComposeError(
            _("Le champ « %(label)s » ne peut pas contenir de retour à la ligne.")
            % {"label": label}
        )
    return value.strip()


def build(user: User, draft: Draft, *, for_draft: bool = False) -> EmailMessage:
    """The message ``user`` sends (or keeps as a draft), checked for size and injection."""
    if not for_draft and not draft.recipients:
        raise ComposeError(_("Indiquez au moins un destinataire."))
    if len(draft.recipients) > MAX_ADDRESSES:
        raise ComposeError(
            _("Un message peut avoir au plus %(count)d destinataires en tout.")
            % {"count": MAX_ADDRESSES}
        )
    subject = _clean_header(draft.subject, _("Objet"))
    size = sum(len(upload.data) for upload in draft.attachments) + len(
        draft.attached_message or b""
    )
    limit = attachment_limit_bytes(user)
    if size > limit:
        raise ComposeError(
            _(
                "Les pièces jointes pèsent %(size)s Mo ; la limite de votre compte est de "
                "%(limit)s Mo par message. Votre texte est conservé : retirez ou allégez des "
                "pièces jointes, ou déposez le fichier sur l'ENT et envoyez le lien."
            )
            % {"size": f"{size / 1048576:.1f}".replace(".", ","), "limit": limit // 1048576}
        )
    message = EmailMessage(policy=POLICY)
    try:
        message["From"] = HeaderAddress(
            display_name=user.get_full_name(), addr_spec=own_address(user)
        )
        if draft.to:
            message["To"] = ", ".join(draft.to)
        if draft.cc:
            message["Cc"] = ", ".join(draft.cc)
        if draft.bcc and for_draft:
            # Kept in the draft only: Bcc never travels with the sent message.
            message["Bcc"] = ", ".join(draft.bcc)
        message["Subject"] = subject
        message["Date"] = email.utils.format_datetime(timezone.now())
        domain = own_address(user).rpartition("@")[2]
        message["Message-ID"] = email.utils.make_msgid(domain=domain)
        if draft.in_reply_to:
            message["In-Reply-To"] = _clean_header(draft.in_reply_to, "In-Reply-To")
            references = _clean_header(draft.references, "References")
            message["References"] = (references + " " + draft.in_reply_to).strip()
        message["User-Agent"] = "Convergence"
    except (ValueError, TypeError) as error:
        raise ComposeError(_("Un champ du message contient des caractères interdits.")) from error
    message.set_content(draft.body or "", cte="quoted-printable")
    for upload in draft.attachments:
        maintype, _slash, subtype = upload.content_type.partition("/")
        if not subtype or any(ch in upload.content_type for ch in LINE_BREAKS):
            maintype, subtype = "application", "octet-stream"
        message.add_attachment(
            upload.data,
            maintype=maintype,
            subtype=subtype,
            filename=_safe_name(upload.filename),
        )
    if draft.attached_message is not None:
        original = email.message_from_bytes(draft.attached_message, policy=email.policy.default)
        message.add_attachment(original)
    return message


def _safe_name(name: str) -> str:
    cleaned = "".join(ch for ch in name if ch.isprintable() and ch not in '/\\"')
    return cleaned.strip()[:120] or "piece-jointe"


def as_bytes(message: EmailMessage) -> bytes:
    return message.as_bytes(policy=POLICY)


# --- Replies and forwards ------------------------------------------------------------------


def _quote(original: RenderedMessage) -> str:
    when = original.date.astimezone(datetime.UTC) if original.date else None
    sender = str(original.sender) if original.sender else _("l'expéditeur")
    if when is not None:
        shown = timezone.localtime(when).strftime("%d/%m/%Y %H:%M")
        intro = _("Le %(date)s, %(sender)s a écrit :") % {"date": shown, "sender": sender}
    else:
        intro = _("%(sender)s a écrit :") % {"sender": sender}
    quoted = "\n".join(f"> {line}" if line else ">" for line in original.text.splitlines())
    return f"\n\n{intro}\n{quoted}\n"


def _prefixed(subject: str, prefix: str) -> str:
    if subject.lower().startswith(prefix.lower()):
        return subject
    return f"{prefix} {subject}".strip()


def own_address(user: User) -> str:
    """The address a person writes from: their portal e-mail when it is an académie address,
    otherwise their mailbox's own ``login@domain`` (a pupil often has no e-mail in the
    portal; the mail relay's tables give every login that address, deploy/mail/postfix.py)."""
    domain = settings.MAIL_DOMAIN.lower()
    if user.email and user.email.lower().endswith("@" + domain):
        return user.email
    return f"{user.login}@{domain}"


def reply(
    user: User, original: RenderedMessage, *, to_all: bool, reply_to: list[str] | None = None
) -> Draft:
    """A draft answering ``original``: its sender (or Reply-To), and with ``to_all`` its other
    recipients, never the person themselves."""
    mine = own_address(user).lower()
    to = reply_to or ([original.sender.email] if original.sender else [])
    cc: list[str] = []
    if to_all:
        others = [a.email for a in [*original.to, *original.cc]]
        cc = [a for a in others if a.lower() != mine and a.lower() not in (t.lower() for t in to)]
    return Draft(
        to=[a for a in to if a.lower() != mine] or to,
        cc=list(dict.fromkeys(cc)),
        subject=_prefixed(original.subject, "Re:"),
        body=_quote(original),
        in_reply_to=original.message_id,
        references=" ".join(original.references),
    )


def forward(original: RenderedMessage, raw: bytes, *, as_attachment: bool) -> Draft:
    """A draft forwarding ``original``: quoted with its attachments, or whole as an .eml."""
    subject = _prefixed(original.subject, "Tr:")
    if as_attachment:
        return Draft(subject=subject, attached_message=raw)
    sender = str(original.sender) if original.sender else ""
    header = "\n".join(
        [
            "",
            "",
            _("-------- Message transféré --------"),
            _("De : %(sender)s") % {"sender": sender},
            _("Objet : %(subject)s") % {"subject": original.subject},
            "",
        ]
    )
    uploads = []
    for attachment in original.attachments:
        if attachment.inline:
            continue
        part = extract_part(raw, attachment.part_id)
        if part is not None:
            uploads.append(Upload(part.filename, part.content_type, part.data))
    return Draft(subject=subject, body=header + original.text, attachments=uploads)
