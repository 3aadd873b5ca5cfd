"""Pages of phishing defence: « Signaler un hameçonnage » on a message (a confirmation page,
then the report), and the DSI's campaigns under /messagerie/hameconnage/ with « Prévenir
tout le monde »."""

from __future__ import annotations

from typing import cast
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from convergence.accounts.http import AuthenticatedRequest
from convergence.accounts.models import User
from convergence.accounts.permissions import dsi_required
from convergence.mail import connections, mailbox, phishing_actions, phishing_reports, rendering
from convergence.mail.views import imap_page


def _folder(request: HttpRequest) -> str:
    name = request.GET.get("dossier") or request.POST.get("dossier") or mailbox.INBOX
    return name.replace("\r", "").replace("\n", "")[:200]


def _list_url(folder: str) -> str:
    return f"{reverse('mail:inbox')}?{urlencode({'dossier': folder})}"


def _message_url(folder: str, uid: int) -> str:
    return f"{reverse('mail:message', args=[uid])}?{urlencode({'dossier': folder})}"


@imap_page
@require_http_methods(["GET", "POST"])
def report(request: HttpRequest, uid: int) -> HttpResponse:
    """GET: what reporting does, and the button that does it; POST: the report."""
    user = cast(User, request.user)
    folder = _folder(request)
    if request.method == "POST":
        try:
            outcome = phishing_actions.report_phishing(
                user=user, folder=folder, uid=uid, request=request
            )
        except LookupError:
            return render(request, "mail/gone.html", {"folder_name": folder}, status=404)
        except phishing_actions.ReportError as error:
            messages.error(request, str(error))
            return HttpResponseRedirect(_message_url(folder, uid))
        if outcome.already:
            messages.info(request, _("Vous avez déjà signalé ce message : merci."))
            return HttpResponseRedirect(_list_url(folder))
        if outcome.forwarded:
            messages.success(
                request,
                _(
                    "Merci : le message a été transmis à la cellule sécurité de l'académie et "
                    "déplacé dans « Indésirables »."
                ),
            )
        else:
            messages.warning(
                request,
                _(
                    "Votre signalement est enregistré et le message déplacé dans « Indésirables », "
                    "mais il n'a pas pu être transmis à la cellule sécurité : la DSI voit tout de "
                    "même votre signalement."
                ),
            )
        return HttpResponseRedirect(_list_url(folder))
    with connections.session(user) as connection:
        try:
            fetched = mailbox.fetch_message(connection, folder, uid, mark_seen=False)
        except LookupError:
            return render(request, "mail/gone.html", {"folder_name": folder}, status=404)
    shown = (
        rendering.render_message(fetched.raw, allow_remote=False, part_url=lambda p: "")
        if not fetched.too_large
        else None
    )
    state = phishing_reports.report_state(user, fetched, shown.message_id if shown else "")
    return render(
        request,
        "mail/phishing/confirm.html",
        {
            "folder_name": folder,
            "uid": uid,
            "message": shown,
            "state": state,
            "message_url": _message_url(folder, uid),
        },
    )


# --- The DSI's pages ------------------------------------------------------------------------


class WarningForm(forms.Form):
    """The DSI's warning to everyone about one campaign."""

    titre = forms.CharField(
        label=gettext_lazy("Titre"),
        max_length=160,
        help_text=gettext_lazy(
            "Par exemple « Faux message : votre boîte aux lettres est pleine »."
        ),
    )
    texte = forms.CharField(
        label=gettext_lazy("Texte"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=gettext_lazy(
            "Ce que chacun doit savoir et faire (1000 caractères au plus). Affiché pendant "
            "14 jours sur la page de connexion et le tableau de bord de tous : public, donc "
            "sans nom de personne."
        ),
    )

    def clean_titre(self) -> str:
        return self._single_line(self.cleaned_data["titre"])

    def clean_texte(self) -> str:
        value = str(self.cleaned_data["texte"]).strip()
        if any(ord(ch) < 32 and ch not in "\r\n\t" for ch in value):
            raise forms.ValidationError(_("Ce champ contient des caractères interdits."))
        return value

    @staticmethod
    def _single_line(value: str) -> str:
        if any(ord(ch) < 32 for ch in value):
            raise forms.ValidationError(_("Ce champ contient des caractères interdits."))
        return " ".join(value.split())


@dsi_required
@require_GET
def campaigns(request: AuthenticatedRequest) -> HttpResponse:
    return render(
        request,
        "mail/phishing/campaigns.html",
        {"campaigns": phishing_reports.campaigns(), "days": phishing_reports.WINDOW_DAYS},
    )


@dsi_required
@require_http_methods(["GET", "POST"])
def campaign(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    found = phishing_reports.campaign_of(pk)
    if found is None:
        raise Http404
    form = WarningForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        phishing_actions.warn_about_campaign(
            acting_user=request.user,
            campaign=found.label,
            title=form.cleaned_data["titre"],
            text=form.cleaned_data["texte"],
            request=request,
        )
        messages.success(
            request,
            _(
                "L'alerte est publiée : elle s'affiche sur la page de connexion et le tableau de "
                "bord de tous pendant 14 jours."
            ),
        )
        return HttpResponseRedirect(reverse("mail:phishing_campaign", args=[found.key]))
    return render(
        request,
        "mail/phishing/campaign.html",
        {"campaign": found, "form": form},
        status=400 if form.is_bound else 200,
    )
