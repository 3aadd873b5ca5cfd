"""The API in the administration: which service clients may call it, with which scopes."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from convergence.api.models import ApiClient
from convergence.api.scopes import SCOPES
from convergence.core.admin import AuditedModelAdmin


class ApiClientForm(forms.ModelForm):  # type: ignore[type-arg]
    """The scopes as boxes to tick, among those a service may hold."""

    scopes = forms.MultipleChoiceField(
        label=_("portées autorisées"),
        choices=[(scope, scope) for scope in sorted(SCOPES)],
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = ApiClient
        fields = ("oidc_client", "scopes")

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        if self.instance.pk:
            self.initial["scopes"] = self.instance.scopes.split()

    def clean_scopes(self) -> str:
        return " ".join(sorted(self.cleaned_data["scopes"]))


@admin.register(ApiClient)
class ApiClientAdmin(AuditedModelAdmin):
    form = ApiClientForm
    list_display = ("oidc_client", "scopes", "created")
    search_fields = ("oidc_client__application__client_id", "oidc_client__service__name")
