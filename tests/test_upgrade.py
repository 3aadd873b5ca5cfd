"""A database created by the previous release migrates forward to this one with no data change."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from typing import Any

import pytest
from django.apps import apps
from django.apps.registry import Apps
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Model

Node = tuple[str, str | None]
Key = tuple[str, str]

# The last migration of each of our apps in the previous release.
PREVIOUS_RELEASE: tuple[tuple[str, str], ...] = (
    ("accounts", "0004_mfa_reset_request"),
    ("audit", "0001_initial"),
    ("core", "0001_initial"),
    ("portal", "0002_service_mfa"),
    ("sso", "0001_initial"),
)
# Our apps that the previous release did not have, by module (convergence.<name>): migrated to
# zero when they have migrations. Their labels are read from the app registry, since a module's
# name is not always its label (convergence.mfa cannot be "mfa": that is allauth.mfa's label).
NEW_APPS = ("mfa", "devices", "provisioning", "outbox")
# Models that leave accounts for a new app and keep their table (SeparateDatabaseAndState).
MOVED = {
    "LetterBatch": "provisioning",
    "ImportJob": "provisioning",
    "SmsMessage": "outbox",
    "SecondFactorResetRequest": "mfa",
}

PUPIL_PASSWORD = "Tournesol-Doubs-2026"
PARENT_PASSWORD = "Citadelle-Vauban-25"
DSI_PASSWORD = "Rectorat-Besancon-Fontaine"
SSO_SESSION_ID = uuid.UUID("6f1c2b9e-3d4a-4c8e-9b71-2a5d0e7f4c13")
# Fixed instants with microseconds, so a lost precision would show.
JOINED = dt.datetime(2024, 8, 28, 7, 30, 12, 345678, tzinfo=dt.UTC)
MORNING = dt.datetime(2026, 11, 30, 7, 58, 3, 120456, tzinfo=dt.UTC)


def _label(app: str) -> str | None:
    """The label of our app ``convergence.<app>``, or None while it is not installed."""
    for config in apps.get_app_configs():
        if config.name == f"convergence.{app}":
            return config.label
    return None


def _model(app: str, name: str) -> type[Model]:
    """The current model ``name``: in our app ``app`` once the split is done, else in accounts."""
    label = _label(app)
    if label is not None:
        try:
            return apps.get_model(label, name)
        except LookupError:
            pass
    return apps.get_model("accounts", name)


def _current_model(old_label: str, name: str) -> type[Model]:
    """Today's model for the previous release's ``old_label.name``."""
    return _model(MOVED.get(name, old_label) if old_label == "accounts" else old_label, name)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _previous_release_targets(executor: MigrationExecutor) -> list[Node]:
    """The previous release's nodes for our apps, and zero for our apps that came after it."""
    leaf_apps = {app_label for app_label, _ in executor.loader.graph.leaf_nodes()}
    targets: list[Node] = list(PREVIOUS_RELEASE)
    for app in NEW_APPS:
        label = _label(app)
        if label is not None and label in leaf_apps:
            targets.append((label, None))
    # Third-party apps stay where they are.
    assert all(apps.get_app_config(label).name.startswith("convergence.") for label, _ in targets)
    return targets


def _migrate(targets: list[Node]) -> MigrationExecutor:
    """Migrate to ``targets`` and return an executor whose loader sees the result."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor


def _migrate_to_latest() -> MigrationExecutor:
    return _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


def _create_previous_release_rows(old: Apps) -> dict[Key, Any]:
    """One row in each of our tables, written with the previous release's models."""

    def create(label: str, model_name: str, /, **values: Any) -> Any:
        row = old.get_model(label, model_name)._default_manager.create(**values)
        rows[(label, model_name)] = row
        return row

    rows: dict[Key, Any] = {}
    create(
        "core",
        "Academie",
        name="Académie de Besançon",
        short_name="Besançon",
        official_host="ent.ac-besancon.fr",
        mail_domain="ac-besancon.fr",
        trusted_networks="10.25.0.0/16\n2001:db8:25::/48",
    )
    doubs = create("core", "Department", code="25", name="Doubs")
    college = create(
        "core",
        "Establishment",
        uai="0250013D",
        name="Collège Victor Hugo",
        kind="college",
        city="Besançon",
        department=doubs,
    )
    user_model = old.get_model("accounts", "User")
    pupil = user_model._default_manager.create(
        login="lmartin",
        first_name="Léa",
        last_name="Martin",
        password=make_password(PUPIL_PASSWORD),
        state="active",
        birth_date=dt.date(2012, 3, 14),
        date_joined=JOINED,
        last_login=MORNING,
        import_key="siecle:2150418R",
        recovery_email="lea.martin@example.org",
        recovery_email_confirmed_at=JOINED + dt.timedelta(days=2),
    )
    parent = user_model._default_manager.create(
        login="kmartin",
        first_name="Karim",
        last_name="Martin",
        email="karim.martin@example.org",
        password=make_password(PARENT_PASSWORD),
        state="active",
        date_joined=JOINED,
        import_key="siecle-resp:884213",
        recovery_phone="+33612345678",
        recovery_phone_confirmed_at=JOINED + dt.timedelta(days=3),
    )
    dsi = user_model._default_manager.create(
        login="ifontaine",
        first_name="Isabelle",
        last_name="Fontaine",
        email="isabelle.fontaine@ac-besancon.fr",
        password=make_password(DSI_PASSWORD),
        state="active",
        is_staff=True,
        date_joined=JOINED - dt.timedelta(days=400),
    )
    rows[("accounts", "User")] = pupil
    rows[("accounts", "User:parent")] = parent
    rows[("accounts", "User:dsi")] = dsi
    create("accounts", "Guardianship", parent=parent, pupil=pupil)
    create(
        "accounts",
        "Assignment",
        user=pupil,
        establishment=college,
        role="eleve",
        division="4e B",
        school_year="2026-2027",
    )
    create(
        "accounts",
        "SchoolYear",
        name="2026-2027",
        opened_at=dt.datetime(2026, 8, 31, 22, tzinfo=dt.UTC),
    )
    create(
        "accounts",
        "OneTimeCode",
        user=parent,
        purpose="mfa_reset",
        target="+33612345678",
        digest=_digest("481203:kmartin"),
        created_at=MORNING,
        expires_at=MORNING + dt.timedelta(minutes=10),
        attempts=1,
        created_by=dsi,
    )
    create(
        "accounts",
        "SecondFactorResetRequest",
        user=parent,
        requested_by=parent,
        decided_by=dsi,
        checks=["birth_date", "recovery_phone"],
        created_at=MORNING,
        expires_at=MORNING + dt.timedelta(days=2),
        state="approved",
        decided_at=MORNING + dt.timedelta(hours=1, minutes=12),
    )
    create(
        "accounts",
        "LetterBatch",
        establishment=college,
        requested_by=dsi,
        division="4e B",
        audience="parents",
        created_at=MORNING,
        finished_at=MORNING + dt.timedelta(minutes=3),
        state="done",
        total=27,
        done=27,
        file_path="letters/0250013D/2026-11-30-4eB-parents.pdf",
    )
    create(
        "accounts",
        "ImportJob",
        requested_by=dsi,
        kind="siecle",
        dry_run=False,
        school_year="2026-2027",
        file_name="ElevesSansAdresses.xml",
        file_path="imports/2026-11-30/ElevesSansAdresses.xml",
        created_at=MORNING,
        started_at=MORNING + dt.timedelta(seconds=4),
        finished_at=MORNING + dt.timedelta(minutes=2),
        state="done",
        total_rows=412,
        processed_rows=412,
        report={"created": 3, "updated": 409, "errors": [], "établissement": "0250013D"},
    )
    create(
        "accounts",
        "SmsMessage",
        to="+33612345678",
        body="Convergence : votre code est 481 203. Il expire dans 10 minutes.",
        sent_at=MORNING,
    )
    create(
        "audit",
        "AuditEvent",
        event_type="login.success",
        identifier_digest=_digest("kmartin"),
        ip_address="2001:db8:25::17",
        user_agent="Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
        data={"method": "password", "acr": "urn:convergence:acr:password"},
        actor=parent,
        subject=parent,
    )
    pronote = create(
        "portal",
        "Service",
        name="Pronote",
        slug="pronote",
        description="Notes, cahier de textes et vie scolaire.",
        url="https://0250013d.index-education.net/pronote/",
        category="scolarite",
        icon="fr-icon-book-2-line",
        is_external=True,
        position=20,
        mfa_outside_trusted_networks=True,
    )
    create("portal", "AudienceRule", service=pronote, role="eleve", department=doubs)
    create("portal", "Favourite", user=pupil, service=pronote, position=1)
    cas_service = create(
        "sso",
        "CasService",
        service=pronote,
        url_prefix="https://0250013d.index-education.net/pronote/",
        first_party=False,
    )
    sso_session = create(
        "sso",
        "SsoSession",
        id=SSO_SESSION_ID,
        user=pupil,
        auth_time=MORNING,
        acr="urn:convergence:acr:password",
        issuer="https://ent.ac-besancon.fr/oidc",
        created=MORNING + dt.timedelta(seconds=2),
    )
    create(
        "sso",
        "Participation",
        sso_session=sso_session,
        protocol="cas",
        cas_service=cas_service,
        cas_ticket="ST-1-q8WmB2kZ",
        cas_service_url="https://0250013d.index-education.net/pronote/eleve.html",
        created=MORNING + dt.timedelta(seconds=3),
        logout_state="pending",
    )
    create("sso", "Consent", user=pupil, service=pronote, scopes="openid profile email")
    return rows


def _previous_release_content_types(old: Apps) -> dict[str, int]:
    """Give the moved models the content types (and a permission) the previous release had.

    The test database was created by today's code, whose content types already carry the
    new labels: drop those so that only the previous release's rows remain to be renamed.
    """
    content_type_model = old.get_model("contenttypes", "ContentType")
    permission_model = old.get_model("auth", "Permission")
    ids: dict[str, int] = {}
    for name, app in MOVED.items():
        model_name = name.lower()
        label = _label(app)
        if label is not None and label != "accounts":
            content_type_model._default_manager.filter(app_label=label, model=model_name).delete()
        content_type, _ = content_type_model._default_manager.get_or_create(
            app_label="accounts", model=model_name
        )
        permission_model._default_manager.get_or_create(
            content_type=content_type,
            codename=f"view_{model_name}",
            defaults={"name": f"Can view {old.get_model('accounts', name)._meta.verbose_name}"},
        )
        ids[name] = content_type.pk
    return ids


def _snapshot(old: Apps, rows: dict[Key, Any]) -> dict[Key, tuple[Any, dict[str, Any], int]]:
    """Each row's primary key, its columns as read back from the database, and its table's size."""
    snapshot: dict[Key, tuple[Any, dict[str, Any], int]] = {}
    for (label, name), row in rows.items():
        model = old.get_model(label, name.split(":")[0])
        values = model._default_manager.filter(pk=row.pk).values().get()
        snapshot[(label, name)] = (row.pk, values, model._default_manager.count())
    return snapshot


@pytest.mark.timeout(120)
@pytest.mark.django_db(transaction=True)
def test_previous_release_database_migrates_forward_unchanged() -> None:
    executor = MigrationExecutor(connection)
    previous = _previous_release_targets(executor)
    try:
        executor = _migrate(previous)
        # The state of the previous release's nodes (zero nodes have no state of their own).
        old = executor.loader.project_state(list(PREVIOUS_RELEASE)).apps
        rows = _create_previous_release_rows(old)
        before = _snapshot(old, rows)
        content_type_ids = _previous_release_content_types(old)
        executor = _migrate_to_latest()
    finally:
        # Whatever happened, leave the database at the latest migrations for the next tests.
        executor = _migrate_to_latest()
        ContentType.objects.clear_cache()

    assert not executor.migration_plan(executor.loader.graph.leaf_nodes())

    # Every row is still there, under the same primary key, with the same values.
    for (label, name), (pk, values, count) in before.items():
        model = _current_model(label, name.split(":")[0])
        manager = model._default_manager
        after = manager.filter(pk=pk).values(*values).get()
        assert after == values, f"{model._meta.label} {pk} changed during the upgrade"
        assert manager.count() == count, f"{model._meta.label}: rows added or lost"

    # Foreign keys still resolve to the same rows, through today's models.
    user_model: Any = _model("accounts", "User")
    pupil_pk = before[("accounts", "User")][0]
    parent_pk = before[("accounts", "User:parent")][0]
    dsi_pk = before[("accounts", "User:dsi")][0]
    college_pk = before[("core", "Establishment")][0]
    service_pk = before[("portal", "Service")][0]

    def current(old_label: str, name: str) -> Any:
        return _current_model(old_label, name)._default_manager.get(pk=before[(old_label, name)][0])

    pupil = user_model._default_manager.get(pk=pupil_pk)
    parent = user_model._default_manager.get(pk=parent_pk)
    assert check_password(PUPIL_PASSWORD, pupil.password)
    assert check_password(PARENT_PASSWORD, parent.password)
    assert check_password(DSI_PASSWORD, user_model._default_manager.get(pk=dsi_pk).password)

    guardianship = current("accounts", "Guardianship")
    assert (guardianship.parent.pk, guardianship.pupil.pk) == (parent_pk, pupil_pk)
    assignment = current("accounts", "Assignment")
    assert (assignment.user.pk, assignment.establishment.pk) == (pupil_pk, college_pk)
    assert assignment.establishment.department.code == "25"
    code = current("accounts", "OneTimeCode")
    assert (code.user.pk, code.created_by.pk) == (parent_pk, dsi_pk)
    reset = current("accounts", "SecondFactorResetRequest")
    assert (reset.user.pk, reset.requested_by.pk, reset.decided_by.pk) == (
        parent_pk,
        parent_pk,
        dsi_pk,
    )
    letter_batch = current("accounts", "LetterBatch")
    assert letter_batch.requested_by == user_model._default_manager.get(pk=dsi_pk)
    assert letter_batch.establishment.pk == college_pk
    assert current("accounts", "ImportJob").requested_by.pk == dsi_pk
    event = current("audit", "AuditEvent")
    assert (event.actor.pk, event.subject.pk) == (parent_pk, parent_pk)
    rule = current("portal", "AudienceRule")
    assert (rule.service.pk, rule.department.code, rule.establishment) == (service_pk, "25", None)
    favourite = current("portal", "Favourite")
    assert (favourite.user.pk, favourite.service.pk) == (pupil_pk, service_pk)
    participation = current("sso", "Participation")
    assert participation.sso_session.pk == SSO_SESSION_ID
    assert participation.sso_session.user.pk == pupil_pk
    assert participation.cas_service.service.pk == service_pk
    consent = current("sso", "Consent")
    assert (consent.user.pk, consent.service.pk) == (pupil_pk, service_pk)

    # The moved models' content types were renamed, not recreated: same id, new label, and
    # the permissions (hence the groups' grants) that point at them are kept.
    for name, app in MOVED.items():
        current_label = _model(app, name)._meta.app_label
        found = list(
            ContentType.objects.filter(
                app_label__in={"accounts", current_label}, model=name.lower()
            ).values_list("pk", "app_label")
        )
        assert found == [(content_type_ids[name], current_label)], name
        assert Permission.objects.filter(
            content_type_id=content_type_ids[name], codename=f"view_{name.lower()}"
        ).exists(), name


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(120)
def test_tasks_waiting_in_the_queue_follow_their_code() -> None:
    """A letter batch queued before the upgrade is still found by the worker after it; a task
    that already ran keeps its recorded path."""
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    queue = next(node for node in latest if node[0] == "django_tasks_database")
    before = [("accounts", "0005_move_models_to_their_apps"), queue]
    try:
        executor.migrate(before)
        state = MigrationExecutor(connection).loader.project_state(before).apps
        result = state.get_model("django_tasks_database", "DBTaskResult")
        old = "convergence.accounts.letters.generate_letter_batch"
        common = {
            "args_kwargs": {"args": [1], "kwargs": {}},
            "task_path": old,
            "backend_name": "default",
            "queue_name": "default",
            "run_after": dt.datetime(2026, 12, 4, tzinfo=dt.UTC),
            "exception_class_path": "",
            "traceback": "",
        }
        waiting = result.objects.create(id=uuid.uuid4(), status="READY", **common)
        done = result.objects.create(id=uuid.uuid4(), status="SUCCESSFUL", **common)
    finally:
        MigrationExecutor(connection).migrate(latest)
    current = apps.get_model("django_tasks_database", "DBTaskResult")
    assert current.objects.get(pk=waiting.pk).task_path == (
        "convergence.provisioning.letters.generate_letter_batch"
    )
    assert current.objects.get(pk=done.pk).task_path == old
    from django.utils.module_loading import import_string

    assert import_string(current.objects.get(pk=waiting.pk).task_path)


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(120)
def test_migrating_back_and_forth_keeps_one_content_type_and_its_grants() -> None:
    """Django recreates an app's content types after every ``migrate``: going back to the
    previous release and forward again must fold them, never duplicate the permissions of a
    moved model or lose what a group was granted."""
    from django.contrib.auth.models import Group

    sms = ContentType.objects.get_for_model(_model("outbox", "SmsMessage"))
    original_id, label = sms.pk, sms.app_label
    view_sms = Permission.objects.get(content_type=sms, codename="view_smsmessage")
    support = Group.objects.create(name="Support SMS")
    support.permissions.add(view_sms)
    try:
        _migrate(_previous_release_targets(MigrationExecutor(connection)))
        assert ContentType.objects.get(pk=original_id).app_label == "accounts"
        # What Django's post_migrate does when the new app is migrated again on its own.
        artefact = ContentType.objects.create(app_label=label, model="smsmessage")
        Permission.objects.create(
            content_type=artefact, codename="view_smsmessage", name="Can view sms message"
        )
    finally:
        _migrate_to_latest()
    moved = ContentType.objects.filter(model="smsmessage")
    assert list(moved.values_list("pk", "app_label")) == [(original_id, label)]
    views = Permission.objects.filter(codename="view_smsmessage")
    assert views.count() == 1
    assert list(support.permissions.all()) == [views.get()]


# --- Sessions: allauth usersessions and Django's sessions become devices.DeviceSession ----

SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
SIGNED_IN = dt.datetime(2026, 12, 4, 6, 45, 10, 250000, tzinfo=dt.UTC)
LAST_SEEN = dt.datetime(2026, 12, 4, 7, 2, 41, 125000, tzinfo=dt.UTC)


def _usersession_table() -> type[Model]:
    """allauth's ``UserSession`` table as the previous release had it (allauth.usersessions
    is no longer installed): a model of its own registry, created and dropped by the test."""
    from django.db import models

    class UserSession(models.Model):
        user_id = models.BigIntegerField()
        created_at = models.DateTimeField()
        ip = models.GenericIPAddressField()
        last_seen_at = models.DateTimeField()
        session_key = models.CharField(max_length=40, unique=True)
        user_agent = models.CharField(max_length=200)
        data = models.JSONField(default=dict)

        class Meta:
            app_label = "usersessions"
            db_table = "usersessions_usersession"
            apps = Apps()

        def __str__(self) -> str:
            return str(self.session_key)

    return UserSession


def _previous_release_session(store_class: Any, user: Any) -> str:
    """A signed-in session as the previous release wrote it: no device record in it."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    session = store_class()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "convergence.accounts.backends.AccountBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return str(session.session_key)


def _record_device(usersession: type[Model], user: Any, key: str) -> None:
    usersession._default_manager.create(
        user_id=user.pk,
        session_key=key,
        ip="198.51.100.9",
        user_agent=SAFARI_IPHONE,
        created_at=SIGNED_IN,
        last_seen_at=LAST_SEEN,
    )


def _upgrade_with_usersessions(prepare: Any) -> Any:
    """Devices back to before this release, ``prepare(UserSession)`` the old rows, upgrade."""
    usersession = _usersession_table()
    _migrate([("devices", None)])
    with connection.schema_editor() as editor:
        editor.create_model(usersession)
    try:
        result = prepare(usersession)
        _migrate_to_latest()
    finally:
        _migrate_to_latest()
        with connection.schema_editor() as editor:
            editor.delete_model(usersession)
    return result


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(120)
def test_database_sessions_stay_open_and_listed_across_the_upgrade(pupil, settings) -> None:
    from django.contrib.sessions.backends.db import SessionStore as PreviousStore
    from django.contrib.sessions.models import Session
    from django.test import Client

    from convergence.devices.sessions import signed_in_sessions

    settings.SESSION_ENGINE = "convergence.devices.sessions"

    def prepare(usersession: type[Model]) -> dict[str, str]:
        phone = _previous_release_session(PreviousStore, pupil)
        _record_device(usersession, pupil, phone)
        anonymous = PreviousStore()
        anonymous["django_language"] = "fr"
        anonymous.create()
        expired = _previous_release_session(PreviousStore, pupil)
        Session.objects.filter(pk=expired).update(expire_date=MORNING)
        return {"phone": phone, "anonymous": str(anonymous.session_key), "expired": expired}

    keys = _upgrade_with_usersessions(prepare)

    device_session: Any = apps.get_model("devices", "DeviceSession")
    phone = device_session.objects.get(pk=keys["phone"])
    assert (phone.user, phone.ip, phone.user_agent) == (pupil, "198.51.100.9", SAFARI_IPHONE)
    assert (phone.created_at, phone.last_seen_at) == (SIGNED_IN, LAST_SEEN)
    anonymous = device_session.objects.get(pk=keys["anonymous"])
    assert anonymous.user is None
    assert not device_session.objects.filter(pk=keys["expired"]).exists()

    # Still signed in, and the phone is in "Mes appareils" with its sign-in time.
    browser = Client()
    browser.cookies[settings.SESSION_COOKIE_NAME] = keys["phone"]
    assert browser.get("/compte/appareils/").status_code == 200
    # That request recorded its activity (a save of the session, whose data alone had no
    # device): the sign-in time the upgrade copied is kept.
    [listed] = signed_in_sessions(pupil)
    assert (listed.key, listed.created_at) == (keys["phone"], SIGNED_IN)
    assert listed.last_seen_at > LAST_SEEN


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(120)
def test_cache_sessions_are_indexed_by_the_upgrade(pupil, settings) -> None:
    from django.contrib.sessions.backends.cache import SessionStore as PreviousStore

    from convergence.devices.sessions import signed_in_sessions

    settings.SESSION_ENGINE = "convergence.devices.sessions.cache"

    def prepare(usersession: type[Model]) -> str:
        phone = _previous_release_session(PreviousStore, pupil)
        _record_device(usersession, pupil, phone)
        return phone

    phone = _upgrade_with_usersessions(prepare)

    [listed] = signed_in_sessions(pupil)
    assert (listed.key, listed.user_agent) == (phone, SAFARI_IPHONE)
    assert (listed.created_at, listed.last_seen_at) == (SIGNED_IN, LAST_SEEN)
