"""Every write of the person's mail rules and vacation reply, and the reads they need.

Each action reads the person's active Sieve script over ManageSieve, changes the portal's
managed section (``mail.sieve``), checks it against the limits below, creates the folders
the rules file into (IMAP), has the server check and store the new script (a refusal
changes nothing and carries the server's reason), then writes the audit entry and forgets
the cached vacation notice. Nothing is stored in the portal's database: the script is the
only copy, so a rule written here is the rule the server runs.

Groups of the directory (« ma direction », « la vie scolaire », « les enseignants de ma
classe ») are expanded to addresses when a rule is saved: they are re-applied by saving the
rule again when the staff change (the page says so).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import DatabaseError
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from convergence.accounts.models import Assignment, Role, User
from convergence.audit.actions import record_event
from convergence.mail import compose, connections, events, mailbox, managesieve, sieve
from convergence.mail.managesieve import SieveRefused
from convergence.mail.models import SendingSuspension

logger = logging.getLogger(__name__)

MAX_RULES = 50
MAX_CONDITIONS = 10
MAX_ACTIONS = 10
MAX_VALUES = 50
MAX_GROUP_ADDRESSES = 300
MAX_VALUE_LENGTH = 200
MAX_NAME_LENGTH = 80
MAX_SUBJECT_LENGTH = 200
MAX_TEXT_LENGTH = 4000
MAX_DAYS = 30
MAX_FOLDER_LENGTH = 80
MAX_SCRIPT_BYTES = 60_000
VACATION_CACHE_SECONDS = 3600
VACATION_UNKNOWN_SECONDS = 60

# Directory groups a rule may name (expanded to addresses when saved).
DIRECTION = "direction"
VIE_SCOLAIRE = "vie_scolaire"
CLASS_TEACHERS = "enseignants_classe"
GROUPS = {
    DIRECTION: gettext_lazy("ma direction"),
    VIE_SCOLAIRE: gettext_lazy("la vie scolaire"),
    CLASS_TEACHERS: gettext_lazy("les enseignants de ma classe"),
}

OTHERS_FOLDER = "Autres"
NEWSLETTERS_FOLDER = "Lettres d'information"


class RulesError(Exception):
    """A refusal to show the person, in French; nothing was changed."""


class RulesRefused(RulesError):
    """The mail server refused the script: ``reason`` is its own words."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class State:
    """The person's active script as the portal reads it."""

    name: str | None
    script: sieve.Script

    @property
    def rules(self) -> tuple[sieve.Rule, ...]:
        return self.script.managed.rules

    @property
    def vacation(self) -> sieve.Vacation | None:
        return self.script.managed.vacation


# --- Reads -----------------------------------------------------------------------------------


def read_state(user: User) -> State:
    """The person's rules and vacation reply (raises ``MailUnavailable`` when the server is
    down, :class:`RulesError` when the managed section cannot be read back)."""
    active = managesieve.read_active(user)
    try:
        script = sieve.parse_script(active.text)
    except sieve.ScriptError as error:
        raise RulesError(
            _(
                "Votre script de filtrage a été modifié hors du portail et ne peut plus être "
                "relu ici. Rien n'a été changé : demandez de l'aide au support."
            )
        ) from error
    return State(name=active.name, script=script)


def _vacation_key(user_pk: int) -> str:
    return f"mail:vacation:{user_pk}"


def vacation_notice(user: User) -> sieve.Vacation | None:
    """The person's vacation reply when it is on today (cached per person; ``None``, and
    nothing shown, when the server cannot say)."""
    key = _vacation_key(user.pk)
    known = cache.get(key)
    if known is None:
        try:
            vacation = read_state(user).vacation
        except (connections.MailUnavailable, RulesError):
            cache.set(key, {"unknown": True}, VACATION_UNKNOWN_SECONDS)
            return None
        known = {"vacation": vacation.as_data() if vacation else None}
        cache.set(key, known, VACATION_CACHE_SECONDS)
    data = known.get("vacation")
    if not data:
        return None
    vacation = sieve.Vacation.from_data(data)
    today = timezone.localdate()
    return vacation if vacation.active_on(today) else None


def forget_vacation(user_pk: int) -> None:
    cache.delete(_vacation_key(user_pk))


def group_addresses(user: User, group: str) -> tuple[str, ...]:
    """The addresses of a directory group as seen from ``user`` this school year: the
    direction or the CPE of the establishments where the person holds a role, or the
    teachers of the pupil's own class. Only people the person may reach (the directory's
    one rule) and who have an address."""
    current = Assignment.objects.current()
    mine = current.filter(user=user).exclude(role=Role.PARENT)
    if group == DIRECTION:
        held = current.filter(role=Role.DIRECTION, establishment__in=mine.values("establishment"))
    elif group == VIE_SCOLAIRE:
        held = current.filter(role=Role.CPE, establishment__in=mine.values("establishment"))
    elif group == CLASS_TEACHERS:
        classes = list(
            mine.filter(role=Role.ELEVE)
            .exclude(division="")
            .values_list("establishment_id", "division")
        )
        if not classes:
            return ()
        held = current.none()
        for establishment_id, division in classes:
            held = held | current.filter(
                role=Role.ENSEIGNANT, establishment_id=establishment_id, division=division
            )
    else:
        raise RulesError(_("Choisissez un groupe de l'annuaire dans la liste."))
    people = (
        User.objects.reachable_by(user)
        .filter(pk__in=held.values("user"))
        .exclude(pk=user.pk)
        .exclude(email="")
        .order_by("email")
        .values_list("email", flat=True)[:MAX_GROUP_ADDRESSES]
    )
    return tuple(dict.fromkeys(email.lower() for email in people))


# --- Checks ----------------------------------------------------------------------------------


def _academie_domains() -> set[str]:
    return {settings.MAIL_DOMAIN.lower(), *(d.lower() for d in settings.MAIL_TRUSTED_DOMAINS)}


def forward_allowed(address: str) -> bool:
    """Whether a rule may forward to ``address``: inside the académie's domains (subdomains
    included, as for the « extérieur » banner), or anywhere when
    ``MAIL_RULES_FORWARD_OUTSIDE`` is on."""
    if settings.MAIL_RULES_FORWARD_OUTSIDE:
        return True
    domain = address.rpartition("@")[2].lower()
    return any(domain == known or domain.endswith("." + known) for known in _academie_domains())


def _clean_text(value: str, limit: int) -> str:
    return "".join(ch for ch in value if ch >= " " or ch == "\t")[:limit].strip()


def _own_addresses(user: User) -> tuple[str, ...]:
    """The person's académie addresses, the one they write from first (never a personal
    address outside the académie: a vacation reply is sent from the first)."""
    addresses = [compose.own_address(user).lower(), f"{user.login}@{settings.MAIL_DOMAIN}".lower()]
    return tuple(dict.fromkeys(addresses))


def _check_address(value: str) -> str:
    address = value.strip().lower()
    try:
        validate_email(address)
    except ValidationError as error:
        raise RulesError(
            _("« %(value)s » n'est pas une adresse électronique valide.") % {"value": value[:80]}
        ) from error
    return address


def prepare_rule(user: User, rule: sieve.Rule) -> sieve.Rule:
    """The rule as it will be written: texts cleaned, groups expanded, every limit checked
    (:class:`RulesError` in French otherwise)."""
    name = _clean_text(rule.name, MAX_NAME_LENGTH) or _("Règle sans nom")
    if not rule.conditions:
        raise RulesError(_("Ajoutez au moins une condition (« Si… »)."))
    if not rule.actions:
        raise RulesError(_("Ajoutez au moins une action (« alors… »)."))
    if len(rule.conditions) > MAX_CONDITIONS or len(rule.actions) > MAX_ACTIONS:
        raise RulesError(
            _("Une règle a au plus %(conditions)d conditions et %(actions)d actions.")
            % {"conditions": MAX_CONDITIONS, "actions": MAX_ACTIONS}
        )
    conditions: list[sieve.Condition] = []
    for condition in rule.conditions:
        if condition.kind not in sieve.CONDITION_KINDS:
            raise RulesError(_("Choisissez une condition dans la liste."))
        values: tuple[str, ...] = ()
        group = ""
        if condition.kind == sieve.GROUP:
            group = condition.group
            values = group_addresses(user, group)
        elif condition.kind == sieve.CC_ME:
            values = _own_addresses(user)
        elif condition.kind in sieve.VALUED_KINDS:
            values = tuple(
                dict.fromkeys(
                    cleaned
                    for value in condition.values
                    if (cleaned := _clean_text(value, MAX_VALUE_LENGTH))
                )
            )
            if not values:
                raise RulesError(_("Complétez chaque condition (adresse, domaine ou mot)."))
            if len(values) > MAX_VALUES:
                raise RulesError(
                    _("Une condition a au plus %(count)d valeurs.") % {"count": MAX_VALUES}
                )
            if condition.kind == sieve.FROM:
                values = tuple(_check_address(value) for value in values)
            elif condition.kind == sieve.FROM_DOMAIN:
                values = tuple(value.lower().lstrip("@") for value in values)
        conditions.append(
            sieve.Condition(
                kind=condition.kind, values=values, group=group, negate=condition.negate
            )
        )
    actions: list[sieve.Action] = []
    for action in rule.actions:
        if action.kind not in sieve.ACTION_KINDS:
            raise RulesError(_("Choisissez une action dans la liste."))
        value = ""
        if action.kind == sieve.FILEINTO:
            value = _clean_text(action.value, MAX_FOLDER_LENGTH)
            if not value:
                raise RulesError(_("Choisissez le dossier où classer les messages."))
        elif action.kind == sieve.REDIRECT:
            value = _check_address(action.value)
            if not forward_allowed(value):
                raise RulesError(
                    _(
                        "Les messages ne peuvent être transférés qu'à une adresse de "
                        "l'académie (%(domains)s) : « %(address)s » est extérieure."
                    )
                    % {"domains": ", ".join(sorted(_academie_domains())), "address": value}
                )
        actions.append(sieve.Action(kind=action.kind, value=value))
    return sieve.Rule(
        name=name,
        enabled=rule.enabled,
        match=sieve.ANY if rule.match == sieve.ANY else sieve.ALL,
        conditions=tuple(conditions),
        actions=tuple(actions),
    )


def prepare_vacation(user: User, vacation: sieve.Vacation) -> sieve.Vacation:
    subject = _clean_text(vacation.subject, MAX_SUBJECT_LENGTH)
    text = vacation.text.replace("\r\n", "\n").replace("\x00", "")[:MAX_TEXT_LENGTH].strip()
    if not subject or not text:
        raise RulesError(_("Donnez un objet et un texte à la réponse automatique."))
    if vacation.start and vacation.end and vacation.end < vacation.start:
        raise RulesError(_("La date de fin doit suivre la date de début."))
    if not 1 <= vacation.days <= MAX_DAYS:
        raise RulesError(
            _("Choisissez un nombre de jours entre 1 et %(days)d.") % {"days": MAX_DAYS}
        )
    own = _own_addresses(user)
    return sieve.Vacation(
        enabled=vacation.enabled,
        start=vacation.start,
        end=vacation.end,
        subject=subject,
        text=text,
        days=vacation.days,
        from_address=own[0],
        addresses=own,
    )


# --- Writes ----------------------------------------------------------------------------------


def _write(
    *,
    user: User,
    change: Callable[[sieve.Managed], sieve.Managed],
    event: Any,
    data: dict[str, Any],
    request: HttpRequest | None,
) -> State:
    """Read, change, check, create folders, store, audit (see the module's docstring)."""
    state = read_state(user)
    managed = change(state.script.managed)
    if _sends(managed) and _suspended(user):
        raise RulesError(
            _(
                "L'envoi de messages est suspendu pour votre compte par l'académie : la "
                "réponse automatique et les transferts restent désactivés tant que dure la "
                "suspension."
            )
        )
    if len(managed.rules) > MAX_RULES:
        raise RulesError(_("Vous avez au plus %(count)d règles.") % {"count": MAX_RULES})
    script = sieve.with_managed(state.script, managed)
    text = sieve.render_script(script)
    if len(text.encode()) > MAX_SCRIPT_BYTES:
        raise RulesError(_("Vos règles sont trop longues : supprimez-en quelques-unes."))
    folders = {
        action.value
        for rule in managed.rules
        if rule.enabled
        for action in rule.actions
        if action.kind == sieve.FILEINTO
    }
    if folders:
        with connections.session(user) as connection:
            existing = mailbox.selectable_names(connection)
            for folder in sorted(folders - existing - {mailbox.INBOX}):
                mailbox.create_folder(connection, folder)
    try:
        name = managesieve.write_active(user, name=state.name, text=text)
    except SieveRefused as refused:
        raise RulesRefused(
            _("Le serveur de messagerie a refusé vos règles. Rien n'a été changé. Sa réponse :"),
            refused.reason,
        ) from refused
    record_event(event_type=event, request=request, actor=user, subject=user, data=data)
    forget_vacation(user.pk)
    return State(name=name, script=script)


def _forwards(rule: sieve.Rule) -> bool:
    return rule.enabled and any(action.kind == sieve.REDIRECT for action in rule.actions)


def _sends(managed: sieve.Managed) -> bool:
    """Whether the section makes the mail server send on the person's behalf."""
    vacation_on = managed.vacation is not None and managed.vacation.enabled
    return vacation_on or any(_forwards(rule) for rule in managed.rules)


def _suspended(user: User) -> bool:
    """A suspension of sending also holds the mail the server sends for the person (their
    forwards, their vacation replies); the database unable to say counts as suspended."""
    try:
        return SendingSuspension.objects.covering(user).exists()
    except DatabaseError:
        return True


def stop_outgoing(*, user: User, actor: User | None = None) -> bool:
    """Switch off what makes the mail server send for ``user`` — the vacation reply and the
    rules that forward — when the DSI suspends their sending (a suspension of the relay's
    submissions alone would leave them running). True when something was switched off; the
    rules stay, disabled, for the person to turn on again once the suspension is lifted."""
    state = read_state(user)
    current = state.script.managed
    if not _sends(current):
        return False
    vacation = current.vacation
    if vacation is not None and vacation.enabled:
        vacation = replace(vacation, enabled=False)
    stopped = replace(
        current,
        rules=tuple(
            replace(rule, enabled=False) if _forwards(rule) else rule for rule in current.rules
        ),
        vacation=vacation,
    )
    text = sieve.render_script(sieve.with_managed(state.script, stopped))
    try:
        managesieve.write_active(user, name=state.name, text=text)
    except SieveRefused as refused:
        raise RulesRefused(
            _("Le serveur de messagerie a refusé la modification."), refused.reason
        ) from refused
    record_event(
        event_type=events.RULES_CHANGED,
        actor=actor,
        subject=user,
        data={"operation": "suspension", "vacation": False, "forwards": 0},
    )
    forget_vacation(user.pk)
    return True


def _rules_data(operation: str, managed: sieve.Managed, **extra: Any) -> dict[str, Any]:
    forwards = sorted(
        {
            action.value
            for rule in managed.rules
            if rule.enabled
            for action in rule.actions
            if action.kind == sieve.REDIRECT
        }
    )
    return {"operation": operation, "rules": len(managed.rules), "forwards": forwards, **extra}


def _index(managed: sieve.Managed, index: int) -> int:
    if not 0 <= index < len(managed.rules):
        raise RulesError(_("Cette règle n'existe plus : la liste a changé entre-temps."))
    return index


def save_rule(
    *, user: User, rule: sieve.Rule, index: int | None = None, request: HttpRequest | None = None
) -> State:
    """Add a rule at the end (``index`` ``None``) or replace the rule at ``index``."""
    prepared = prepare_rule(user, rule)
    outcome: dict[str, Any] = {}

    def change(managed: sieve.Managed) -> sieve.Managed:
        rules = list(managed.rules)
        if index is None:
            rules.append(prepared)
        else:
            rules[_index(managed, index)] = prepared
        changed = replace(managed, rules=tuple(rules))
        outcome.update(_rules_data("save", changed, name=prepared.name))
        return changed

    return _write(
        user=user, change=change, event=events.RULES_CHANGED, data=outcome, request=request
    )


def save_rules(*, user: User, rules: list[sieve.Rule], request: HttpRequest | None = None) -> State:
    """Replace every rule by ``rules``, in this order."""
    prepared = tuple(prepare_rule(user, rule) for rule in rules)
    outcome: dict[str, Any] = {}

    def change(managed: sieve.Managed) -> sieve.Managed:
        changed = replace(managed, rules=prepared)
        outcome.update(_rules_data("replace", changed))
        return changed

    return _write(
        user=user, change=change, event=events.RULES_CHANGED, data=outcome, request=request
    )


def set_rule_enabled(
    *, user: User, index: int, enabled: bool, request: HttpRequest | None = None
) -> State:
    outcome: dict[str, Any] = {}

    def change(managed: sieve.Managed) -> sieve.Managed:
        rules = list(managed.rules)
        position = _index(managed, index)
        rule = rules[position]
        if enabled and not rule.enabled:
            # Re-checked as when saved (the académie may have stopped allowing a forward).
            rule = prepare_rule(user, replace(rule, enabled=True))
        rules[position] = replace(rule, enabled=enabled)
        changed = replace(managed, rules=tuple(rules))
        outcome.update(_rules_data("enable" if enabled else "disable", changed, name=rule.name))
        return changed

    return _write(
        user=user, change=change, event=events.RULES_CHANGED, data=outcome, request=request
    )


def move_rule(*, user: User, index: int, offset: int, request: HttpRequest | None = None) -> State:
    """Move a rule up (``offset`` -1) or down (+1); at either end nothing moves."""
    outcome: dict[str, Any] = {}

    def change(managed: sieve.Managed) -> sieve.Managed:
        rules = list(managed.rules)
        position = _index(managed, index)
        target = max(0, min(len(rules) - 1, position + (1 if offset > 0 else -1)))
        rules.insert(target, rules.pop(position))
        changed = replace(managed, rules=tuple(rules))
        outcome.update(_rules_data("move", changed, name=rules[target].name))
        return changed

    return _write(
        user=user, change=change, event=events.RULES_CHANGED, data=outcome, request=request
    )


def delete_rule(*, user: User, index: int, request: HttpRequest | None = None) -> State:
    outcome: dict[str, Any] = {}

    def change(managed: sieve.Managed) -> sieve.Managed:
        rules = list(managed.rules)
        removed = rules.pop(_index(managed, index))
        changed = replace(managed, rules=tuple(rules))
        outcome.update(_rules_data("delete", changed, name=removed.name))
        return changed

    return _write(
        user=user, change=change, event=events.RULES_CHANGED, data=outcome, request=request
    )


# --- Templates -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Template:
    slug: str
    title: Any
    description: Any
    # Rules put first (they win), and rules put last (before a catch-all already there).
    first: tuple[sieve.Rule, ...]
    last: tuple[sieve.Rule, ...] = ()


def _group(name: str) -> sieve.Condition:
    return sieve.Condition(kind=sieve.GROUP, group=name)


def templates() -> list[Template]:
    notify_stop = (sieve.Action(sieve.NOTIFY), sieve.Action(sieve.STOP))
    return [
        Template(
            slug="chef",
            title=_("Ne suivre que les messages de mon chef d'établissement"),
            description=_(
                "Les messages de la direction de vos établissements restent dans la boîte "
                "de réception et vous sont notifiés ; tous les autres sont classés dans "
                "« Autres »."
            ),
            first=(
                sieve.Rule(
                    name=_("Messages de ma direction"),
                    conditions=(_group(DIRECTION),),
                    actions=notify_stop,
                ),
            ),
            last=(
                sieve.Rule(
                    name=_("Tous les autres messages"),
                    conditions=(sieve.Condition(kind=sieve.OTHER),),
                    actions=(sieve.Action(sieve.FILEINTO, OTHERS_FOLDER), sieve.Action(sieve.STOP)),
                ),
            ),
        ),
        Template(
            slug="priorite",
            title=_("Direction et vie scolaire en priorité"),
            description=_(
                "Les messages de la direction et de la vie scolaire restent dans la boîte de "
                "réception, quelles que soient vos autres règles, et vous sont notifiés."
            ),
            first=(
                sieve.Rule(
                    name=_("Direction et vie scolaire"),
                    match=sieve.ANY,
                    conditions=(_group(DIRECTION), _group(VIE_SCOLAIRE)),
                    actions=notify_stop,
                ),
            ),
        ),
        Template(
            slug="lettres",
            title=_("Classer les lettres d'information"),
            description=_(
                "Les lettres d'information et les listes de diffusion sont classées dans "
                "« Lettres d'information »."
            ),
            first=(),
            last=(
                sieve.Rule(
                    name=_("Lettres d'information"),
                    conditions=(sieve.Condition(kind=sieve.LIST),),
                    actions=(
                        sieve.Action(sieve.FILEINTO, NEWSLETTERS_FOLDER),
                        sieve.Action(sieve.STOP),
                    ),
                ),
            ),
        ),
    ]


def _catch_all(rule: sieve.Rule) -> bool:
    return bool(rule.conditions) and all(c.kind == sieve.OTHER for c in rule.conditions)


def apply_template(*, user: User, slug: str, request: HttpRequest | None = None) -> State:
    """Add a template's rules (groups expanded now); rules of the same name are replaced,
    so applying it again refreshes the addresses after the staff changed."""
    template = next((item for item in templates() if item.slug == slug), None)
    if template is None:
        raise RulesError(_("Ce modèle n'existe pas."))
    first = [prepare_rule(user, rule) for rule in template.first]
    last = [prepare_rule(user, rule) for rule in template.last]
    names = {rule.name for rule in (*first, *last)}
    outcome: dict[str, Any] = {}

    def change(managed: sieve.Managed) -> sieve.Managed:
        kept = [rule for rule in managed.rules if rule.name not in names]
        # Rules for « every other message » stay last (the sort is stable).
        ordered = sorted([*first, *kept, *last], key=_catch_all)
        changed = replace(managed, rules=tuple(ordered))
        outcome.update(_rules_data("template", changed, template=slug))
        return changed

    return _write(
        user=user, change=change, event=events.RULES_CHANGED, data=outcome, request=request
    )


# --- Vacation --------------------------------------------------------------------------------


def save_vacation(
    *, user: User, vacation: sieve.Vacation, request: HttpRequest | None = None
) -> State:
    """Turn the vacation reply on (or change it) as given."""
    prepared = prepare_vacation(user, vacation)
    return _write(
        user=user,
        change=lambda managed: replace(managed, vacation=prepared),
        event=events.VACATION_CHANGED,
        data={
            "operation": "save",
            "start": prepared.start.isoformat() if prepared.start else None,
            "end": prepared.end.isoformat() if prepared.end else None,
            "days": prepared.days,
        },
        request=request,
    )


def clear_vacation(*, user: User, request: HttpRequest | None = None) -> State:
    """Turn the vacation reply off (its text is forgotten)."""
    return _write(
        user=user,
        change=lambda managed: replace(managed, vacation=None),
        event=events.VACATION_CHANGED,
        data={"operation": "clear"},
        request=request,
    )
