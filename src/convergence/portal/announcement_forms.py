"""The announcement form: text, audience limited to what the author may address, dates,
acknowledgement and files; it builds the ``Draft`` the actions take."""

from __future__ import annotations

import datetime
from typing import Any, TypeVar, cast

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from convergence.accounts.models import Role, User
from convergence.accounts.permissions import announcement_establishments, is_rectorat
from convergence.core.models import Department, Establishment
from convergence.portal import announcement_files
from convergence.portal.announcement_actions import Draft
from convergence.portal.announcements import divisions_of
from convergence.portal.models import Announcement, AnnouncementAttachment

SCOPE_ESTABLISHMENT = "etablissement"
SCOPE_DEPARTMENTS = "departements"
SCOPE_EVERYONE = "academie"
# Roles an announcement may address (the DSI is reached by « toute l'académie »).
ROLE_CHOICES = [(value, label) for value, label in Role.choices if value != Role.DSI]
DATETIME_FORMAT = "%Y-%m-%dT%H:%M"
_Field = TypeVar("_Field", bound=forms.Field)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class LocalDateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self) -> None:
        super().__init__(format=DATETIME_FORMAT)


class FilesField(forms.FileField):
    """Several files, each checked by its content (``announcement_files.check``); every
    refusal is reported, by the file's name."""

    def clean(self, data: Any, initial: Any = None) -> list[announcement_files.CheckedFile]:
        uploads = [
            upload
            for upload in (data if isinstance(data, list | tuple) else [data])
            if isinstance(upload, UploadedFile)
        ]
        accepted, refusals = [], []
        for upload in uploads:
            try:
                accepted.append(announcement_files.check(upload))
            except announcement_files.RefusedFile as refused:
                refusals.append(str(refused))
        if refusals:
            raise forms.ValidationError(refusals)
        return accepted


class AnnouncementForm(forms.Form):
    title = forms.CharField(label=_("Titre"), max_length=150)
    body = forms.CharField(
        label=_("Texte"),
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text=_(
            "Mise en forme simple : **gras**, *italique*, listes (lignes commençant par « - » "
            "ou « 1. »), liens [texte](https://…), intertitres (ligne commençant par « ### »)."
        ),
    )
    scope = forms.ChoiceField(label=_("Destinataires"), widget=forms.RadioSelect)
    establishment = forms.ModelChoiceField(
        label=_("Établissement"), queryset=Establishment.objects.none(), required=False
    )
    departments = forms.ModelMultipleChoiceField(
        label=_("Départements"),
        queryset=Department.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    roles = forms.MultipleChoiceField(
        label=_("Profils"),
        choices=ROLE_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Aucun profil coché : tous les profils."),
    )
    divisions = forms.MultipleChoiceField(
        label=_("Classes"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Aucune classe cochée : tout l'établissement. Les classes restreignent les élèves "
            "et leurs parents ; les personnels cochés reçoivent l'annonce dans tout "
            "l'établissement."
        ),
    )
    publish_at = forms.DateTimeField(
        label=_("Publication le"),
        required=False,
        input_formats=[DATETIME_FORMAT, "%Y-%m-%d %H:%M"],
        widget=LocalDateTimeInput(),
        help_text=_("Laisser vide pour publier dès que vous cliquez sur « Publier »."),
    )
    expires_at = forms.DateTimeField(
        label=_("Fin d'affichage le"),
        required=False,
        input_formats=[DATETIME_FORMAT, "%Y-%m-%d %H:%M"],
        widget=LocalDateTimeInput(),
        help_text=_("Facultatif : l'annonce disparaît des tableaux de bord à cette date."),
    )
    requires_ack = forms.BooleanField(
        label=_("Demander un accusé de lecture (« J'ai lu »)"), required=False
    )
    attachments = FilesField(
        label=_("Pièces jointes"),
        required=False,
        widget=MultipleFileInput(attrs={"accept": announcement_files.ACCEPT}),
        help_text=lazy(announcement_files.limits_text, str)(),
    )
    remove_attachments = forms.ModelMultipleChoiceField(
        label=_("Retirer ces pièces jointes"),
        queryset=AnnouncementAttachment.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(
        self, *args: Any, user: User, instance: Announcement | None = None, **kwargs: Any
    ) -> None:
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = initial_of(instance)
        super().__init__(*args, **kwargs)
        self.user = user
        self.instance = instance
        self.rectorat = is_rectorat(user)
        establishments = announcement_establishments(user).order_by("name")
        self._field(forms.ModelChoiceField, "establishment").queryset = establishments
        scopes = [(SCOPE_ESTABLISHMENT, _("Un établissement"))]
        if self.rectorat:
            scopes += [
                (SCOPE_DEPARTMENTS, _("Des départements")),
                (SCOPE_EVERYONE, _("Toute l'académie")),
            ]
            self._field(
                forms.ModelMultipleChoiceField, "departments"
            ).queryset = Department.objects.order_by("code")
            # Classes are offered only where the author has a few establishments (the
            # direction's): the rectorat addresses roles.
            del self.fields["divisions"]
        else:
            del self.fields["departments"]
            own = list(establishments)
            found = divisions_of([establishment.pk for establishment in own])
            # Flat choices: a grouped one would lose its establishment in the check boxes.
            self._field(forms.MultipleChoiceField, "divisions").choices = [
                (
                    f"{establishment.pk}|{name}",
                    name if len(own) == 1 else f"{establishment.name} — {name}",
                )
                for establishment in own
                for name in found[establishment.pk]
            ]
            if len(own) == 1:
                self.fields["establishment"].initial = own[0].pk
        self._field(forms.ChoiceField, "scope").choices = scopes
        self.fields["scope"].initial = self.initial.get("scope", SCOPE_ESTABLISHMENT)
        if instance is not None:
            self._field(
                forms.ModelMultipleChoiceField, "remove_attachments"
            ).queryset = instance.attachments.all()
        else:
            del self.fields["remove_attachments"]

    def _field(self, kind: type[_Field], name: str) -> _Field:
        return cast(_Field, self.fields[name])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        scope = data.get("scope")
        if scope == SCOPE_ESTABLISHMENT and not data.get("establishment"):
            self.add_error("establishment", gettext("Choisissez l'établissement."))
        if scope == SCOPE_DEPARTMENTS and not data.get("departments"):
            self.add_error("departments", gettext("Cochez au moins un département."))
        establishment = data.get("establishment")
        chosen = data.get("divisions") or []
        foreign = [
            value
            for value in chosen
            if establishment is None or not value.startswith(f"{establishment.pk}|")
        ]
        if scope == SCOPE_ESTABLISHMENT and foreign:
            self.add_error(
                "divisions", gettext("Ne cochez que des classes de l'établissement choisi.")
            )
        publish_at, expires_at = data.get("publish_at"), data.get("expires_at")
        if expires_at is not None:
            start = publish_at or timezone.now()
            if expires_at <= start:
                self.add_error(
                    "expires_at",
                    gettext("La fin d'affichage doit venir après la publication."),
                )
        kept = 0
        if self.instance is not None:
            removed = {attachment.pk for attachment in data.get("remove_attachments") or []}
            kept = sum(
                1
                for pk in self.instance.attachments.values_list("pk", flat=True)
                if pk not in removed
            )
        if kept + len(data.get("attachments") or []) > announcement_files.max_files():
            self.add_error(
                "attachments",
                gettext("Trop de fichiers : %(count)s au plus par annonce.")
                % {"count": announcement_files.max_files()},
            )
        return data

    def draft(self) -> Draft:
        data = self.cleaned_data
        scope = data["scope"]
        establishment = data.get("establishment") if scope == SCOPE_ESTABLISHMENT else None
        return Draft(
            title=data["title"],
            body=data["body"],
            establishment=establishment,
            departments=list(data.get("departments") or []) if scope == SCOPE_DEPARTMENTS else [],
            everyone=scope == SCOPE_EVERYONE,
            roles=[] if scope == SCOPE_EVERYONE else list(data.get("roles") or []),
            divisions=[value.split("|", 1)[1] for value in data.get("divisions") or []]
            if establishment
            else [],
            publish_at=data.get("publish_at"),
            expires_at=data.get("expires_at"),
            requires_ack=bool(data.get("requires_ack")),
            attachments=list(data.get("attachments") or []),
        )

    def removed_attachments(self) -> list[int]:
        return [attachment.pk for attachment in self.cleaned_data.get("remove_attachments") or []]


def _local(moment: datetime.datetime | None) -> str:
    return timezone.localtime(moment).strftime(DATETIME_FORMAT) if moment else ""


def initial_of(announcement: Announcement) -> dict[str, Any]:
    """The form's values for an existing announcement."""
    if announcement.everyone:
        scope = SCOPE_EVERYONE
    elif announcement.establishment_id is None:
        scope = SCOPE_DEPARTMENTS
    else:
        scope = SCOPE_ESTABLISHMENT
    return {
        "title": announcement.title,
        "body": announcement.body_source,
        "scope": scope,
        "establishment": announcement.establishment_id,
        "departments": [department.pk for department in announcement.departments.all()],
        "roles": list(announcement.roles),
        "divisions": [f"{announcement.establishment_id}|{name}" for name in announcement.divisions],
        "publish_at": _local(announcement.publish_at),
        "expires_at": _local(announcement.expires_at),
        "requires_ack": announcement.requires_ack,
    }
