"""The pages of the mail rules and the vacation reply (thin: check the input, call one action
of ``rules_actions``, render). The person must have a mailbox; the mail server being down is
the webmail's branded 503 (``views.imap_page``); a script the server refuses is shown with
the server's own reason, the person's input kept in the form."""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from convergence.accounts.models import User
from convergence.mail import connections, mailbox, rules_actions, rules_forms, sieve
from convergence.mail.rules_actions import RulesError, RulesRefused
from convergence.mail.views import imap_page

STATUS_REFUSED = 409


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _error_context(error: RulesError) -> dict[str, Any]:
    return {"error": str(error), "reason": getattr(error, "reason", "")}


def _list(
    request: HttpRequest, *, status: int = 200, extra: dict[str, Any] | None = None
) -> HttpResponse:
    context: dict[str, Any] = {
        "templates": rules_actions.templates(),
        "rules": [],
        "vacation": None,
        **(extra or {}),
    }
    try:
        state = rules_actions.read_state(_user(request))
    except RulesRefused:
        raise
    except RulesError as error:
        context.setdefault("error", str(error))
        context["unreadable"] = True
        return render(request, "mail/rules/list.html", context, status=status)
    context["rules"] = [
        {
            "number": index + 1,
            "rule": rule,
            "first": index == 0,
            "last": index == len(state.rules) - 1,
        }
        for index, rule in enumerate(state.rules)
    ]
    context["vacation"] = state.vacation
    return render(request, "mail/rules/list.html", context, status=status)


@imap_page
@require_http_methods(["GET"])
def rules(request: HttpRequest) -> HttpResponse:
    return _list(request)


@imap_page
@require_POST
def act(request: HttpRequest) -> HttpResponse:
    """One change to the list: enable, disable, move up or down, delete, apply a template."""
    user = _user(request)
    operation = request.POST.get("operation", "")
    try:
        index = int(request.POST.get("regle", "0")) - 1
    except ValueError:
        index = -1
    try:
        if operation in ("enable", "disable"):
            rules_actions.set_rule_enabled(
                user=user, index=index, enabled=operation == "enable", request=request
            )
            done = _("Règle activée.") if operation == "enable" else _("Règle désactivée.")
        elif operation in ("up", "down"):
            rules_actions.move_rule(
                user=user, index=index, offset=-1 if operation == "up" else 1, request=request
            )
            done = _("Ordre des règles enregistré.")
        elif operation == "delete":
            rules_actions.delete_rule(user=user, index=index, request=request)
            done = _("Règle supprimée.")
        elif operation == "template":
            rules_actions.apply_template(
                user=user, slug=request.POST.get("modele", ""), request=request
            )
            done = _("Modèle appliqué : vérifiez l'ordre de vos règles ci-dessous.")
        else:
            raise RulesError(_("Cette action n'existe pas."))
    except RulesError as error:
        return _list(request, status=STATUS_REFUSED, extra=_error_context(error))
    messages.success(request, done)
    return HttpResponseRedirect(reverse("mail_rules:rules"))


def _folder_names(user: User) -> list[str]:
    with connections.session(user) as connection:
        names = [f.name for f in mailbox.folders(connection) if f.selectable]
    return sorted(set(names) | {rules_actions.OTHERS_FOLDER, rules_actions.NEWSLETTERS_FOLDER})


@imap_page
@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, number: int | None = None) -> HttpResponse:
    """« Nouvelle règle » (``number`` None) or the rule at ``number`` (from 1)."""
    user = _user(request)
    index = None if number is None else number - 1
    initial: dict[str, Any] = {"match": sieve.ALL, "enabled": True}
    if index is not None:
        try:
            state = rules_actions.read_state(user)
        except RulesError as error:
            return _list(request, status=STATUS_REFUSED, extra=_error_context(error))
        if not 0 <= index < len(state.rules):
            raise Http404
        initial = rules_forms.initial_of(state.rules[index])
    form = rules_forms.RuleForm(request.POST or None, initial=initial)
    context: dict[str, Any] = {"form": form, "number": number}
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            rules_actions.save_rule(user=user, rule=form.rule(), index=index, request=request)
        except RulesError as error:
            context.update(_error_context(error))
            status = STATUS_REFUSED
        else:
            messages.success(request, _("Règle enregistrée."))
            return HttpResponseRedirect(reverse("mail_rules:rules"))
    elif request.method == "POST":
        status = 400
    context["folder_names"] = _folder_names(user)
    return render(request, "mail/rules/edit.html", context, status=status)


@imap_page
@require_http_methods(["GET", "POST"])
def vacation(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    try:
        state = rules_actions.read_state(user)
    except RulesError as error:
        return _list(request, status=STATUS_REFUSED, extra=_error_context(error))
    form = rules_forms.VacationForm(
        request.POST if request.POST.get("operation") == "save" else None,
        initial=rules_forms.vacation_initial(state.vacation),
    )
    context: dict[str, Any] = {"form": form, "vacation": state.vacation}
    status = 200
    if request.method == "POST":
        try:
            if request.POST.get("operation") == "clear":
                rules_actions.clear_vacation(user=user, request=request)
                messages.success(request, _("Réponse automatique désactivée."))
                return HttpResponseRedirect(reverse("mail_rules:vacation"))
            if form.is_valid():
                rules_actions.save_vacation(user=user, vacation=form.vacation(), request=request)
                messages.success(request, _("Réponse automatique enregistrée."))
                return HttpResponseRedirect(reverse("mail_rules:vacation"))
            status = 400
        except RulesError as error:
            context.update(_error_context(error))
            status = STATUS_REFUSED
    return render(request, "mail/rules/vacation.html", context, status=status)
