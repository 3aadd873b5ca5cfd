"""Who a message really comes from, as far as its sender's address can tell.

Three levels, shown above the message:

* **académie** — the sender's domain is one of the académie's (``Academie.mail_domain``,
  ``MAIL_TRUSTED_DOMAINS`` and their subdomains): nothing is said;
* **extérieur** — any other domain: a quiet banner (« ce message vient de l'extérieur ») so
  that a request for a password or a payment is read for what it is;
* **suspect** — the domain *looks like* the académie's without being it, or the display name
  claims an académie role from outside. Look-alikes caught:
  - an official domain inside another one (``ac-besancon.fr.secure-login.info``,
    ``ac-besancon.fr-connexion.com``);
  - confusable characters once folded (Cyrillic letters, ``rn`` for ``m``, ``0`` for ``o``,
    ``1``/``l``/``i``) and accents (``ac-besançon.fr``);
  - a small edit distance (at most 2) from an official domain (``ac-besancom.fr``).

Only the address is judged (the headers a server added are not trusted either); this is a
warning for the reader, not a filter — mail is filtered by the académie's servers.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from django.conf import settings
from django.utils.translation import gettext as _

from convergence.core.models import Academie

ACADEMIE = "academie"
EXTERNAL = "external"
SUSPICIOUS = "suspicious"

# What an impostor's display name claims, folded (lower case, no accents).
ROLE_WORDS = (
    "academie",
    "rectorat",
    "recteur",
    "rectrice",
    "principal",
    "proviseur",
    "direction",
    "directeur",
    "directrice",
    "chef d'etablissement",
    "dsi",
    "support",
    "assistance",
    "service informatique",
    "administrateur",
    "messagerie",
    "webmail",
    "securite",
)
# Characters drawn alike, folded to the letters they imitate.
CONFUSABLES = str.maketrans(
    {
        "\u0430": "a",  # Cyrillic a
        "\u0435": "e",  # Cyrillic ie
        "\u043e": "o",  # Cyrillic o
        "\u0440": "p",  # Cyrillic er
        "\u0441": "c",  # Cyrillic es
        "\u0445": "x",  # Cyrillic ha
        "\u0443": "y",  # Cyrillic u
        "\u0456": "i",  # Cyrillic Byelorussian-Ukrainian i
        "\u0458": "j",  # Cyrillic je
        "\u0455": "s",  # Cyrillic dze
        "\u0501": "d",  # Cyrillic komi de
        "\u0261": "g",  # Latin script g
        "\u0578": "n",  # Armenian vo
        "0": "o",
        "1": "l",
        "|": "l",
        "!": "i",
        "$": "s",
        "_": "-",
    }
)


@dataclass(frozen=True)
class Verdict:
    level: str
    reasons: list[str] = field(default_factory=list)

    @property
    def external(self) -> bool:
        return self.level != ACADEMIE

    @property
    def suspicious(self) -> bool:
        return self.level == SUSPICIOUS


def official_domains() -> list[str]:
    domains = [Academie.current().mail_domain, *settings.MAIL_TRUSTED_DOMAINS]
    return sorted({domain.strip().lower().rstrip(".") for domain in domains if domain.strip()})


def _plain(text: str) -> str:
    """Lower case, accents off (how a display name is read)."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _fold(text: str) -> str:
    """A domain as an eye reads it: accents off, confusables folded to what they imitate."""
    return (
        _plain(text).translate(CONFUSABLES).replace("rn", "m").replace("vv", "w").replace("l", "i")
    )


def _distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance, stopped early past ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


def _is_official(domain: str, officials: list[str]) -> bool:
    return any(domain == official or domain.endswith("." + official) for official in officials)


def assess(address: str, display_name: str = "", *, officials: list[str] | None = None) -> Verdict:
    """The level of the sender ``address`` (and what its ``display_name`` claims)."""
    officials = official_domains() if officials is None else officials
    domain = address.rpartition("@")[2].strip().lower().rstrip(".")
    if not domain:
        return Verdict(SUSPICIOUS, [_("L'adresse de l'expéditeur est illisible.")])
    if _is_official(domain, officials):
        return Verdict(ACADEMIE)
    reasons: list[str] = []
    folded_domain = _fold(domain)
    for official in officials:
        folded_official = _fold(official)
        stem = official.rsplit(".", 1)[0]
        if official in domain or stem in domain or folded_official in folded_domain:
            reasons.append(
                _(
                    "L'adresse imite celle de l'académie : « %(domain)s » contient "
                    "« %(official)s » mais n'est pas un domaine de l'académie."
                )
                % {"domain": domain, "official": official}
            )
            break
        if folded_domain == folded_official or _distance(folded_domain, folded_official, 2) <= 2:
            reasons.append(
                _(
                    "Le domaine « %(domain)s » ressemble à « %(official)s » à une ou deux lettres "
                    "près : ce n'est pas l'académie."
                )
                % {"domain": domain, "official": official}
            )
            break
    name = _plain(display_name).replace("\u2019", "'")
    if name and any(word in name for word in ROLE_WORDS):
        reasons.append(
            _(
                "Le nom affiché (« %(name)s ») se présente comme un service ou un personnel de "
                "l'académie, mais le message vient de l'extérieur (%(domain)s)."
            )
            % {"name": display_name.strip()[:80], "domain": domain}
        )
    return Verdict(SUSPICIOUS if reasons else EXTERNAL, reasons)
