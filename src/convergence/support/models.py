"""Support contacts, their weekly opening hours and the exceptions to them."""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from convergence.accounts.models import Assignment, Profile, Role, User
from convergence.core.models import Department
from convergence.support.attachments import attachment_storage


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("lundi")
    TUESDAY = 1, _("mardi")
    WEDNESDAY = 2, _("mercredi")
    THURSDAY = 3, _("jeudi")
    FRIDAY = 4, _("vendredi")
    SATURDAY = 5, _("samedi")
    SUNDAY = 6, _("dimanche")


class SupportContactQuerySet(models.QuerySet["SupportContact"]):
    def serving(
        self, *, roles: set[str], profiles: set[str], department_ids: set[int]
    ) -> SupportContactQuerySet:
        """The contacts of people holding ``roles`` (and so ``profiles``) in establishments of
        ``department_ids``: a contact names a role, or else a profile; a blank department
        serves every department."""
        return self.filter(
            Q(role__in=roles) | Q(role="", profile__in=profiles),
            Q(department__isnull=True) | Q(department_id__in=department_ids),
        )


class SupportContact(models.Model):
    """Someone people of a profile (or role) and department call or write to for help."""

    slug = models.SlugField(
        _("identifiant"), max_length=80, unique=True, help_text=_("Repère stable du blueprint.")
    )
    name = models.CharField(_("nom"), max_length=120)
    helps_with = models.TextField(_("pour quoi le contacter"), blank=True)
    profile = models.CharField(_("profil"), max_length=12, choices=Profile.choices)
    role = models.CharField(
        _("rôle"),
        max_length=16,
        choices=Role.choices,
        blank=True,
        help_text=_("Vide : tous les rôles du profil."),
    )
    department = models.ForeignKey(
        Department,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="support_contacts",
        verbose_name=_("département"),
        help_text=_("Vide : tous les départements."),
    )
    phone = models.CharField(_("téléphone"), max_length=30, blank=True)
    email = models.EmailField(_("adresse électronique"), blank=True)
    url = models.URLField(_("site web"), blank=True)
    shows_referents = models.BooleanField(
        _("affiche les référents numériques"),
        default=False,
        help_text=_("Nommer le référent numérique de chaque établissement de la personne."),
    )
    closed_on_public_holidays = models.BooleanField(_("fermé les jours fériés"), default=True)
    closed_during_school_holidays = models.BooleanField(
        _("fermé pendant les vacances scolaires"), default=False
    )
    position = models.PositiveIntegerField(_("position"), default=100)

    objects = SupportContactQuerySet.as_manager()

    class Meta:
        ordering: ClassVar = ["position", "name"]
        verbose_name = _("contact d'assistance")
        verbose_name_plural = _("contacts d'assistance")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(profile__in=Profile.values), name="support_contact_profile"
            ),
            models.CheckConstraint(
                condition=Q(role="") | Q(role__in=Role.values), name="support_contact_role"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class OpeningHours(models.Model):
    """One range of a weekday's opening hours (a day may have two: morning and afternoon)."""

    contact = models.ForeignKey(
        SupportContact, on_delete=models.CASCADE, related_name="hours", verbose_name=_("contact")
    )
    weekday = models.PositiveSmallIntegerField(_("jour"), choices=Weekday.choices)
    opens = models.TimeField(_("ouvre à"))
    closes = models.TimeField(_("ferme à"))

    class Meta:
        ordering: ClassVar = ["weekday", "opens"]
        verbose_name = _("horaire d'ouverture")
        verbose_name_plural = _("horaires d'ouverture")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(weekday__gte=0, weekday__lte=6), name="opening_hours_weekday"
            ),
            models.CheckConstraint(
                condition=Q(closes__gt=models.F("opens")), name="opening_hours_order"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}\N{EN DASH}{self.closes:%H:%M}"


class OpeningException(models.Model):
    """Days that differ from the week: closed, or open on reduced hours of their own."""

    contact = models.ForeignKey(
        SupportContact,
        on_delete=models.CASCADE,
        related_name="exceptions",
        verbose_name=_("contact"),
    )
    first_day = models.DateField(_("du"))
    last_day = models.DateField(_("au (inclus)"))
    reason = models.CharField(_("motif"), max_length=120, blank=True)
    opens = models.TimeField(_("ouvre à"), null=True, blank=True, help_text=_("Vide : fermé."))
    closes = models.TimeField(_("ferme à"), null=True, blank=True)
    opens_again = models.TimeField(_("rouvre à"), null=True, blank=True)
    closes_again = models.TimeField(_("ferme ensuite à"), null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["first_day"]
        verbose_name = _("exception aux horaires")
        verbose_name_plural = _("exceptions aux horaires (fermetures, journées réduites)")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(last_day__gte=models.F("first_day")), name="opening_exception_days"
            ),
            # Closed (no hours), or a first range in order, and a second one after it.
            models.CheckConstraint(
                condition=(
                    Q(opens__isnull=True, closes__isnull=True)
                    | Q(opens__isnull=False, closes__gt=models.F("opens"))
                )
                & (
                    Q(opens_again__isnull=True, closes_again__isnull=True)
                    | Q(
                        opens__isnull=False,
                        opens_again__gte=models.F("closes"),
                        closes_again__gt=models.F("opens_again"),
                    )
                ),
                name="opening_exception_hours",
            ),
        ]

    def __str__(self) -> str:
        return self.reason or f"{self.first_day} \N{EN DASH} {self.last_day}"

    @property
    def is_closure(self) -> bool:
        return self.opens is None


class TeamMembership(models.TextChoices):
    """Who answers a team's tickets besides its named members."""

    NAMED = "", _("Membres nommés seulement")
    REFERENTS = "referents", _("Référents numériques de l'établissement de la demande")
    DSI = "dsi", _("DSI académique")


class Team(models.Model):
    """A group of agents that tickets are routed to, with its support hours and SLA targets."""

    slug = models.SlugField(_("identifiant"), max_length=80, unique=True)
    name = models.CharField(_("nom"), max_length=120)
    membership = models.CharField(
        _("membres par rôle"), max_length=12, choices=TeamMembership.choices, blank=True
    )
    members = models.ManyToManyField(
        "accounts.User", blank=True, related_name="support_teams", verbose_name=_("membres")
    )
    contact = models.ForeignKey(
        SupportContact,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="teams",
        verbose_name=_("horaires du contact"),
        help_text=_("Les délais sont comptés en heures d'ouverture de ce contact."),
    )
    first_answer_hours = models.PositiveSmallIntegerField(
        _("première réponse (heures d'ouverture)"), default=8
    )
    resolution_hours = models.PositiveSmallIntegerField(
        _("résolution (heures d'ouverture)"), default=40
    )

    class Meta:
        ordering: ClassVar = ["name"]
        verbose_name = _("équipe d'assistance")
        verbose_name_plural = _("équipes d'assistance")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(membership__in=TeamMembership.values), name="support_team_membership"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class RoutingRule(models.Model):
    """Tickets of a profile (or role) and department go to a team; the most precise rule
    wins (role before profile alone, a department before every department)."""

    team = models.ForeignKey(
        Team, on_delete=models.CASCADE, related_name="rules", verbose_name=_("équipe")
    )
    profile = models.CharField(_("profil"), max_length=12, choices=Profile.choices)
    role = models.CharField(
        _("rôle"), max_length=16, choices=Role.choices, blank=True, help_text=_("Vide : tous.")
    )
    department = models.ForeignKey(
        Department,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="support_routing_rules",
        verbose_name=_("département"),
        help_text=_("Vide : tous les départements."),
    )

    class Meta:
        verbose_name = _("règle d'orientation")
        verbose_name_plural = _("règles d'orientation")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(profile__in=Profile.values), name="support_rule_profile"
            ),
            models.CheckConstraint(
                condition=Q(role="") | Q(role__in=Role.values), name="support_rule_role"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_profile_display()} \N{RIGHTWARDS ARROW} {self.team}"


class TicketCounter(models.Model):
    """The last reference number given in a year (locked while a ticket is numbered)."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("compteur de demandes")
        verbose_name_plural = _("compteurs de demandes")

    def __str__(self) -> str:
        return f"{self.year} : {self.last}"


class Category(models.TextChoices):
    SIGN_IN = "connexion", _("Connexion et mot de passe")
    MAIL = "messagerie", _("Messagerie")
    SERVICES = "services", _("ENT et services")
    HARDWARE = "materiel", _("Matériel")
    OTHER = "autre", _("Autre")


class Status(models.TextChoices):
    NEW = "nouveau", _("Nouveau")
    IN_PROGRESS = "en_cours", _("En cours")
    WAITING = "en_attente", _("En attente de votre réponse")
    RESOLVED = "resolu", _("Résolu")
    CLOSED = "clos", _("Clos")


OPEN_STATUSES = (Status.NEW, Status.IN_PROGRESS, Status.WAITING)


class TicketQuerySet(models.QuerySet["Ticket"]):
    """Who may see which ticket: the one place it is decided."""

    def agent_of(self, user: Any) -> TicketQuerySet:
        """Tickets ``user`` answers as an agent: all for a DSI, those of their
        établissements for a référent, those of the teams naming them."""
        if not isinstance(user, User) or not user.is_active:
            return self.none()
        held = Assignment.objects.current().filter(user=user, role__in=(Role.DSI, Role.REFERENT))
        if held.filter(role=Role.DSI).exists():
            return self.all()
        return self.filter(
            Q(establishment_id__in=held.filter(role=Role.REFERENT).values("establishment"))
            | Q(team_id__in=Team.members.through.objects.filter(user=user).values("team"))
        )

    def visible_to(self, user: Any) -> TicketQuerySet:
        """The requester's own tickets and those ``user`` answers as an agent."""
        if not isinstance(user, User) or not user.is_active:
            return self.none()
        return self.filter(Q(requester=user) | Q(pk__in=self.agent_of(user).values("pk")))


class Ticket(models.Model):
    """A request for help, with the context captured when it was opened."""

    reference = models.CharField(_("référence"), max_length=20, unique=True)
    requester = models.ForeignKey(
        "accounts.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="support_tickets",
        verbose_name=_("demandeur"),
    )
    requester_email = models.EmailField(_("adresse du demandeur"), blank=True)
    category = models.CharField(_("catégorie"), max_length=12, choices=Category.choices)
    description = models.TextField(_("description"))
    status = models.CharField(_("état"), max_length=12, choices=Status.choices, default=Status.NEW)
    team = models.ForeignKey(
        Team,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tickets",
        verbose_name=_("équipe"),
    )
    establishment = models.ForeignKey(
        "core.Establishment",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="support_tickets",
        verbose_name=_("établissement"),
    )
    context = models.JSONField(_("contexte"), default=dict, blank=True)
    created_at = models.DateTimeField(_("ouverte le"), default=timezone.now)
    first_answered_at = models.DateTimeField(_("première réponse"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("résolue le"), null=True, blank=True)
    closed_at = models.DateTimeField(_("close le"), null=True, blank=True)
    first_answer_due = models.DateTimeField(_("première réponse attendue"), null=True, blank=True)
    resolution_due = models.DateTimeField(_("résolution attendue"), null=True, blank=True)
    satisfaction = models.PositiveSmallIntegerField(
        _("note de satisfaction"), null=True, blank=True
    )
    # Named in every follow-up link (``support/follow_up.py``); raised by an agent to void
    # the links given so far, e.g. one that leaked.
    follow_up_generation = models.PositiveSmallIntegerField(
        _("génération des liens de suivi"), default=0, editable=False
    )

    objects = TicketQuerySet.as_manager()

    class Meta:
        ordering: ClassVar = ["-created_at"]
        verbose_name = _("demande d'assistance")
        verbose_name_plural = _("demandes d'assistance")
        indexes: ClassVar = [models.Index(fields=["status", "created_at"])]
        constraints: ClassVar = [
            models.CheckConstraint(condition=Q(status__in=Status.values), name="ticket_status"),
            models.CheckConstraint(
                condition=Q(category__in=Category.values), name="ticket_category"
            ),
            models.CheckConstraint(
                condition=Q(satisfaction__isnull=True)
                | Q(satisfaction__gte=1, satisfaction__lte=5),
                name="ticket_satisfaction",
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class TicketMessageQuerySet(models.QuerySet["TicketMessage"]):
    def shown_to_requester(self) -> TicketMessageQuerySet:
        """The replies a requester reads: never the agents' internal notes."""
        return self.filter(is_internal=False)


class TicketMessage(models.Model):
    """A reply on a ticket, or an internal note that only agents see."""

    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="messages", verbose_name=_("demande")
    )
    author = models.ForeignKey(
        "accounts.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("auteur"),
    )
    from_agent = models.BooleanField(_("d'un agent"), default=False)
    body = models.TextField(_("message"))
    is_internal = models.BooleanField(_("note interne"), default=False)
    created_at = models.DateTimeField(_("envoyé le"), default=timezone.now)

    objects = TicketMessageQuerySet.as_manager()

    class Meta:
        ordering: ClassVar = ["created_at", "pk"]
        verbose_name = _("message de demande")
        verbose_name_plural = _("messages de demande")

    def __str__(self) -> str:
        return f"{self.ticket} {self.created_at:%Y-%m-%d %H:%M}"


def _attachment_path(instance: TicketAttachment, filename: str) -> str:
    # A random name under the ticket's folder: the person's file name never reaches the
    # file system (it is kept, cleaned, in ``name``).
    return f"{instance.ticket.reference}/{uuid.uuid4().hex}"


# The files a requester may have: those of the opening and of replies, never of a note.
_SHOWN_TO_REQUESTER = Q(message__isnull=True) | Q(message__is_internal=False)


class TicketAttachmentQuerySet(models.QuerySet["TicketAttachment"]):
    def visible_to(self, user: Any) -> TicketAttachmentQuerySet:
        """Files of the tickets ``user`` answers as an agent, and of the requester's own
        tickets except those joined to internal notes."""
        if not isinstance(user, User) or not user.is_active:
            return self.none()
        return self.filter(
            Q(ticket__in=Ticket.objects.agent_of(user).values("pk"))
            | Q(ticket__requester=user) & _SHOWN_TO_REQUESTER
        )

    def shown_to_requester(self) -> TicketAttachmentQuerySet:
        """The files a requester may download (the follow-up link's requester, who has no
        account): never those joined to internal notes."""
        return self.filter(_SHOWN_TO_REQUESTER)


class TicketAttachment(models.Model):
    """A file joined to a ticket when it was opened, or to one of its messages."""

    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="attachments", verbose_name=_("demande")
    )
    message = models.ForeignKey(
        TicketMessage,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="attachments",
        verbose_name=_("échange"),
    )
    name = models.CharField(_("nom du fichier"), max_length=120)
    content_type = models.CharField(_("type"), max_length=60)
    size = models.PositiveIntegerField(_("taille (octets)"))
    file = models.FileField(
        _("fichier"), upload_to=_attachment_path, storage=attachment_storage, max_length=200
    )
    uploaded_by = models.ForeignKey(
        "accounts.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("joint par"),
    )
    created_at = models.DateTimeField(_("joint le"), default=timezone.now)

    objects = TicketAttachmentQuerySet.as_manager()

    class Meta:
        ordering: ClassVar = ["created_at", "pk"]
        verbose_name = _("pièce jointe")
        verbose_name_plural = _("pièces jointes")

    def __str__(self) -> str:
        return self.name
