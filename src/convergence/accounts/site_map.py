"""The pages of accounts in the site map (``core.sitemap``): sign-in and its recovery paths,
activation, "Mon compte" and "Mes données"."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from convergence.core import sitemap


def register() -> None:
    """Called from ``AccountsConfig.ready``."""
    sign_in, account = sitemap.Section.SIGN_IN, sitemap.Section.ACCOUNT
    sitemap.register(sign_in, _("Se connecter"), "account_login", order=10)
    sitemap.register(
        sign_in,
        _("Activer mon compte"),
        "accounts:activation",
        order=20,
        keywords=_("activation, lettre, première connexion, code"),
    )
    sitemap.register(
        sign_in,
        _("Mot de passe oublié"),
        "account_reset_password",
        order=30,
        keywords=_("mot de passe perdu, réinitialiser, bloqué"),
    )
    sitemap.register(
        sign_in,
        _("Identifiant oublié"),
        "accounts:forgot_login",
        order=40,
        keywords=_("login, identifiant perdu, nom d'utilisateur"),
    )
    sitemap.register(account, _("Mon compte"), "accounts:account", signed_in=True, order=10)
    sitemap.register(
        account,
        _("Changer de mot de passe"),
        "account_change_password",
        signed_in=True,
        order=20,
        keywords=_("mot de passe, modifier, changer"),
    )
    sitemap.register(
        account,
        _("Moyens de secours"),
        "accounts:recovery",
        signed_in=True,
        order=30,
        keywords=_("adresse de secours, téléphone, récupération, mot de passe oublié"),
    )
    sitemap.register(
        account,
        _("Mes données"),
        "accounts:data",
        signed_in=True,
        order=80,
        keywords=_("données personnelles, RGPD, export, confidentialité"),
    )
