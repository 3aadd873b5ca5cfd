"""Announcements: what a person received (list, page, « J'ai lu », files, the dashboard's
block polled every 30 s) and the authors' pages (write, preview, publish, withdraw, follow
the acknowledgements). Thin: validate, call one action, render."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from convergence.accounts.http import AuthenticatedRequest
from convergence.accounts.models import Assignment, Guardianship, Role, User
from convergence.accounts.permissions import (
    OutsideDelegation,
    announcer_required,
    may_publish_announcements,
)
from convergence.core.notify import is_local_path
from convergence.portal import announcement_actions as actions
from convergence.portal import announcement_text
from convergence.portal.announcement_forms import AnnouncementForm
from convergence.portal.announcements import (
    audience_of,
    board_of,
    divisions_of,
    pending_first,
    receipts_of,
)
from convergence.portal.models import (
    Announcement,
    AnnouncementAttachment,
    AnnouncementRecipient,
    AnnouncementState,
)

PAGE_SIZE = 20
ACK_PAGE_SIZE = 50
ACKNOWLEDGED = "lu"
NOT_ACKNOWLEDGED = "non-lu"


# --- what a person received --------------------------------------------------------------------


def _receipt(user: User, pk: int) -> AnnouncementRecipient | None:
    return receipts_of(user).filter(announcement_id=pk).first()


@login_required
@require_GET
def announcement_list(request: AuthenticatedRequest) -> HttpResponse:
    """The person's current announcements, those still to acknowledge first, 20 a page."""
    page = Paginator(pending_first(list(receipts_of(request.user))), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "portal/announcements/list.html",
        {
            "page": page,
            "here": request.get_full_path(),
            "may_publish": may_publish_announcements(request.user),
        },
    )


def _managed(user: User, pk: int) -> Announcement | None:
    return Announcement.objects.manageable_by(user).filter(pk=pk).first()


@login_required
@require_GET
def announcement_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """One announcement: its text, files and « J'ai lu », for its recipients while it is out
    (and its managers); 404 for anyone else."""
    receipt = _receipt(request.user, pk)
    if receipt is not None:
        announcement = receipt.announcement
    else:
        managed = _managed(request.user, pk)
        if managed is None:
            raise Http404
        announcement = managed
    return render(
        request,
        "portal/announcements/detail.html",
        {
            "announcement": announcement,
            "receipt": receipt,
            "attachments": list(announcement.attachments.all()),
            "here": request.get_full_path(),
        },
    )


@require_GET
def board(request: HttpRequest) -> HttpResponse:
    """The dashboard's « Annonces » block, polled every 30 s by itself (htmx): a few cache
    reads while nothing changed, and a 304 without a body for a browser that has it. Empty
    for a visitor: the block disappears and its polling stops with the session."""
    user = request.user
    if not isinstance(user, User):
        return HttpResponse("")
    found = board_of(user)
    asked = [tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")]
    if found.etag in asked:
        response = HttpResponse(status=304)
    else:
        response = render(request, "portal/announcements/_board.html", {"board": found})
    response["ETag"] = found.etag
    patch_cache_control(response, private=True, no_cache=True)
    patch_vary_headers(response, ["Cookie"])
    return response


def _back(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("retour", "")
    return target if target and is_local_path(target) else fallback


@login_required
@require_POST
def acknowledge(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """« J'ai lu »: the board again for htmx, else back where the person was."""
    announcement = Announcement.objects.filter(pk=pk).first()
    if announcement is None:
        raise Http404
    try:
        actions.acknowledge_announcement(
            acting_user=request.user, announcement=announcement, request=request
        )
    except actions.NotARecipient:
        raise Http404 from None
    if getattr(request, "htmx", False) and request.POST.get("bloc") == "1":
        return render(
            request,
            "portal/announcements/_board.html",
            {"board": board_of(request.user, fresh=True)},
        )
    messages.success(request, _("Lecture confirmée. Merci."))
    return HttpResponseRedirect(
        _back(request, reverse("portal:announcement", args=[announcement.pk]))
    )


@login_required
@require_http_methods(["GET", "HEAD"])
def attachment(request: AuthenticatedRequest, pk: int, attachment_pk: int) -> FileResponse:
    """A file of the announcement, for its recipients while it is out and its managers
    (404 for anyone else), always as a download in its checked type."""
    if _receipt(request.user, pk) is None and _managed(request.user, pk) is None:
        raise Http404
    found = AnnouncementAttachment.objects.filter(announcement_id=pk, pk=attachment_pk).first()
    if found is None:
        raise Http404
    try:
        handle = found.file.open("rb")
    except FileNotFoundError:
        raise Http404(_("Pièce jointe introuvable.")) from None
    response = FileResponse(
        handle, as_attachment=True, filename=found.name, content_type=found.content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "sandbox"
    return response


# --- the authors' pages ------------------------------------------------------------------------


def _managed_or_404(user: User, pk: int) -> Announcement:
    found = _managed(user, pk)
    if found is None:
        raise OutsideDelegation(kind="announcement", target=pk)
    return found


@announcer_required
@require_GET
def manage_list(request: AuthenticatedRequest) -> HttpResponse:
    """The announcements the person may manage, newest first, 20 a page."""
    found = Announcement.objects.manageable_by(request.user).select_related(
        "establishment", "author"
    )
    page = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "portal/announcements/manage_list.html", {"page": page})


def _edit(request: AuthenticatedRequest, announcement: Announcement | None) -> HttpResponse:
    form = AnnouncementForm(
        request.POST or None,
        request.FILES or None,
        user=request.user,
        instance=announcement,
    )
    preview_html = ""
    if request.method == "POST" and form.is_valid():
        if request.POST.get("action") == "apercu":
            preview_html = announcement_text.render(form.cleaned_data["body"])
        else:
            if announcement is None:
                saved = actions.create_announcement(
                    acting_user=request.user, draft=form.draft(), request=request
                )
                messages.success(request, _("Brouillon enregistré. Vérifiez-le, puis publiez-le."))
            else:
                saved = actions.update_announcement(
                    acting_user=request.user,
                    announcement=announcement,
                    draft=form.draft(),
                    remove_attachments=form.removed_attachments(),
                    request=request,
                )
                messages.success(request, _("Annonce modifiée."))
            return redirect("portal:announcement_manage", saved.pk)
    return render(
        request,
        "portal/announcements/form.html",
        {"form": form, "announcement": announcement, "preview": preview_html},
        status=400 if form.is_bound and form.errors else 200,
    )


@announcer_required
@require_http_methods(["GET", "POST"])
def manage_new(request: AuthenticatedRequest) -> HttpResponse:
    """Write a new announcement (saved as a draft), with a preview of its text."""
    return _edit(request, None)


@announcer_required
@require_http_methods(["GET", "POST"])
def manage_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Change a draft or scheduled announcement; a published one no longer changes."""
    announcement = _managed_or_404(request.user, pk)
    if not announcement.is_editable:
        messages.error(request, _("Une annonce publiée ne se modifie plus : retirez-la si besoin."))
        return redirect("portal:announcement_manage", announcement.pk)
    return _edit(request, announcement)


@announcer_required
@require_GET
def manage_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """One announcement as its recipients will see it, its audience, state and actions."""
    announcement = _managed_or_404(request.user, pk)
    expected = audience_of(announcement).count() if announcement.is_editable else None
    return render(
        request,
        "portal/announcements/manage_detail.html",
        {
            "announcement": announcement,
            "attachments": list(announcement.attachments.all()),
            "departments": list(announcement.departments.order_by("code")),
            "roles": _role_labels(announcement.roles),
            "expected": expected,
            "scheduled_later": announcement.publish_at is not None
            and announcement.publish_at > timezone.now(),
        },
    )


def _role_labels(values: list[str]) -> list[str]:
    return [str(Role(value).label) for value in values if value in Role.values]


@announcer_required
@require_GET
def manage_progress(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """« Envoi en cours : n destinataires », polled by the author's page until sent."""
    announcement = _managed_or_404(request.user, pk)
    return render(request, "portal/announcements/_progress.html", {"announcement": announcement})


@announcer_required
@require_POST
def manage_publish(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    announcement = _managed_or_404(request.user, pk)
    try:
        published = actions.publish_announcement(
            acting_user=request.user, announcement=announcement, request=request
        )
    except actions.AnnouncementRefused:
        messages.error(
            request, _("Cette annonce ne peut pas être publiée (déjà publiée, retirée ou expirée).")
        )
        return redirect("portal:announcement_manage", announcement.pk)
    if published.state == AnnouncementState.SCHEDULED:
        messages.success(request, _("Annonce programmée."))
    else:
        messages.success(request, _("Annonce publiée : l'envoi à ses destinataires a commencé."))
    return redirect("portal:announcement_manage", announcement.pk)


@announcer_required
@require_POST
def manage_withdraw(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    announcement = _managed_or_404(request.user, pk)
    if actions.withdraw_announcement(
        acting_user=request.user, announcement=announcement, request=request
    ):
        messages.success(request, _("Annonce retirée : ses destinataires ne la voient plus."))
    return redirect("portal:announcement_manage", announcement.pk)


# --- acknowledgements --------------------------------------------------------------------------


def _recipients(announcement: Announcement, request: HttpRequest) -> tuple[Any, dict[str, str]]:
    """The recipients filtered as asked (state, role, class), and the filters kept."""
    found = AnnouncementRecipient.objects.filter(announcement=announcement)
    state = request.GET.get("etat", "")
    role = request.GET.get("profil", "")
    division = request.GET.get("classe", "")
    if state == ACKNOWLEDGED:
        found = found.filter(acknowledged_at__isnull=False)
    elif state == NOT_ACKNOWLEDGED:
        found = found.filter(acknowledged_at__isnull=True)
    else:
        state = ""
    places = Assignment.objects.current()
    if announcement.establishment_id is not None:
        places = places.filter(establishment_id=announcement.establishment_id)
    if role in Role.values:
        found = found.filter(person__in=places.filter(role=role).values("user"))
    else:
        role = ""
    if division and announcement.establishment_id is not None:
        pupils = places.filter(role=Role.ELEVE, division=division).values("user")
        found = found.filter(
            Q(person__in=pupils)
            | Q(person__in=Guardianship.objects.filter(pupil__in=pupils).values("parent"))
        )
    else:
        division = ""
    return found, {"etat": state, "profil": role, "classe": division}


def _with_profiles(found: Any, announcement: Announcement) -> Any:
    places = Assignment.objects.current().order_by("role")
    if announcement.establishment_id is not None:
        places = places.filter(establishment_id=announcement.establishment_id)
    return found.select_related("person").prefetch_related(
        Prefetch("person__assignments", queryset=places, to_attr="profiles")
    )


@announcer_required
@require_GET
def manage_acknowledgements(request: AuthenticatedRequest, pk: int) -> HttpResponseBase:
    """Who acknowledged and who did not: counts, 50 a page, filters by state, role and class,
    and the CSV export of the filtered list."""
    announcement = _managed_or_404(request.user, pk)
    found, filters = _recipients(announcement, request)
    ordered = _with_profiles(found, announcement).order_by(
        "person__last_name", "person__first_name", "person_id"
    )
    if request.GET.get("format") == "csv":
        return _csv(announcement, ordered)
    counts = AnnouncementRecipient.objects.filter(announcement=announcement).aggregate(
        total=Count("pk"), acknowledged=Count("pk", filter=Q(acknowledged_at__isnull=False))
    )
    page = Paginator(ordered, ACK_PAGE_SIZE).get_page(request.GET.get("page"))
    kept = {key: value for key, value in filters.items() if value}
    divisions = (
        divisions_of([announcement.establishment_id])[announcement.establishment_id]
        if announcement.establishment_id is not None
        else []
    )
    return render(
        request,
        "portal/announcements/acknowledgements.html",
        {
            "announcement": announcement,
            "page": page,
            "counts": {**counts, "missing": counts["total"] - counts["acknowledged"]},
            "filters": filters,
            "filter_query": urlencode(kept),
            "csv_query": urlencode({**kept, "format": "csv"}),
            "roles": [(value, label) for value, label in Role.choices if value != Role.DSI],
            "divisions": divisions,
        },
    )


def _cell(value: str) -> str:
    """A CSV cell a spreadsheet will not take for a formula."""
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv(announcement: Announcement, recipients: Any) -> StreamingHttpResponse:
    writer = csv.writer(_Echo(), delimiter=";")

    def rows() -> Iterator[str]:
        yield "\ufeff" + writer.writerow(
            [_("Nom"), _("Prénom"), _("Identifiant"), _("Profils"), _("Classes"), _("Lu le")]
        )
        for receipt in recipients.iterator(chunk_size=2000):
            person = receipt.person
            profiles = getattr(person, "profiles", [])
            yield writer.writerow(
                [
                    _cell(person.last_name),
                    _cell(person.first_name),
                    _cell(person.login),
                    ", ".join(sorted({str(Role(a.role).label) for a in profiles})),
                    _cell(", ".join(sorted({a.division for a in profiles if a.division}))),
                    timezone.localtime(receipt.acknowledged_at).strftime("%d/%m/%Y %H:%M")
                    if receipt.acknowledged_at
                    else "",
                ]
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="annonce-{announcement.pk}-lectures.csv"'
    )
    response["Cache-Control"] = "private, no-store"
    return response
