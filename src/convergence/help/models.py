"""Guides written in the administration (drafts, reviewed then published) and the search index
of every guide (files and published drafts alike)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class GuideStatus(models.TextChoices):
    DRAFT = "draft", _("Brouillon")
    REVIEW = "review", _("En relecture")
    PUBLISHED = "published", _("Publié")


class GuideQuerySet(models.QuerySet["Guide"]):
    def published(self) -> GuideQuerySet:
        return self.filter(status=GuideStatus.PUBLISHED)


class Guide(models.Model):
    """A guide written in the administration: one person writes it, another with the right to
    publish reviews and publishes it (``help.actions``). Published, it joins the guides of
    ``content/guides/`` and overrides a file of the same slug."""

    slug = models.SlugField(_("adresse"), max_length=80, unique=True)
    title = models.CharField(_("titre"), max_length=200)
    summary = models.CharField(_("résumé"), max_length=300)
    profiles = models.JSONField(
        _("profils"), default=list, blank=True, help_text=_("Vide : tout le monde.")
    )
    tags = models.JSONField(_("mots-clés"), default=list, blank=True)
    error_codes = models.JSONField(_("codes d'erreur expliqués"), default=list, blank=True)
    body = models.TextField(_("texte (Markdown)"))
    easy_read = models.BooleanField(_("version facile à lire (FALC)"), default=False)
    variant_of = models.SlugField(_("version facile à lire du guide"), max_length=80, blank=True)
    order = models.IntegerField(_("ordre"), default=100)
    status = models.CharField(
        _("état"), max_length=16, choices=GuideStatus.choices, default=GuideStatus.DRAFT
    )
    last_reviewed = models.DateField(_("dernière relecture"), null=True, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("rédacteur"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("relecteur"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifié le"), auto_now=True)

    objects = GuideQuerySet.as_manager()

    class Meta:
        verbose_name = _("guide d'aide")
        verbose_name_plural = _("guides d'aide")
        ordering = ("slug",)
        permissions = [("publish_guide", _("Peut publier un guide d'aide relu"))]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=GuideStatus.values), name="help_guide_status_valid"
            ),
            # Four eyes: a published guide names a reviewer who is not its author.
            models.CheckConstraint(
                condition=~Q(status=GuideStatus.PUBLISHED)
                | (Q(reviewer__isnull=False) & ~Q(reviewer=F("author"))),
                name="help_guide_published_reviewed_by_another",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class IndexedGuide(models.Model):
    """One guide as the search reads it (plain text), rebuilt by ``help.search.rebuild``.
    SQLite searches its FTS5 twin ``help_guide_fts``; PostgreSQL a GIN index over it (French
    configuration with unaccent), both created by the migrations."""

    slug = models.CharField(max_length=80, unique=True)
    title = models.TextField()
    summary = models.TextField()
    body = models.TextField()
    # " eleve parent " (spaces around each), or "" for everyone.
    profiles = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("guide indexé")
        verbose_name_plural = _("guides indexés")

    def __str__(self) -> str:
        return self.slug
