"""The forms of the rules and vacation pages: « Si … alors … » in plain French.

A rule form has a fixed number of condition rows and action rows (no JavaScript needed); a
row whose kind is left empty is ignored. The forms only shape the input: the limits, the
groups' expansion and the forwarding policy are checked by ``rules_actions``.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from convergence.mail import rules_actions, sieve

CONDITION_ROWS = 4
ACTION_ROWS = 4

CONDITION_CHOICES = [
    ("", _("— choisir —")),
    (sieve.FROM, _("l'expéditeur est…")),
    (sieve.GROUP, _("l'expéditeur fait partie de…")),
    (sieve.FROM_DOMAIN, _("l'adresse de l'expéditeur se termine par…")),
    (sieve.SUBJECT, _("l'objet contient…")),
    (sieve.ATTACHMENT, _("le message a une pièce jointe")),
    (sieve.CC_ME, _("je suis en copie")),
    (sieve.LIST, _("c'est une lettre d'information ou une liste de diffusion")),
    (sieve.OTHER, _("tous les messages")),
]
ACTION_CHOICES = [
    ("", _("— choisir —")),
    (sieve.FILEINTO, _("classer dans le dossier…")),
    (sieve.SEEN, _("marquer comme lu")),
    (sieve.REDIRECT, _("transférer une copie à…")),
    (sieve.NOTIFY, _("me notifier sur le portail")),
    (sieve.STOP, _("ne pas appliquer les règles suivantes")),
]
GROUP_CHOICES = [("", _("— choisir —")), *rules_actions.GROUPS.items()]
MATCH_CHOICES = [
    (sieve.ALL, _("toutes les conditions sont remplies")),
    (sieve.ANY, _("au moins une condition est remplie")),
]
_SEPARATORS = re.compile(r"[,;\n]+")


class RuleForm(forms.Form):
    name = forms.CharField(label=_("Nom de la règle"), max_length=rules_actions.MAX_NAME_LENGTH)
    match = forms.ChoiceField(label=_("Si"), choices=MATCH_CHOICES, initial=sieve.ALL)
    enabled = forms.BooleanField(label=_("Règle active"), required=False, initial=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for row in range(CONDITION_ROWS):
            self.fields[f"condition_{row}_kind"] = forms.ChoiceField(
                label=_("Condition"), choices=CONDITION_CHOICES, required=False
            )
            self.fields[f"condition_{row}_negate"] = forms.BooleanField(
                label=_("sauf si (inverser)"), required=False
            )
            self.fields[f"condition_{row}_group"] = forms.ChoiceField(
                label=_("Groupe de l'annuaire"), choices=GROUP_CHOICES, required=False
            )
            self.fields[f"condition_{row}_values"] = forms.CharField(
                label=_("Adresses, domaines ou mots (séparés par des virgules)"),
                required=False,
                max_length=4000,
            )
        for row in range(ACTION_ROWS):
            self.fields[f"action_{row}_kind"] = forms.ChoiceField(
                label=_("Action"), choices=ACTION_CHOICES, required=False
            )
            self.fields[f"action_{row}_folder"] = forms.CharField(
                label=_("Dossier"), required=False, max_length=rules_actions.MAX_FOLDER_LENGTH
            )
            self.fields[f"action_{row}_address"] = forms.CharField(
                label=_("Adresse"), required=False, max_length=254
            )

    def condition_rows(self) -> list[dict[str, Any]]:
        return [
            {
                name: self[f"condition_{row}_{name}"]
                for name in ("kind", "negate", "group", "values")
            }
            for row in range(CONDITION_ROWS)
        ]

    def action_rows(self) -> list[dict[str, Any]]:
        return [
            {name: self[f"action_{row}_{name}"] for name in ("kind", "folder", "address")}
            for row in range(ACTION_ROWS)
        ]

    def rule(self) -> sieve.Rule:
        data = self.cleaned_data
        conditions = []
        for row in range(CONDITION_ROWS):
            kind = data.get(f"condition_{row}_kind")
            if not kind:
                continue
            values = tuple(
                part.strip()
                for part in _SEPARATORS.split(data.get(f"condition_{row}_values") or "")
                if part.strip()
            )
            conditions.append(
                sieve.Condition(
                    kind=kind,
                    values=values,
                    group=data.get(f"condition_{row}_group") or "",
                    negate=bool(data.get(f"condition_{row}_negate")),
                )
            )
        actions = []
        for row in range(ACTION_ROWS):
            kind = data.get(f"action_{row}_kind")
            if not kind:
                continue
            value = ""
            if kind == sieve.FILEINTO:
                value = data.get(f"action_{row}_folder") or ""
            elif kind == sieve.REDIRECT:
                value = data.get(f"action_{row}_address") or ""
            actions.append(sieve.Action(kind=kind, value=value))
        return sieve.Rule(
            name=data["name"],
            match=data["match"],
            enabled=bool(data.get("enabled")),
            conditions=tuple(conditions),
            actions=tuple(actions),
        )


def initial_of(rule: sieve.Rule) -> dict[str, Any]:
    """The form's initial data for an existing rule."""
    initial: dict[str, Any] = {"name": rule.name, "match": rule.match, "enabled": rule.enabled}
    for row, condition in enumerate(rule.conditions[:CONDITION_ROWS]):
        initial[f"condition_{row}_kind"] = condition.kind
        initial[f"condition_{row}_negate"] = condition.negate
        initial[f"condition_{row}_group"] = condition.group
        if condition.kind in (sieve.FROM, sieve.FROM_DOMAIN, sieve.SUBJECT):
            initial[f"condition_{row}_values"] = ", ".join(condition.values)
    for row, action in enumerate(rule.actions[:ACTION_ROWS]):
        initial[f"action_{row}_kind"] = action.kind
        if action.kind == sieve.FILEINTO:
            initial[f"action_{row}_folder"] = action.value
        elif action.kind == sieve.REDIRECT:
            initial[f"action_{row}_address"] = action.value
    return initial


class VacationForm(forms.Form):
    start = forms.DateField(
        label=_("Du"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=_("Au (inclus)"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    subject = forms.CharField(
        label=_("Objet de la réponse"), max_length=rules_actions.MAX_SUBJECT_LENGTH
    )
    text = forms.CharField(
        label=_("Texte de la réponse"),
        max_length=rules_actions.MAX_TEXT_LENGTH,
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    days = forms.IntegerField(
        label=_("Une seule réponse par expéditeur tous les … jours"),
        min_value=1,
        max_value=rules_actions.MAX_DAYS,
        initial=7,
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            self.add_error("end", _("La date de fin doit suivre la date de début."))
        return data

    def vacation(self) -> sieve.Vacation:
        data = self.cleaned_data
        return sieve.Vacation(
            start=data.get("start"),
            end=data.get("end"),
            subject=data["subject"],
            text=data["text"],
            days=data["days"],
            from_address="",
            addresses=(),
        )


def vacation_initial(vacation: sieve.Vacation | None) -> dict[str, Any]:
    if vacation is None:
        return {"days": 7}
    return {
        "start": vacation.start,
        "end": vacation.end,
        "subject": vacation.subject,
        "text": vacation.text,
        "days": vacation.days,
    }
