"""The notifications app: the sink of ``core.notify.notify``, the notification centre, the
header's bell, preferences, quiet hours, digests and web push."""

import datetime

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _signed_in(user: object) -> bool:
    return bool(getattr(user, "is_authenticated", False))


class NotificationsConfig(AppConfig):
    name = "convergence.notifications"
    label = "notifications"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        from allauth.account.signals import password_changed
        from django.contrib.auth.signals import user_logged_out

        from convergence.accounts.signals import account_deactivated, account_password_reset
        from convergence.core import header_links, notify, open_urls
        from convergence.core.schedule import DAILY, register_job
        from convergence.devices.signals import sessions_ended
        from convergence.notifications import (
            events,  # noqa: F401  (declares its audit event types)
            personal_data,
            receivers,
            sink,
            tasks,
            views,
        )

        notify.register(sink.sink)
        # Devices follow the account's sessions: a reset, a password change or an account
        # no longer active takes them back; a browser signing out forgets its own.
        account_password_reset.connect(
            receivers.forget_devices_after_password_reset, dispatch_uid="push_devices_on_reset"
        )
        account_deactivated.connect(
            receivers.forget_devices_of_inactive_account,
            dispatch_uid="push_devices_on_deactivation",
        )
        password_changed.connect(
            receivers.forget_other_devices_after_password_change,
            dispatch_uid="push_devices_on_password_change",
        )
        user_logged_out.connect(
            receivers.forget_device_at_sign_out, dispatch_uid="push_device_on_sign_out"
        )
        sessions_ended.connect(
            receivers.forget_devices_of_ended_sessions,
            dispatch_uid="push_devices_on_sessions_ended",
        )
        header_links.register(
            header_links.HeaderLink(
                slug="notifications",
                label=_("Notifications"),
                icon="fr-icon-notification-3-line",
                url_name="notifications:centre",
                shown_to=_signed_in,
                # In the page (two cache reads), then polled every 30 s by the fragment.
                badge=views.inline_badge,
            )
        )
        register_job(
            "deliver_notification_mail",
            tasks.deliver_notification_mail,
            every=datetime.timedelta(minutes=1),
        )
        register_job(
            "send_notification_digests",
            tasks.send_notification_digests,
            every=datetime.timedelta(minutes=5),
        )
        register_job(
            "deliver_notification_push",
            tasks.deliver_notification_push,
            every=datetime.timedelta(minutes=1),
        )
        register_job("purge_old_notifications", tasks.purge_old_notifications, every=DAILY)
        personal_data.register()
        # The browser fetches the service worker and the manifest whatever page it is on,
        # maintenance and second-factor enrolment included.
        open_urls.register(
            "service_worker",
            "webmanifest",
            during=(open_urls.During.MAINTENANCE, open_urls.During.ENROLMENT),
        )
