"""What a person can recognise of a device: its browser, system and approximate place.

Read from the user agent and the address a session was last seen from. Both are only
indications: a user agent is whatever the browser says, and without a geolocation database
the place is "the académie's network" or a partly masked address (docs/accounts.md).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from django.utils.translation import gettext as _

from convergence.core.models import Academie

# Order matters: many browsers also name the engines they claim compatibility with
# (Edge says "Chrome" and "Safari", Chrome says "Safari"), so the most specific comes first.
_BROWSERS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("Edge", re.compile(r"\b(?:Edg|EdgA|EdgiOS|Edge)/")),
    ("Opera", re.compile(r"\b(?:OPR|OPT|Opera)/|\bOpera\b")),
    ("Samsung Internet", re.compile(r"\bSamsungBrowser/")),
    ("Firefox", re.compile(r"\b(?:Firefox|FxiOS)/")),
    ("Chrome", re.compile(r"\b(?:Chrome|CriOS|HeadlessChrome|Chromium)/")),
    ("Safari", re.compile(r"\bVersion/[\d.]+.*\bSafari/|\bAppleWebKit/.*\bMobile/")),
)

# (name, kind) with kind one of "phone", "tablet", "computer".
_SYSTEMS: tuple[tuple[str, str, re.Pattern[str]], ...] = (
    ("iPhone", "phone", re.compile(r"\biPhone\b|\biPod\b")),
    ("iPad", "tablet", re.compile(r"\biPad\b")),
    ("Android", "phone", re.compile(r"\bAndroid\b")),
    ("ChromeOS", "computer", re.compile(r"\bCrOS\b")),
    ("Windows", "computer", re.compile(r"\bWindows\b")),
    ("macOS", "computer", re.compile(r"\bMac OS X\b|\bMacintosh\b")),
    ("Linux", "computer", re.compile(r"\bLinux\b|\bX11\b")),
)

# Addresses that never come from the Internet (RFC 1918, loopback, link-local, IPv6 ULA).
# ``ip.is_private`` would also take documentation ranges such as 203.0.113.0/24.
_LOCAL_NETWORKS = tuple(
    ipaddress.ip_network(network)
    for network in (
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "::1/128",
        "fc00::/7",
        "fe80::/10",
    )
)


@dataclass(frozen=True)
class Device:
    """A browser on a system, as told by its user agent."""

    browser: str
    system: str
    kind: str  # "phone", "tablet", "computer" or "" when unknown

    @property
    def label(self) -> str:
        """ "Firefox sur Windows", "Safari sur iPhone"; "Navigateur inconnu" if nothing is known."""
        if self.browser and self.system:
            return _("%(browser)s sur %(system)s") % {
                "browser": self.browser,
                "system": self.system,
            }
        if self.browser:
            return self.browser
        if self.system:
            return _("Navigateur inconnu sur %(system)s") % {"system": self.system}
        return _("Navigateur inconnu")

    @property
    def icon(self) -> str:
        """A DSFR icon class for the kind of device."""
        return {
            "phone": "fr-icon-smartphone-line",
            "tablet": "fr-icon-tablet-line",
        }.get(self.kind, "fr-icon-computer-line")


def parse_user_agent(user_agent: str) -> Device:
    """Recognise the common browsers and systems; anything else is left unknown."""
    text = user_agent or ""
    browser = next((name for name, pattern in _BROWSERS if pattern.search(text)), "")
    system, kind = next(
        ((name, kind) for name, kind, pattern in _SYSTEMS if pattern.search(text)), ("", "")
    )
    if system == "Android" and "Mobile" not in text:
        kind = "tablet"
    return Device(browser=browser, system=system, kind=kind)


def browser_label(user_agent: str) -> str:
    return parse_user_agent(user_agent).label


def masked_address(address: str) -> str:
    """The address with its last part hidden: 203.0.113.x, 2001:db8:85a3:…"""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if isinstance(ip, ipaddress.IPv4Address):
        return ".".join([*str(ip).split(".")[:3], "x"])
    # An IPv6 /48 is usually one site: keep that much, never the host part.
    groups = ip.exploded.split(":")[:3]
    return ":".join(group.lstrip("0") or "0" for group in groups) + ":…"


def approximate_place(address: str | None, academie: Academie | None = None) -> str:
    """Where a session was seen, as far as the portal can honestly tell without geolocation."""
    if not address:
        return _("Lieu inconnu")
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return _("Lieu inconnu")
    academie = academie or Academie.current()
    if academie.is_trusted_address(address):
        return _("Réseau de l'académie")
    if any(ip in network for network in _LOCAL_NETWORKS if network.version == ip.version):
        return _("Réseau local (adresse %(address)s)") % {"address": masked_address(address)}
    return _("Internet (adresse %(address)s)") % {"address": masked_address(address)}
