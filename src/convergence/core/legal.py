"""Core's own entries in the registries of the public pages: its pages in the site map, the
cookies Django sets for every app (session, CSRF, messages) and the display setting the
design system keeps in the browser."""

from __future__ import annotations

from django.conf import settings
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from convergence.core import data_notice, sitemap


def _session_lifetime() -> str | Promise:
    age = data_notice.duration(settings.SESSION_COOKIE_AGE)
    if settings.SESSION_EXPIRE_AT_BROWSER_CLOSE:
        return gettext(
            "jusqu'à la fermeture du navigateur ou la déconnexion ; la session expire après "
            "%(age)s sans activité"
        ) % {"age": age}
    return gettext("%(age)s sans activité, ou jusqu'à la déconnexion") % {"age": age}


def _csrf_lifetime() -> str | Promise:
    if settings.CSRF_USE_SESSIONS:
        return _("gardé dans la session, sans cookie à part")
    if settings.CSRF_COOKIE_AGE is None:
        return _("jusqu'à la fermeture du navigateur")
    return data_notice.duration(settings.CSRF_COOKIE_AGE)


def register() -> None:
    """Called from ``CoreConfig.ready``."""
    about = sitemap.Section.ABOUT
    sitemap.register(
        sitemap.Section.HELP,
        _("Aide et codes d'erreur"),
        "error_codes",
        order=10,
        keywords=_("erreur, problème, assistance"),
    )
    sitemap.register(about, _("Plan du site"), "site_map", order=10)
    sitemap.register(about, _("Mentions légales"), "legal_notice", order=20)
    sitemap.register(
        about,
        _("Données personnelles et cookies"),
        "personal_data_notice",
        order=30,
        keywords=_("RGPD, confidentialité, vie privée, DPO"),
    )
    sitemap.register(
        about,
        _("Déclaration d'accessibilité"),
        "accessibility",
        order=40,
        keywords=_("RGAA, handicap, lecteur d'écran"),
    )

    data_notice.declare_cookie(
        "session",
        name=lambda: settings.SESSION_COOKIE_NAME,
        purpose=_(
            "Vous garder connecté d'une page à l'autre, ou suivre une démarche sans connexion "
            "(activation, mot de passe oublié) : un numéro tiré au hasard, rien d'autre."
        ),
        lifetime=_session_lifetime,
        order=10,
    )
    data_notice.declare_cookie(
        "csrf",
        name=lambda: settings.CSRF_COOKIE_NAME,
        purpose=_(
            "Protéger vos formulaires : vérifie qu'un envoi vient bien d'une page du portail "
            "et non d'un autre site."
        ),
        lifetime=_csrf_lifetime,
        order=20,
    )
    data_notice.declare_cookie(
        "messages",
        name=lambda: settings.MESSAGE_COOKIE_NAME,
        purpose=_("Afficher sur la page suivante le résultat d'une action (« Enregistré »…)."),
        lifetime=lambda: _("effacé dès que le message est affiché"),
        order=30,
    )
    data_notice.declare_cookie(
        "scheme",
        name=lambda: "scheme",
        purpose=_(
            "Retenir vos paramètres d'affichage (thème clair, sombre ou celui du système). "
            "Ce n'est pas un cookie : le réglage reste dans le stockage local de votre "
            "navigateur et n'est jamais envoyé au portail."
        ),
        lifetime=lambda: _(
            "jusqu'à ce que vous changiez ce réglage ou effaciez les données du navigateur"
        ),
        order=90,
    )
