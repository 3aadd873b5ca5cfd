"""The administration speaks French: every section, list, form and permission a superuser
sees, in Django's, the libraries' and our own words — and after every migrate."""

from __future__ import annotations

import contextlib
import re
from html.parser import HTMLParser

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.core.exceptions import FieldDoesNotExist
from django.core.management import call_command
from django.test import Client
from django.urls import NoReverseMatch, reverse

from convergence.core.receivers import french_permission_names
from convergence.core.third_party_apps import OAuthToolkitConfig

# Words and phrases that are English and not French. Words shared by both languages
# (« application », « client », « type », « service », « session », « code »…) are not here.
ENGLISH = re.compile(
    r"\b("
    r"Can (add|change|delete|view)|Add|add|User|Users|user|users|the|of|and|with|from|"
    r"Django OAuth Toolkit|User sessions?|Task Results?|Tasks Database Backend|Django_Rq|"
    r"Client type|client type|Authorization grant type|Skip authorization|Hash client secret|"
    r"Allowed|allowed|Redirect|redirect URIs?|Algorithm|algorithm|Created|created|Updated|"
    r"updated|Expires|expires|Scope|scope|Last used|last used|Enqueued|enqueued|Started|"
    r"Finished|Priority|priority|Queue|queue|Worker|worker|Backend|backend|Traceback|"
    r"traceback|Return value|Status|status|Authenticators?|authenticators?|Recovery codes|"
    r"WebAuthn|TOTP|Accounts|MFA|Email|email|Department|department|Establishment|"
    r"establishment|Pupil|pupil|Guardian|guardian|Requested by|Decided by|Pk|Id|"
    r"token|tokens|Token|Tokens|Grants?|grants?|Revoke|revoke|Revoked|Manual|Confidential|"
    r"Implicit|Public client|No OIDC support|Device Code|Dynamic Client Registration|"
    r"Ready|Running|Failed|Successful|Yes|No|Unknown|None|Access admin page|"
    r"Delete selected|Select|selected|Save|Search|Filter|Show counts|Hide counts"
    r")\b"
)
# « Ajout de établissement »: French elides « de », « le », « la », « que » before a vowel.
MISSING_ELISION = re.compile(r"\b(de|le|la|que) [aeiouyhàâéèêëîïôûü]", re.IGNORECASE)
# Data shown as is (identifiers, addresses, code paths): not words of the interface.
IDENTIFIER = re.compile(r"[\w.+-]*[._@/:][\w.+@/:-]*|\b\w*\d\w*\b")


class VisibleText(HTMLParser):
    """The words a person reads (text, and the attributes read aloud or shown), apart
    from code and scripts; and the headings and the page title on their own."""

    SKIPPED = {"script", "style", "code", "pre", "textarea"}
    HEADINGS = {"title", "h1", "h2", "h3", "caption"}
    SPOKEN = ("title", "aria-label", "placeholder", "alt")

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self.headings: list[str] = []
        self.captions: list[str] = []
        self._open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in {"br", "img", "input", "meta", "link", "hr"}:
            self._open.append(tag)
        for name, value in attrs:
            if name in self.SPOKEN and value:
                self.texts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in self._open:
            while self._open and self._open.pop() != tag:
                pass

    def handle_data(self, data: str) -> None:
        if not data.strip() or self.SKIPPED & set(self._open):
            return
        self.texts.append(data)
        if self.HEADINGS & set(self._open):
            self.headings.append(data.strip())
        if "caption" in self._open:
            self.captions.append(data.strip())


def read(html: str) -> VisibleText:
    parser = VisibleText()
    parser.feed(html)
    return parser


def english_in(text: str) -> list[str]:
    return [match.group(0) for match in ENGLISH.finditer(IDENTIFIER.sub(" ", text))]


def admin_pages() -> list[str]:
    """The index, each section's page, and each model's list and add page, and the page of
    its first object when the demo académie has one."""
    pages = [reverse("admin:index")]
    for model in admin.site._registry:
        options = model._meta
        prefix = f"admin:{options.app_label}_{options.model_name}"
        section = reverse("admin:app_list", kwargs={"app_label": options.app_label})
        if section not in pages:
            pages.append(section)
        for view in ("changelist", "add"):
            with contextlib.suppress(NoReverseMatch):
                pages.append(reverse(f"{prefix}_{view}"))
        first = model._default_manager.order_by("pk").first() if options.managed else None
        if first is not None:
            pages.append(reverse(f"{prefix}_change", args=[first.pk]))
    return pages


@pytest.fixture
def superuser_client(client: Client, dsi) -> Client:
    assert dsi.is_superuser
    client.force_login(dsi)
    return client


def test_every_administration_page_is_in_french(superuser_client):
    problems = []
    for url in admin_pages():
        response = superuser_client.get(url)
        if response.status_code == 403:  # nobody may add audit events, tokens…
            continue
        assert response.status_code == 200, url
        page = read(response.content.decode())
        for text in page.texts:
            for word in english_in(text):
                problems.append(f"{url}: « {word} » in « {text.strip()[:120]} »")
        for heading in page.headings:
            if MISSING_ELISION.search(heading):
                problems.append(f"{url}: no elision in « {heading} »")
    assert not problems, "\n".join(sorted(set(problems)))


def test_every_section_has_its_own_name(superuser_client):
    page = read(superuser_client.get(reverse("admin:index")).content.decode())
    sections = [caption.casefold() for caption in page.captions]
    assert sections
    assert len(sections) == len(set(sections)), sections


def test_third_party_sections_have_french_names():
    names = {config.label: str(config.verbose_name) for config in apps.get_app_configs()}
    assert names["oauth2_provider"] == "Clients et jetons OAuth"
    assert names["account"] == "Adresses électroniques"
    assert names["mfa"] == "Seconds facteurs enregistrés"
    assert names["django_tasks_database"] == "Tâches d'arrière-plan"
    assert isinstance(apps.get_app_config("oauth2_provider"), OAuthToolkitConfig)


@pytest.mark.django_db
def test_permissions_are_named_in_french_after_migrate():
    permissions = Permission.objects.select_related("content_type")
    assert permissions.count() > 100
    english = [p.name for p in permissions if p.name.startswith(("Can ", "Access "))]
    assert not english
    assert permissions.get(codename="add_establishment").name == (
        "Peut ajouter un objet établissement"
    )
    assert permissions.get(codename="view_accesstoken").name == "Peut voir un objet jeton d'accès"
    assert permissions.get(codename="admin", content_type__app_label="django_rq").name == (
        "Peut ouvrir le tableau de bord des files de tâches"
    )


@pytest.mark.django_db
def test_permission_names_are_french_again_after_the_next_migrate():
    Permission.objects.filter(codename="change_establishment").update(
        name="Can change establishment"
    )
    call_command("migrate", verbosity=0)
    assert Permission.objects.get(codename="change_establishment").name == (
        "Peut modifier un objet établissement"
    )


def test_custom_permissions_keep_their_declared_meaning():
    names = french_permission_names(apps.get_app_config("django_rq"))
    assert names == {("dashboard", "admin"): "Peut ouvrir le tableau de bord des files de tâches"}


def test_admin_titles_elide_before_a_vowel(superuser_client):
    add = read(superuser_client.get("/administration/core/establishment/add/").content.decode())
    assert "Ajout d\u2019un objet établissement" in add.headings  # Django's apostrophe
    section = read(superuser_client.get("/administration/audit/").content.decode())
    assert not [h for h in section.headings if MISSING_ELISION.search(h)]


# Names Django derives from code that happen to be French words too.
SAME_IN_FRENCH = {
    "code",
    "description",
    "logo",
    "nonce",
    "notification",
    "parent",
    "permission",
    "permissions",
    "position",
    "service",
    "session",
    "type",
}


def derived(name: str) -> str:
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name).replace("_", " ").lower()


def test_every_model_has_a_french_name():
    """Permission lists name every model, shown in the administration or not."""
    english = [
        f"{model._meta.label}: {model._meta.verbose_name}"
        for model in apps.get_models()
        if str(model._meta.verbose_name).lower() == derived(model.__name__)
        and str(model._meta.verbose_name) not in SAME_IN_FRENCH
    ]
    assert not english


def shown_fields(model_admin, request) -> set[str]:
    """The fields a model's administration shows: its form, its read-only fields, its list
    columns and filters."""
    names = set(model_admin.get_fields(request))
    names |= {n for n in model_admin.get_list_display(request) if isinstance(n, str)}
    names |= {n for n in model_admin.get_list_filter(request) if isinstance(n, str)}
    return {name.split("__")[0] for name in names}


def test_every_field_the_administration_shows_has_a_french_name(rf, dsi):
    request = rf.get("/administration/")
    request.user = dsi
    english = []
    for model, model_admin in admin.site._registry.items():
        shown = [(model, shown_fields(model_admin, request))]
        for inline in model_admin.get_inline_instances(request):
            # The link to the object of the page is not a column of its inline.
            link = {f.name for f in inline.model._meta.fields if f.related_model is model}
            shown.append((inline.model, set(inline.get_fields(request)) - link))
        for shown_model, names in shown:
            for name in names:
                try:
                    field = shown_model._meta.get_field(name)
                except FieldDoesNotExist:
                    continue
                label = str(getattr(field, "verbose_name", ""))
                if label == derived(field.name) and label not in SAME_IN_FRENCH:
                    english.append(f"{shown_model._meta.label}.{name}: {label}")
    assert not english, "\n".join(sorted(set(english)))
