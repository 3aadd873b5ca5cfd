"""The form of a guide written in the administration: its lists (profiles, keywords, error
codes) are edited as checkboxes, a line of text and a choice of registered codes, never as
JSON; the model stores them as lists, as the guides' files give them."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from convergence.accounts.models import Profile
from convergence.core import errors
from convergence.help.models import Guide

TAG_SEPARATOR = ","
MAX_TAG_LENGTH = 60


def error_code_choices() -> list[tuple[str, str]]:
    """Every registered code as "CODE — titre" (read when the form is built: apps register
    their codes in ``ready()``)."""
    return [(entry.code, f"{entry.code} — {entry.title}") for entry in errors.all_codes()]


class TagsField(forms.CharField):
    """Keywords typed on one line, separated by commas: trimmed, the empty ones dropped, each
    kept once (the first spelling wins, whatever the case)."""

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return f"{TAG_SEPARATOR} ".join(str(tag) for tag in value)
        return value

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        text = super().to_python(value) or ""
        tags: list[str] = []
        seen: set[str] = set()
        for piece in text.split(TAG_SEPARATOR):
            tag = " ".join(piece.split())
            if tag and tag.casefold() not in seen:
                seen.add(tag.casefold())
                tags.append(tag)
        return tags

    def validate(self, value: Any) -> None:
        super().validate(value)
        too_long = [tag for tag in value if len(tag) > MAX_TAG_LENGTH]
        if too_long:
            raise forms.ValidationError(
                _("Un mot-clé a au plus %(max)d caractères : « %(tag)s » est trop long."),
                code="tag_too_long",
                params={"max": MAX_TAG_LENGTH, "tag": too_long[0]},
            )


class GuideForm(forms.ModelForm):  # type: ignore[type-arg]
    """A guide draft: the administration's form of ``help.admin.GuideAdmin``."""

    profiles = forms.MultipleChoiceField(
        label=_("profils"),
        choices=Profile.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_(
            "Les personnes à qui le guide s'adresse. Aucune case cochée : le guide est pour "
            "tout le monde."
        ),
        error_messages={"invalid_choice": _("Profil inconnu : %(value)s.")},
    )
    tags = TagsField(
        label=_("mots-clés"),
        required=False,
        help_text=_(
            "Mots-clés, séparés par des virgules, par exemple : messagerie, mot de passe. "
            "Les mots en double et les espaces en trop sont retirés."
        ),
    )
    error_codes = forms.MultipleChoiceField(
        label=_("codes d'erreur expliqués"),
        choices=error_code_choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_(
            "Les codes d'erreur que ce guide explique : il sera proposé sur la page de "
            "chacun de ces codes."
        ),
        error_messages={"invalid_choice": _("Code d'erreur inconnu : %(value)s.")},
    )

    class Meta:
        model = Guide
        # The workflow's fields (state, author, reviewer, dates) are the actions' to write.
        fields = (
            "slug",
            "title",
            "summary",
            "profiles",
            "tags",
            "error_codes",
            "body",
            "easy_read",
            "variant_of",
            "order",
        )

    def clean_profiles(self) -> list[str]:
        """In the order of the sign-in page's doors, whatever the order posted."""
        checked = set(self.cleaned_data["profiles"])
        return [value for value in Profile.values if value in checked]

    def clean_error_codes(self) -> list[str]:
        checked = set(self.cleaned_data["error_codes"])
        return [entry.code for entry in errors.all_codes() if entry.code in checked]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Codes written by hand before this form may be in lower case (the collection
        # reads them upper case): shown checked all the same.
        codes = self.initial.get("error_codes") or []
        self.initial["error_codes"] = [str(code).upper() for code in codes]
