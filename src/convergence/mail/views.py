"""The webmail's pages (thin: check the input, ask the server or an action, render).

Every page that talks to the IMAP server catches :class:`MailUnavailable` and answers the
branded « Messagerie momentanément indisponible » (503 with ``Retry-After``, a link to the
status page): the rest of the portal is not involved.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, TypeVar, cast

from django.contrib import messages
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseRedirect,
    JsonResponse,
)
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from convergence.accounts.models import User
from convergence.accounts.permissions import has_academic_mailbox, mailbox_required
from convergence.core import errors, ratelimit
from convergence.core.middleware import content_security_policy
from convergence.mail import (
    actions,
    compose,
    connections,
    contacts,
    forms,
    limits,
    mailbox,
    phishing,
    phishing_reports,
    rendering,
    rules_actions,
    setup,
    submission,
    widgets,
)
from convergence.mail.connections import MailRefused, MailUnavailable
from convergence.mail.errors import MAIL_UNAVAILABLE
from convergence.mail.models import AppPassword, TrustedSender
from convergence.mail.servers import mail_server
from convergence.mfa.policy import session_used_mfa_within, step_up_url, user_has_mfa

_View = TypeVar("_View", bound=Callable[..., HttpResponseBase])
RETRY_AFTER_SECONDS = 30
# Every page lists the folders with their counts: their number is bounded.
MAX_FOLDERS = 200
# Inline parts shown in the page rather than downloaded: raster images (never SVG).
INLINE_IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
PART_ID = re.compile(r"[1-9][0-9]{0,3}(\.[1-9][0-9]{0,3}){0,9}")
# A second factor must have been proved this recently to create an app password.
APP_PASSWORD_MFA_SECONDS = 10 * 60


def unavailable(request: HttpRequest) -> HttpResponse:
    errors.remember(request, MAIL_UNAVAILABLE.code)
    response = render(request, "mail/unavailable.html", {"error": MAIL_UNAVAILABLE}, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def imap_page(view: _View) -> _View:
    """A page of the webmail: the person must have a mailbox; the server being down is a
    503 page of its own, never a 500."""

    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            return view(request, *args, **kwargs)
        except (MailUnavailable, MailRefused):
            return unavailable(request)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return cast(_View, never_cache(mailbox_required(wrapper)))


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _folder(request: HttpRequest) -> str:
    name = request.GET.get("dossier") or request.POST.get("dossier") or mailbox.INBOX
    return name.replace("\r", "").replace("\n", "")[:200]


def _list_url(folder: str, **extra: Any) -> str:
    from urllib.parse import urlencode

    query = {"dossier": folder, **{k: v for k, v in extra.items() if v}}
    return f"{reverse('mail:inbox')}?{urlencode(query)}"


@imap_page
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    folder = _folder(request)
    view = request.GET.get("filtre", mailbox.Filter.ALL)
    if view not in mailbox.Filter.CHOICES:
        view = mailbox.Filter.ALL
    try:
        number = int(request.GET.get("page", "1"))
    except ValueError:
        number = 1
    grouped = request.GET.get("vue") == "conversations"
    threads = None
    with connections.session(_user(request)) as connection:
        folders = mailbox.folders(connection)
        if folder not in {f.name for f in folders if f.selectable}:
            folder = mailbox.INBOX
        can_thread = mailbox.can_thread(connection)
        if grouped and can_thread and view == mailbox.Filter.ALL:
            threads = mailbox.conversations(connection, folder, number=number)
        current = (
            mailbox.page(connection, folder, number=number, view=view)
            if threads is None
            else mailbox.Page(folder, [], threads.total, threads.number, threads.pages, view)
        )
    context = {
        "folders": folders,
        "folder": next((f for f in folders if f.name == folder), None),
        "page": current,
        "filter": view,
        "move_targets": [f for f in folders if f.selectable and f.name != folder],
        "search_form": forms.SearchForm(initial={"dossier": folder}),
        "page_query": _query(folder, filtre=view, **({"vue": "conversations"} if threads else {}))
        + "&",
        "threads": threads,
        "can_thread": can_thread,
        "drafts": any(f.name == folder and f.special_use == "\\Drafts" for f in folders),
        "vacation": rules_actions.vacation_notice(_user(request)),
    }
    return render(request, "mail/inbox.html", context)


@imap_page
@require_GET
def search(request: HttpRequest) -> HttpResponse:
    form = forms.SearchForm(request.GET or None)
    results = None
    folder = _folder(request)
    with connections.session(_user(request)) as connection:
        folders = mailbox.folders(connection)
        if form.is_valid():
            folder = form.cleaned_data["dossier"] or mailbox.INBOX
            if folder not in {f.name for f in folders if f.selectable}:
                folder = mailbox.INBOX
            results = mailbox.search(
                connection, folder, form.query(), number=form.cleaned_data["page"] or 1
            )
    kept = request.GET.copy()
    kept.pop("page", None)
    return render(
        request,
        "mail/search.html",
        {
            "form": form,
            "page": results,
            "folders": folders,
            "folder_name": folder,
            "page_query": kept.urlencode() + "&",
        },
    )


def _trusted(user: User, address: str) -> bool:
    return bool(address) and TrustedSender.objects.filter(user=user, address=address).exists()


@imap_page
@require_GET
def message(request: HttpRequest, uid: int) -> HttpResponse:
    folder = _folder(request)
    user = _user(request)
    with connections.session(user) as connection:
        try:
            fetched = mailbox.fetch_message(connection, folder, uid, mark_seen=True)
        except LookupError:
            return render(request, "mail/gone.html", {"folder_name": folder}, status=404)
        folders = mailbox.folders(connection)
    widgets.forget_unread(user.pk)

    def part_url(part_id: str) -> str:
        return f"{_part_url(folder, uid, part_id)}&affichage=1"

    rendered = None
    allow = remote_shown = False
    if not fetched.too_large:
        # First without remote images, to learn the sender; then with them if trusted.
        rendered = rendering.render_message(fetched.raw, allow_remote=False, part_url=part_url)
        sender = rendered.sender.email.lower() if rendered.sender else ""
        allow = request.GET.get("images") == "1" or _trusted(user, sender)
        if allow and rendered.blocked_remote:
            rendered = rendering.render_message(fetched.raw, allow_remote=True, part_url=part_url)
            remote_shown = True
    sender_verdict = (
        phishing.assess(rendered.sender.email, rendered.sender.name)
        if rendered is not None and rendered.sender is not None
        else None
    )
    context = {
        "folder_name": folder,
        "folders": folders,
        "fetched": fetched,
        "message": rendered,
        "verdict": sender_verdict,
        "phishing_report": phishing_reports.report_state(
            user, fetched, rendered.message_id if rendered is not None else ""
        ),
        "uid": uid,
        "move_targets": [f for f in folders if f.selectable and f.name != folder],
        "images_url": f"{request.path}?{_query(folder, images='1')}",
    }
    response = render(request, "mail/message.html", context)
    if rendered is not None and allow and rendered.blocked_remote == 0 and remote_shown:
        # The reader chose to see this message's remote images: its page alone may load
        # images from elsewhere (the portal's policy allows its own only); the Referer stays
        # home (Referrer-Policy: same-origin), scripts and the rest stay forbidden.
        response["Content-Security-Policy"] = content_security_policy().replace(
            "img-src 'self' data:", "img-src 'self' data: https: http:"
        )
    return response


def _query(folder: str, **extra: str) -> str:
    from urllib.parse import urlencode

    return urlencode({"dossier": folder, **extra})


def _part_url(folder: str, uid: int, part_id: str) -> str:
    return f"{reverse('mail:part', args=[uid, part_id])}?{_query(folder)}"


@imap_page
@require_GET
def part(request: HttpRequest, uid: int, part_id: str) -> HttpResponse:
    """An attachment (always downloaded) or an inline image (shown), served with headers that
    keep the browser from running anything in the portal's origin."""
    folder = _folder(request)
    if not PART_ID.fullmatch(part_id):
        return render(request, "mail/gone.html", {"folder_name": folder}, status=404)
    with connections.session(_user(request)) as connection:
        fetched = mailbox.fetch_part(connection, folder, uid, part_id)
    extracted = rendering.part_from_fetch(part_id, *fetched) if fetched is not None else None
    if extracted is None:
        return render(request, "mail/gone.html", {"folder_name": folder}, status=404)
    response = HttpResponse(extracted.data)
    for header, value in rendering.safe_download_headers(extracted).items():
        response[header] = value
    if request.GET.get("affichage") == "1" and extracted.content_type in INLINE_IMAGE_TYPES:
        # An inline (cid:) image of the message, shown in its page: a raster image only.
        response["Content-Type"] = extracted.content_type
        response["Content-Disposition"] = "inline"
    return response


def _is_uid(value: str) -> bool:
    """An IMAP UID as typed in a form or a link (ASCII digits, at most 32 bits)."""
    return 0 < len(value) <= 10 and value.isascii() and value.isdigit() and int(value) < 2**32


def _selected_uids(request: HttpRequest) -> list[int]:
    uids: list[int] = []
    for value in request.POST.getlist("uid")[:1000]:
        if _is_uid(value):
            uids.append(int(value))
    return uids


def _back(request: HttpRequest, folder: str) -> str:
    target = request.POST.get("retour", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return _list_url(folder)


@imap_page
@require_POST
def act(request: HttpRequest) -> HttpResponse:
    folder = _folder(request)
    action = request.POST.get("action", "")
    if action not in mailbox.Action.CHOICES:
        messages.error(request, _("Action inconnue."))
        return HttpResponseRedirect(_list_url(folder))
    uids = _selected_uids(request)
    target = request.POST.get("cible", "")[:200]
    with connections.session(_user(request)) as connection:
        if action == mailbox.Action.MOVE and target not in mailbox.selectable_names(connection):
            messages.error(request, _("Choisissez un dossier de destination."))
            return HttpResponseRedirect(_back(request, folder))
        try:
            said = mailbox.act(connection, folder, uids, action, target=target)
        except MailUnavailable:
            if action == mailbox.Action.ARCHIVE:
                messages.error(request, _("Votre messagerie n'a pas de dossier d'archives."))
                return HttpResponseRedirect(_back(request, folder))
            raise
    widgets.forget_unread(_user(request).pk)
    if request.headers.get("HX-Request"):
        return JsonResponse({"message": said})
    messages.success(request, said)
    destination = _back(request, folder)
    if action in (mailbox.Action.DELETE, mailbox.Action.ARCHIVE, mailbox.Action.MOVE):
        # The message left this folder: back to the list, not to the message.
        destination = _list_url(folder)
    return HttpResponseRedirect(destination)


@imap_page
@require_POST
def empty_trash(request: HttpRequest) -> HttpResponse:
    with connections.session(_user(request)) as connection:
        count = mailbox.empty_trash(connection)
    messages.success(
        request,
        _("Corbeille vidée (%(count)d messages supprimés définitivement).") % {"count": count},
    )
    return HttpResponseRedirect(_list_url(mailbox.INBOX))


@imap_page
@require_POST
def manage_folder(request: HttpRequest) -> HttpResponse:
    form = forms.FolderForm(request.POST)
    if not form.is_valid():
        for error in form.errors.values():
            messages.error(request, " ".join(str(e) for e in error))
        return HttpResponseRedirect(_list_url(_folder(request)))
    operation = form.cleaned_data["operation"]
    name = form.cleaned_data["nom"]
    current = form.cleaned_data["dossier"]
    with connections.session(_user(request)) as connection:
        folders = {f.name: f for f in mailbox.folders(connection)}
        if operation == "create":
            if name in folders:
                messages.error(request, _("Un dossier porte déjà ce nom."))
                return HttpResponseRedirect(_list_url(current or mailbox.INBOX))
            if len(folders) >= MAX_FOLDERS:
                messages.error(
                    request,
                    _(
                        "Vous avez atteint %(count)d dossiers : supprimez-en un avant d'en "
                        "créer un autre."
                    )
                    % {"count": MAX_FOLDERS},
                )
                return HttpResponseRedirect(_list_url(current or mailbox.INBOX))
            mailbox.create_folder(connection, name)
            messages.success(request, _("Dossier « %(name)s » créé.") % {"name": name})
            return HttpResponseRedirect(_list_url(name))
        existing = folders.get(current)
        if existing is None or not existing.deletable:
            messages.error(request, _("Ce dossier ne peut pas être modifié."))
            return HttpResponseRedirect(_list_url(mailbox.INBOX))
        if operation == "rename":
            if name in folders:
                messages.error(request, _("Un dossier porte déjà ce nom."))
                return HttpResponseRedirect(_list_url(current))
            mailbox.rename_folder(connection, current, name)
            messages.success(request, _("Dossier renommé."))
            return HttpResponseRedirect(_list_url(name))
        mailbox.delete_folder(connection, current)
        messages.success(request, _("Dossier supprimé."))
        return HttpResponseRedirect(_list_url(mailbox.INBOX))


@mailbox_required
@require_POST
def trust_sender(request: HttpRequest) -> HttpResponse:
    address = request.POST.get("adresse", "").strip().lower()
    folder = _folder(request)
    if "@" in address and len(address) <= 254:
        actions.trust_sender(user=_user(request), address=address)
        messages.success(
            request,
            _("Les images de %(address)s seront désormais affichées.") % {"address": address},
        )
    return HttpResponseRedirect(_back(request, folder))


# --- App passwords and devices -------------------------------------------------------------


@never_cache
@mailbox_required
@require_http_methods(["GET", "POST"])
def devices(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    needs_mfa = user_has_mfa(user) and not session_used_mfa_within(
        request, APP_PASSWORD_MFA_SECONDS
    )
    created = None
    form = forms.AppPasswordForm(request.POST or None)
    if request.method == "POST":
        if needs_mfa:
            return HttpResponseRedirect(step_up_url(user, request.path))
        if form.is_valid():
            try:
                created = actions.create_app_password(
                    user=user,
                    label=form.cleaned_data["label"],
                    device=form.cleaned_data["device"],
                    request=request,
                )
            except actions.AppPasswordError as error:
                form.add_error(None, str(error))
            else:
                form = forms.AppPasswordForm()
    context = {
        "form": form,
        "created": created,
        "needs_mfa": needs_mfa,
        "step_up_url": step_up_url(user, request.path) if needs_mfa else "",
        "app_passwords": AppPassword.objects.of(user).active(),
        "servers": setup.servers_from_settings(),
        "email": user.email,
        "trusted_senders": TrustedSender.objects.filter(user=user).order_by("address"),
        "login": user.login,
    }
    response = render(request, "mail/devices.html", context)
    if created is not None:
        response["Cache-Control"] = "no-store"
    return response


@mailbox_required
@require_POST
def revoke(request: HttpRequest, pk: int) -> HttpResponse:
    app_password = get_object_or_404(AppPassword.objects.of(request.user), pk=pk)
    if actions.revoke_app_password(
        app_password=app_password, actor=_user(request), request=request
    ):
        messages.success(
            request,
            _(
                "Le mot de passe de « %(label)s » est révoqué : cet appareil ne pourra plus se "
                "connecter. S'il est connecté en ce moment, il peut le rester jusqu'à sa "
                "prochaine connexion ; si l'appareil a été perdu ou volé, changez aussi votre "
                "mot de passe."
            )
            % {"label": app_password.label},
        )
    return HttpResponseRedirect(reverse("mail:devices"))


# --- The mail server's check of an app password --------------------------------------------


@csrf_exempt
@require_POST
def server_check(request: HttpRequest) -> HttpResponse:
    """Dovecot (checkpassword) or the demo server asks whether an app password is valid.
    Only the académie's servers may ask (their client credentials); the answer never says
    why a password was refused."""
    server = mail_server(request)
    if server is None:
        return JsonResponse({"error": "unauthorized"}, status=401)
    login = request.POST.get("login", "")
    password = request.POST.get("password", "")
    protocol = request.POST.get("protocol", "")
    remote_ip = request.POST.get("remote_ip", "")[:64]
    try:
        user = actions.check_app_password(
            login=login, password=password, protocol=protocol, remote_ip=remote_ip, server=server
        )
    except actions.Throttled as throttled:
        response = JsonResponse({"error": "throttled"}, status=429)
        response["Retry-After"] = str(throttled.retry_after)
        return response
    except ratelimit.LimiterUnavailable:
        response = JsonResponse({"error": "unavailable"}, status=503)
        response["Retry-After"] = "30"
        return response
    if user is None:
        return JsonResponse({"error": "refused"}, status=403)
    return HttpResponse(json.dumps({"login": user.login}), content_type="application/json")


# --- Writing --------------------------------------------------------------------------------


def _original(user: User, folder: str, uid: int) -> tuple[bytes, rendering.RenderedMessage] | None:
    """A message of the person's, parsed (to answer, forward, or edit as a draft)."""
    with connections.session(user) as connection:
        try:
            fetched = mailbox.fetch_message(connection, folder, uid, mark_seen=False)
        except LookupError:
            return None
    if fetched.too_large:
        return None
    rendered = rendering.render_message(fetched.raw, allow_remote=False, part_url=lambda p: "")
    return fetched.raw, rendered


def _attachments_of(raw: bytes, rendered: rendering.RenderedMessage) -> list[compose.Upload]:
    uploads = []
    for attachment in rendered.attachments:
        if attachment.inline:
            continue
        part = rendering.extract_part(raw, attachment.part_id)
        if part is not None:
            uploads.append(compose.Upload(part.filename, part.content_type, part.data))
    return uploads


def _initial(request: HttpRequest, user: User) -> tuple[dict[str, Any], list[str]]:
    """The form's first values and the names of attachments carried over."""
    folder = _folder(request)
    signature = actions.signature_of(user)
    signed = f"\n\n-- \n{signature}" if signature else ""
    for key, origin in (("repondre", "reponse"), ("transferer", "transfert")):
        value = request.GET.get(key, "")
        if not _is_uid(value):
            continue
        found = _original(user, folder, int(value))
        if found is None:
            break
        raw, rendered = found
        as_piece = origin == "transfert" and request.GET.get("piece") == "1"
        if origin == "reponse":
            draft = compose.reply(user, rendered, to_all=request.GET.get("tous") == "1")
            carried: list[str] = []
        else:
            draft = compose.forward(rendered, raw, as_attachment=as_piece)
            carried = (
                [f"{rendered.subject or 'message'}.eml"]
                if as_piece
                else [a.filename for a in draft.attachments]
            )
        return {
            "a": ", ".join(draft.to),
            "cc": ", ".join(draft.cc),
            "objet": draft.subject,
            "texte": signed + draft.body if origin == "reponse" else draft.body + signed,
            "en_reponse_a": draft.in_reply_to,
            "references": draft.references,
            "origine_dossier": folder,
            "origine_uid": int(value),
            "origine": "transfert_piece" if as_piece else origin,
        }, carried
    value = request.GET.get("brouillon", "")
    if _is_uid(value):
        with connections.session(user) as connection:
            drafts = mailbox.ensure_special_folder(connection, "\\Drafts")
        found = _original(user, drafts, int(value))
        if found is not None:
            raw, rendered = found
            return {
                "a": ", ".join(a.email for a in rendered.to),
                "cc": ", ".join(a.email for a in rendered.cc),
                "objet": rendered.subject,
                "texte": rendered.text,
                "brouillon_uid": int(value),
                "en_reponse_a": rendered.in_reply_to,
            }, [a.filename for a in rendered.attachments if not a.inline]
    prefill = contacts.compose_prefill(request, user)  # ?liste=: a group or class in Cci
    return {"a": request.GET.get("a", "")[:500], "texte": signed, **prefill}, []


def _draft_from(
    user: User, form: forms.ComposeForm, files: list[Any]
) -> tuple[compose.Draft, tuple[str, int, bytes] | None]:
    data = form.cleaned_data
    draft = compose.Draft(
        to=compose.parse_addresses(data["a"] or ""),
        cc=compose.parse_addresses(data["cc"] or ""),
        bcc=compose.parse_addresses(data["cci"] or ""),
        subject=data["objet"] or "",
        body=(data["texte"] or "").replace("\r\n", "\n"),
        in_reply_to=data["en_reponse_a"] or "",
        references=data["references"] or "",
    )
    limit = compose.attachment_limit_bytes(user)
    if sum(upload.size or 0 for upload in files) > limit:
        # Refused before reading a byte of the files.
        raise compose.ComposeError(
            _(
                "Les pièces jointes dépassent la limite de votre compte (%(limit)s Mo par "
                "message). Votre texte est conservé : retirez ou allégez des pièces jointes."
            )
            % {"limit": limit // 1048576}
        )
    for upload in files:
        draft.attachments.append(
            compose.Upload(
                upload.name or "piece-jointe",
                upload.content_type or "application/octet-stream",
                upload.read(),
            )
        )
    answered = None
    origin, origin_uid = data["origine"], data["origine_uid"]
    origin_folder = data["origine_dossier"] or mailbox.INBOX
    if origin and origin_uid:
        found = _original(user, origin_folder, origin_uid)
        if found is not None:
            raw, rendered = found
            if origin == "transfert":
                draft.attachments.extend(_attachments_of(raw, rendered))
            elif origin == "transfert_piece":
                draft.attached_message = raw
            flag = b"\\Answered" if origin == "reponse" else b"$Forwarded"
            answered = (origin_folder, origin_uid, flag)
    if data["brouillon_uid"]:
        with connections.session(user) as connection:
            drafts = mailbox.ensure_special_folder(connection, "\\Drafts")
        found = _original(user, drafts, data["brouillon_uid"])
        if found is not None:
            draft.attachments.extend(_attachments_of(*found))
    return draft, answered


@imap_page
@require_http_methods(["GET", "POST"])
def write(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if request.method == "GET":
        initial, carried = _initial(request, user)
        form = forms.ComposeForm(initial=initial)
        return render(request, "mail/compose.html", _compose_context(user, form, carried))
    form = forms.ComposeForm(request.POST, request.FILES)
    saving = request.POST.get("action") == "brouillon"
    carried = request.POST.getlist("reportees")[:50]
    status = 400
    if form.is_valid():
        files = list(form.cleaned_data["pieces"])
        try:
            draft, answered = _draft_from(user, form, files)
            if saving:
                uid = actions.save_draft(
                    user=user, draft=draft, replaced=form.cleaned_data["brouillon_uid"]
                )
                return _draft_saved(request, form, uid, carried)
            missed = actions.send_message(
                user=user,
                draft=draft,
                replaced_draft=form.cleaned_data["brouillon_uid"],
                answered=answered,
                request=request,
            )
        except compose.ComposeError as error:
            form.add_error(None, str(error))
        except limits.SendingRefused as refusal:
            status = 403 if refusal.verdict.kind == limits.SUSPENDED else 429
            form, carried = _keep_as_draft(
                request, form, draft, files, carried, reason=refusal.verdict.reason
            )
        except actions.SendLimited as limited:
            status = 429
            form, carried = _keep_as_draft(
                request,
                form,
                draft,
                files,
                carried,
                reason=_(
                    "Vous avez envoyé beaucoup de messages en peu de temps : réessayez dans "
                    "%(minutes)d minutes. Votre message est conservé ci-dessous."
                )
                % {"minutes": max(1, (limited.args[0] or 60) // 60)},
            )
        except submission.SendRefused as refused:
            status = 502
            form.add_error(
                None,
                _(
                    "Le serveur de messagerie a refusé ce message (%(reason)s). Votre message "
                    "est conservé ci-dessous."
                )
                % {"reason": refused.reason[:200]},
            )
        except MailUnavailable:
            status = 503
            form.add_error(
                None,
                _(
                    "La messagerie est momentanément indisponible : le message n'est pas parti. "
                    "Votre texte est conservé ci-dessous ; réessayez dans quelques minutes."
                ),
            )
        else:
            messages.success(request, _("Message envoyé."))
            if missed:
                messages.warning(
                    request,
                    _(
                        "Le serveur a refusé ces destinataires : %(addresses)s. Les autres ont "
                        "reçu le message."
                    )
                    % {"addresses": ", ".join(sorted(missed))[:500]},
                )
            return HttpResponseRedirect(reverse("mail:inbox"))
    response = render(
        request, "mail/compose.html", _compose_context(user, form, carried), status=status
    )
    if status == 503:
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _keep_as_draft(
    request: HttpRequest,
    form: forms.ComposeForm,
    draft: compose.Draft,
    files: list[Any],
    carried: list[str],
    *,
    reason: str,
) -> tuple[forms.ComposeForm, list[str]]:
    """A message the limits refused, saved in Drafts (nothing lost, its attachments
    included): the form again, now editing that draft, with ``reason`` and a note that it
    was saved. The mail server down: the form as it was, with ``reason`` (its text is still
    shown)."""
    try:
        uid = actions.save_draft(
            user=_user(request), draft=draft, replaced=form.cleaned_data["brouillon_uid"]
        )
    except (MailUnavailable, MailRefused):
        form.add_error(None, reason)
        return form, carried
    data = request.POST.copy()
    data["brouillon_uid"] = str(uid or "")
    if data.get("origine") in {"transfert", "transfert_piece"}:
        data["origine"], data["origine_uid"] = "", ""  # their attachments are in the draft now
    kept = forms.ComposeForm(data)
    kept.is_valid()
    kept.add_error(None, reason)
    kept.add_error(None, _("Votre message est enregistré dans vos brouillons."))
    return kept, [*carried, *(upload.name for upload in files if upload.name)]


def _draft_saved(
    request: HttpRequest, form: forms.ComposeForm, uid: int | None, carried: list[str]
) -> HttpResponse:
    if request.headers.get("HX-Request"):
        return render(request, "mail/_draft_saved.html", {"uid": uid})
    messages.success(request, _("Brouillon enregistré."))
    data = form.cleaned_data
    data["brouillon_uid"] = uid
    fresh = forms.ComposeForm(initial={k: v for k, v in data.items() if k != "pieces"})
    return render(request, "mail/compose.html", _compose_context(_user(request), fresh, carried))


def _compose_context(user: User, form: forms.ComposeForm, carried: list[str]) -> dict[str, Any]:
    return {
        "form": form,
        "carried": carried,
        "limit_mb": compose.attachment_limit_bytes(user) // 1048576,
        "sending_suspended": limits.suspension_notice(user),
    }


@mailbox_required
@require_http_methods(["GET", "POST"])
def signature(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = forms.SignatureForm(request.POST or None, initial={"texte": actions.signature_of(user)})
    if request.method == "POST" and form.is_valid():
        actions.save_signature(user=user, text=form.cleaned_data["texte"])
        messages.success(request, _("Signature enregistrée."))
        return HttpResponseRedirect(reverse("mail:signature"))
    return render(request, "mail/signature.html", {"form": form})


@never_cache
@require_GET
def unread_badge(request: HttpRequest) -> HttpResponse:
    """The header's unread count (htmx, after the page): empty when there is nothing to say
    or the server cannot say — never an error in the header."""
    user = request.user
    if not user.is_authenticated or not has_academic_mailbox(user):
        return HttpResponse("")
    count = widgets.unread_count(user)
    if not count:
        return HttpResponse("")
    return render(request, "mail/_unread_badge.html", {"count": count})
