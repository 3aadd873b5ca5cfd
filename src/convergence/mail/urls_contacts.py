"""URLs of the address book, under /messagerie/contacts/ (included at the root by
convergence/urls.py)."""

from django.urls import path

from convergence.mail import contacts_views

app_name = "mail_contacts"

urlpatterns = [
    path("messagerie/contacts/", contacts_views.directory, name="directory"),
    path("messagerie/contacts/mes-contacts/", contacts_views.personal, name="personal"),
    path("messagerie/contacts/nouveau/", contacts_views.contact_form, name="new"),
    path("messagerie/contacts/<int:pk>/", contacts_views.contact_form, name="edit"),
    path("messagerie/contacts/<int:pk>/supprimer/", contacts_views.contact_delete, name="delete"),
    path("messagerie/contacts/groupes/", contacts_views.group_create, name="group_create"),
    path("messagerie/contacts/groupes/<int:pk>/", contacts_views.group, name="group"),
    path(
        "messagerie/contacts/groupes/<int:pk>/supprimer/",
        contacts_views.group_delete,
        name="group_delete",
    ),
    path("messagerie/contacts/recentes/", contacts_views.recent, name="recent"),
    path("messagerie/contacts/classes/", contacts_views.classes, name="classes"),
    path("messagerie/contacts/export.vcf", contacts_views.export, name="export"),
    path("messagerie/contacts/importer/", contacts_views.import_contacts, name="import"),
]
