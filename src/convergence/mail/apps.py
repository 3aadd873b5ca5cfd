"""The mail app: the webmail over the académie's IMAP/SMTP servers (no mail is stored in the
portal), app passwords for phones and mail clients, and their set-up."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MailConfig(AppConfig):
    name = "convergence.mail"
    label = "mail"
    verbose_name = _("Messagerie")

    def ready(self) -> None:
        from convergence.core import header_links, open_urls
        from convergence.core.widgets import Kind, Widget, register
        from convergence.mail import (
            errors,  # noqa: F401  (declares its error codes)
            events,  # noqa: F401  (declares its audit event types)
            personal_data,
            receivers,
            widgets,
        )

        register(
            Widget(
                slug="mail",
                template="mail/_widget.html",
                context=widgets.latest_messages,
                order=20,
                kind=Kind.DEFERRED,
                title=str(_("Messagerie")),
                timeout_seconds=4.0,
            )
        )
        header_links.register(
            header_links.HeaderLink(
                slug="mail",
                label=_("Messagerie"),
                icon="fr-icon-mail-line",
                url_name="mail:inbox",
                shown_to=widgets.shows_mail_link,
                badge_url_name="mail:unread_badge",
            )
        )
        receivers.connect()
        personal_data.register()
        from convergence.core.schedule import register_job
        from convergence.mail import tasks

        register_job("purge_old_mail_records", tasks.purge_old_mail_records)
        # The DSI's phishing warnings, on the sign-in page and every dashboard (and as a
        # notification to each mailbox holder: phishing_actions.publish_warning).
        from convergence.core import notices
        from convergence.mail import phishing_reports

        notices.register(
            phishing_reports.warning_notices, version=phishing_reports.warnings_version
        )
        # Phones keep reading their mail while the portal is closed for maintenance: the
        # mail server's check of an app password is not a page of the portal.
        open_urls.register(
            "/messagerie/serveur/",
            during=(open_urls.During.MAINTENANCE, open_urls.During.ENROLMENT),
        )
        # A mail client's set-up document and a phone's profile download (by its one-time
        # token) are not portal pages either.
        open_urls.register(
            "/.well-known/autoconfig/",
            "/mail/config-v1.1.xml",
            "/messagerie/appareils/iphone/profil/",
            during=(open_urls.During.MAINTENANCE,),
        )
