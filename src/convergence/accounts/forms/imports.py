"""The upload form of account imports: kind of file, school year, the CSV file itself."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from .. import imports
from ..models import SCHOOL_YEAR_REGEX, ImportKind, current_school_year

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
