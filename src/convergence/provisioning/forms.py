"""Forms of provisioning: an import's upload, a batch of activation letters, the rentrée."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from convergence.accounts.models import (
    SCHOOL_YEAR_REGEX,
    Assignment,
    Role,
    User,
    current_school_year,
)
from convergence.accounts.models import current_school_year as open_school_year
from convergence.accounts.permissions import is_dsi, managed_establishments
from convergence.core.models import Establishment
from convergence.provisioning import imports
from convergence.provisioning.models import ImportKind, LetterAudience

# Enough of the file to read its first line (the header) for an immediate answer.
HEADER_BYTES = 64 * 1024


class ImportUploadForm(forms.Form):
    """Checks what can be checked at once (size, encoding and columns of the header line);
    every line is checked by the dry run that follows."""

    kind = forms.ChoiceField(
        label=_("Type de fichier"),
        choices=ImportKind.choices,
        widget=forms.RadioSelect,
        initial=ImportKind.SIECLE,
        error_messages={"required": _("Choisissez le type de fichier.")},
    )
    school_year = forms.CharField(
        label=_("Année scolaire"),
        help_text=_("Au format AAAA-AAAA, par exemple 2026-2027."),
        max_length=9,
        validators=[RegexValidator(SCHOOL_YEAR_REGEX, _("L'année scolaire s'écrit AAAA-AAAA."))],
        error_messages={"required": _("Indiquez l'année scolaire.")},
    )
    file = forms.FileField(
        label=_("Fichier CSV"),
        help_text=_("Texte UTF-8, colonnes séparées par « ; », première ligne : les en-têtes."),
        error_messages={
            "required": _("Choisissez un fichier."),
            "empty": _("Le fichier est vide."),
            "invalid": _("Le fichier n'a pas pu être lu ; déposez-le à nouveau."),
        },
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["school_year"].initial = current_school_year()

    def clean_school_year(self) -> str:
        year: str = self.cleaned_data["school_year"]
        if int(year[5:]) != int(year[:4]) + 1:
            raise forms.ValidationError(_("Une année scolaire va d'une année à la suivante."))
        return year

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        upload: UploadedFile[bytes] | None = cleaned.get("file")
        kind = cleaned.get("kind")
        if upload is None or kind is None:
            return cleaned
        limit = settings.IMPORT_MAX_FILE_MB * 1024 * 1024
        if upload.size is not None and upload.size > limit:
            self.add_error(
                "file",
                _("Le fichier dépasse la taille maximale de %(size)s Mo.")
                % {"size": settings.IMPORT_MAX_FILE_MB},
            )
            return cleaned
        upload.seek(0)
        head = upload.read(HEADER_BYTES)
        upload.seek(0)
        try:
            imports.check_header(head, kind)
        except imports.ImportFileError as error:
            self.add_error("file", str(error))
        return cleaned


class LetterBatchForm(forms.Form):
    """Which letters to print: an establishment the actor manages, an audience, a class."""

    establishment = forms.ModelChoiceField(
        label=_("Établissement"),
        queryset=Establishment.objects.none(),
        empty_label=_("Choisissez un établissement"),
        error_messages={"invalid_choice": _("Choisissez un établissement que vous gérez.")},
    )
    audience = forms.ChoiceField(
        label=_("Destinataires"),
        choices=LetterAudience.choices,
        error_messages={"invalid_choice": _("Choisissez des destinataires de la liste.")},
    )
    division = forms.CharField(
        label=_("Classe (facultatif)"),
        max_length=40,
        required=False,
        help_text=_("Par exemple 4e B. Laissez vide pour tout l'établissement."),
    )

    def __init__(self, *args: Any, actor: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.actor = actor
        field = self.fields["establishment"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = managed_establishments(actor).order_by("name")
        if not is_dsi(actor):
            # A référent numérique acts for pupils and parents only.
            audience = self.fields["audience"]
            assert isinstance(audience, forms.ChoiceField)
            audience.choices = [
                choice
                for choice in LetterAudience.choices
                if choice[0] != LetterAudience.PERSONNELS
            ]

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        establishment = cleaned.get("establishment")
        division = cleaned.get("division", "")
        if establishment is not None and division:
            if cleaned.get("audience") == LetterAudience.PERSONNELS:
                self.add_error(
                    "division", _("Les lettres des personnels ne se trient pas par classe.")
                )
            elif not (
                Assignment.objects.current()
                .filter(establishment=establishment, role=Role.ELEVE, division=division)
                .exists()
            ):
                self.add_error(
                    "division",
                    _("Aucune classe « %(division)s » dans cet établissement cette année.")
                    % {"division": division},
                )
        return cleaned

    def divisions(self) -> list[str]:
        """Classes of the managed establishments, offered while typing (datalist)."""
        return list(
            Assignment.objects.current()
            .filter(establishment__in=managed_establishments(self.actor), role=Role.ELEVE)
            .exclude(division="")
            .order_by("division")
            .values_list("division", flat=True)
            .distinct()[:500]
        )


class CloseSchoolYearForm(forms.Form):
    """The year shown on the page, and an explicit confirmation (archiving cannot be undone)."""

    year = forms.CharField(widget=forms.HiddenInput, max_length=9)
    confirm = forms.BooleanField(
        label=_("Je confirme la clôture de l'année et l'archivage des comptes partis."),
        error_messages={"required": _("Cochez la case pour confirmer la clôture.")},
    )

    def clean_year(self) -> str:
        year: str = self.cleaned_data["year"]
        if year != open_school_year():
            raise forms.ValidationError(
                _(
                    "Cette année scolaire n'est plus l'année ouverte (déjà close ?). "
                    "Rechargez la page."
                )
            )
        return year
