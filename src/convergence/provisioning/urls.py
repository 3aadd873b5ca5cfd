"""Provisioning URLs: imports, activation letters, rentrée (all under /gestion/)."""

from django.urls import URLPattern, URLResolver, path

from convergence.provisioning.views import imports, letters, lifecycle

app_name = "provisioning"

urlpatterns: list[URLPattern | URLResolver] = [
    path("gestion/imports/", imports.manage_imports, name="imports"),
    path("gestion/imports/guide/", imports.import_guide, name="import_guide"),
    path("gestion/imports/exemple-<str:kind>.csv", imports.import_sample, name="import_sample"),
    path("gestion/imports/<int:pk>/", imports.manage_import, name="import"),
    path(
        "gestion/imports/<int:pk>/appliquer/",
        imports.apply_import,
        name="import_apply",
    ),
    path(
        "gestion/imports/<int:pk>/reprendre/",
        imports.resume_import,
        name="import_resume",
    ),
    path(
        "gestion/comptes/<int:pk>/lettre/",
        letters.manage_account_letter,
        name="account_letter",
    ),
    path("gestion/lettres/", letters.manage_letters, name="letters"),
    path("gestion/lettres/<int:pk>/", letters.manage_letter_batch, name="letter_batch"),
    path(
        "gestion/lettres/<int:pk>/pdf/",
        letters.manage_letter_batch_download,
        name="letter_batch_download",
    ),
    path("gestion/annee-scolaire/", lifecycle.manage_school_year, name="school_year"),
]
