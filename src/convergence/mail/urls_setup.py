"""URLs of the webmail's setup pages (included at the root by convergence/urls.py): one page
per kind of device, the Apple profile's downloads, Thunderbird's autoconfig."""

from django.urls import path, re_path

from convergence.mail import setup_views

app_name = "mail_setup"

urlpatterns = [
    re_path(
        r"^messagerie/appareils/(?P<device>iphone|android|thunderbird|outlook)/$",
        setup_views.device,
        name="device",
    ),
    path("messagerie/appareils/iphone/profil/", setup_views.profile, name="profile"),
    path(
        "messagerie/appareils/iphone/profil/<str:token>/",
        setup_views.profile_by_token,
        name="profile_by_token",
    ),
    # Thunderbird asks https://<domain>/.well-known/autoconfig/mail/config-v1.1.xml, then
    # https://autoconfig.<domain>/mail/config-v1.1.xml (both hosts proxied to the portal).
    path(
        ".well-known/autoconfig/mail/config-v1.1.xml",
        setup_views.autoconfig,
        name="autoconfig",
    ),
    path("mail/config-v1.1.xml", setup_views.autoconfig, name="autoconfig_host"),
]
