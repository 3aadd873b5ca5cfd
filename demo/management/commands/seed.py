"""Bulk-create pupils for load tests: ``manage.py seed --pupils 50000``.

Pupils get realistic French names, a division and a birth date that fit their establishment,
and logins from the same generator as every other account. Rows are inserted with
``bulk_create``, one transaction per batch, so 50,000 pupils take seconds, not hours.
"""

from __future__ import annotations

import datetime
import random
import time
from typing import Any

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from convergence.accounts import events
from convergence.accounts.logins import allocate_logins_bulk
from convergence.accounts.models import (
    AccountState,
    Assignment,
    Role,
    User,
    current_school_year,
)
from convergence.audit.actions import record_event
from convergence.core.models import Establishment, EstablishmentKind

# The known password of ``--password-for`` accounts; it meets the pupils' policy.
LOAD_TEST_PASSWORD = "Banc-Essai-Charge-2026"  # noqa: S105 — public by design, load tests only

# Common French first names (girls and boys), with accents, diaereses and hyphens. Word lists
# read better as text than as 500 quoted items, hence the split (SIM905).
FIRST_NAMES = """
Léa Emma Jade Louise Alice Chloé Inès Léna Manon Camille Zoé Lina Mila Ambre Rose Anna
Juliette Lou Agathe Romane Julia Sarah Eva Margaux Clémence Lucie Maëlys Noémie Océane Élise
Héloïse Maëlle Anaïs Mathilde Charlotte Lola Nina Iris Adèle Capucine Salomé Éloïse Victoire
Apolline Constance Margot Clara Laura Pauline Justine Marie Anne-Sophie Marie-Lou Lou-Anne
Léonie Gabrielle Valentine Joséphine Céleste Aurélie Bérénice Maïa Yasmine Aïcha Fatoumata
Nour Amira Sofia Hélène Solène Axelle Gaëlle Estelle Ophélie Cécile Émilie Ségolène Thaïs
Zélie Naëlle Kenza Ilyana Maryam Jeanne Louna Candice Mélina Célia Anouk Lætitia Raphaëlle
Marie-Ève Ève Gwenaëlle Albane Bénédicte Daphné Inaya Alba Lya Thaïna Noélie Rachel Victoria
Gabriel Léo Raphaël Arthur Louis Jules Adam Maël Lucas Hugo Noah Liam Gabin Sacha Paul Nathan
Aaron Mohamed Ethan Tom Éden Léon Noé Tiago Théo Isaac Marius Victor Martin Naël Mathis Axel
Robin Timéo Enzo Marceau Valentin Nino Eliott Nolan Malo Milo Antoine Samuel Augustin Amir
Lyam Rayan Yanis Ibrahim Gaspard Baptiste Clément Maxime Alexandre Benjamin Thomas Mathéo
Timothée Côme Anatole Célestin Aurélien Jérémy Grégoire Loïc Gaël Anaël Joël Jean-Baptiste
Pierre-Louis Marc-Antoine Louis-Marie Paul-Émile François Émile Édouard Étienne Hervé René
Benoît Adrien Bastien Damien Florian Kylian Youssef Mehdi Idriss Moussa Souleymane Wassim
Ilyès Zacharie Évan Elouan Titouan Erwan Ronan Killian Brieuc Tristan Corentin Quentin Romain
Sébastien Dorian Félix Léandre Lenny Ismaël Joachim Séraphin Cyprien Barnabé Aloïs Noam
""".split()  # noqa: SIM905

# Surnames of the four departments and of France at large: particles, apostrophes,
# hyphenated and foreign names, so that every path of the login generator is exercised.
# "Y\u0131lmaz" is written escaped: its Turkish dotless i looks like an i.
LAST_NAMES = [
    name.strip()
    for name in """
Martin, Bernard, Thomas, Petit, Robert, Richard, Durand, Dubois, Moreau, Laurent, Simon,
Michel, Lefèvre, Leroy, Roux, David, Bertrand, Morel, Fournier, Girard, Bonnet, Dupont,
Lambert, Fontaine, Rousseau, Vincent, Muller, Lefebvre, Faure, André, Mercier, Blanc, Guérin,
Boyer, Garnier, Chevalier, François, Legrand, Gauthier, Garcia, Perrin, Robin, Clément, Morin,
Nicolas, Henry, Roussel, Mathieu, Gautier, Masson, Marchand, Duval, Denis, Dumont, Lemaire,
Noël, Meyer, Dufour, Meunier, Brun, Blanchard, Giraud, Joly, Rivière, Lucas, Brunet, Gaillard,
Barbier, Arnaud, Martinez, Gérard, Roche, Renard, Schmitt, Roy, Leroux, Colin, Vidal, Caron,
Picard, Roger, Fabre, Aubert, Lemoine, Renaud, Dumas, Lacroix, Olivier, Philippe, Bourgeois,
Pierre, Benoît, Rey, Leclerc, Payet, Rolland, Leclercq, Guillaume, Lecomte, Lopez, Dupuy,
Guillot, Hubert, Berger, Carpentier, Sanchez, Dupuis, Moulin, Deschamps, Huet, Vasseur, Perez,
Boucher, Fleury, Royer, Klein, Jacquet, Poirier, Marty, Aubry, Guyot, Carré, Renault,
Charpentier, Ménard, Maillard, Baron, Bertin, Bailly, Hervé, Schneider, Fernandez, Le Gall,
Collet, Léger, Bouvier, Prévost, Millet, Perrot, Le Roux, Cousin, Germain, Breton, Besson,
Langlois, Rémy, Le Goff, Pelletier, Lévêque, Perrier, Leblanc, Barré, Lebrun, Marchal, Weber,
Mallet, Hamon, Boulanger, Jacob, Monnier, Michaud, Rodriguez, Guichard, Gillet, Étienne,
Grondin, Poulain, Tessier, Chevallier, Collin, Chauvin, Da Silva, Bouchet, Lemaître, Bénard,
Maréchal, Humbert, Reynaud, Hoarau, Perret, Barthélemy, Cordier, Pichon, Lejeune, Gilbert,
Lamy, Delaunay, Pasquier, Carlier, Laporte, Jacquot, Grosperrin, Vuillemin, Cuenot, Faivre,
Vuillaume, Guyon, Girardot, Mougin, Pétetin, Chopard, Boillot, Courvoisier, Jeannin, Cuenin,
Vernier, Parrenin, Monnot, Marguet, Tissot, Billod, Pernot, Bôle-Richard, Grandjean, Vuillet,
Chevillard, Cretin, Maire, Nicod, Bouveret, Pourcelot, Grosjean-Girardot, Bréchet-Mougin,
Cuenot-Faivre, Lévy-Bruhl, Saint-Martin, Saint-Hilaire, de La Fontaine, de Villiers,
de Saint-Exupéry, du Bois-Reymond, de la Croix, de Montbéliard, du Pasquier, d'Arcy, d'Amboise,
d'Orléans, D'Angelo, D'Alessandro, L'Huillier, L'Hôte, N'Diaye, N'Guessan, N'Dour, O'Neill,
O'Connor, Le Bihan, Le Floch, Le Meur, Le Corre, Le Pen-Goff, Van der Berg, Van den Broeck,
Della Valle, Di Stefano, De Oliveira, dos Santos, Da Costa, Ben Ali, Ben Saïd, Aït Ahmed,
El Amrani, El Idrissi, Ouédraogo, Diallo, Traoré, Coulibaly, Kouassi, Keïta, Sow, Diop, Ba,
Nguyen, Tran, Pham, Lê, Vo, Y\u0131lmaz, Öztürk, Şahin, Kowalski, Nowak, Wiśniewski, Sánchez-Núñez,
Müller, Œuvrard, Cœurdevey, Lætitier, Peña, Ibáñez, Gonçalves, Magalhães, Ferreira, Rossi,
Russo, Bianchi, Ricci, Haddad, Benali, Belkacem, Boukhris, Mansouri, Chérif, Zerrouki, Saïdi,
Meziane, Amrani, Toumi, Bouzid, Hamdi, Cherki, Ait-Ouali, Abdallah, Youssef, Kaci, Djebbar,
Schwartz, Zimmermann, Hoffmann, Wagner, Becker, Fischer, Koch, Richter, Jung, Kieffer,
Ostermann, Haegelé, Stoecklé, Grünenwald, Frœhlich, Bouvard, Gros, Petitjean, Besançon,
Vesoul, Beaufils, Bonnefoy, Bonhomme, Boisseau, Champion, Courtois, Delorme, Desbois,
Dujardin, Fouquet, Gauthey, Jouffroy, Lagrange, Laroche, Letellier, Maillot, Mathey, Mourot,
Paillard, Poncet, Quenot, Racine, Sauvageot, Thévenin, Toussaint, Valette, Varin, Voisin
""".split(",")  # noqa: SIM905
]

# Divisions per kind of establishment, as ``(level, years old on 31 December of the school
# year's first calendar year, class names)``: a pupil of 6e in 2025-2026 was born in 2014.
LEVELS: dict[str, list[tuple[str, int, list[str]]]] = {
    EstablishmentKind.ECOLE: [
        ("CP", 6, [""]),
        ("CE1", 7, [""]),
        ("CE2", 8, [""]),
        ("CM1", 9, [""]),
        ("CM2", 10, [""]),
    ],
    EstablishmentKind.COLLEGE: [
        (level, age, ["A", "B", "C", "D"])
        for level, age in (("6e", 11), ("5e", 12), ("4e", 13), ("3e", 14))
    ],
    EstablishmentKind.LYCEE: [
        ("2de", 15, ["1", "2", "3", "4", "5", "6"]),
        ("1re", 16, ["G1", "G2", "G3", "G4", "STMG"]),
        ("Tle", 17, ["G1", "G2", "G3", "G4", "STMG"]),
    ],
    EstablishmentKind.LYCEE_PRO: [
        ("2de pro", 15, ["MELEC", "GATL", "MRC"]),
        ("1re pro", 16, ["MELEC", "GATL", "MRC"]),
        ("Tle pro", 17, ["MELEC", "GATL", "MRC"]),
    ],
}


def _french_number(value: int) -> str:
    """``12000`` → ``"12 000"`` with a no-break space, as French writes thousands."""
    return f"{value:,}".replace(",", "\u00a0")


# Draws before a name already in the académie is accepted as a homonym.
NAME_DRAWS = 5


def _draw_name(rng: random.Random, existing: set[tuple[str, str]]) -> tuple[str, str]:
    """A random name, avoiding those of people already there: a seeded "Léa Martin" would
    make the demo's named people ambiguous (tests and docs find them by name). Once most
    names are taken (large seeds), homonyms are accepted, as in real life."""
    for _ in range(NAME_DRAWS):
        name = (rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES))
        if name not in existing:
            break
    return name


def _division(level: str, name: str) -> str:
    return f"{level} {name}" if name else level


class Command(BaseCommand):
    help = (
        "Crée des élèves supplémentaires pour les tests de charge, répartis dans les écoles, "
        "collèges et lycées de la démonstration (qui doit être chargée). Les comptes sont "
        "actifs et sans mot de passe utilisable, sauf les N premiers avec --password-for : "
        f"ceux-là reçoivent le mot de passe connu « {LOAD_TEST_PASSWORD} » (ou --password), "
        "haché UNE seule fois et le même haché Argon2id réutilisé pour tous (même sel) — "
        "acceptable pour des comptes de test de charge, jamais pour de vrais comptes. "
        "Chaque exécution ajoute des élèves ; les identifiants restent uniques."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--pupils", type=int, required=True, help="Nombre d'élèves à créer.")
        parser.add_argument(
            "--establishment",
            dest="establishments",
            nargs="+",
            action="extend",
            default=[],
            metavar="UAI",
            help="Limite la répartition à ces établissements (UAI).",
        )
        parser.add_argument(
            "--batch", type=int, default=5000, help="Élèves insérés par transaction."
        )
        parser.add_argument(
            "--password-for",
            type=int,
            default=0,
            metavar="N",
            help=(
                "Donne aux N premiers élèves créés un mot de passe connu (un seul haché "
                "réutilisé : comptes de test de charge uniquement)."
            ),
        )
        parser.add_argument(
            "--password",
            default=LOAD_TEST_PASSWORD,
            help="Le mot de passe connu de --password-for.",
        )
        parser.add_argument(
            "--random-seed", type=int, default=None, help="Graine du tirage des noms."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        count: int = options["pupils"]
        batch_size: int = options["batch"]
        with_password: int = options["password_for"]
        if count < 1:
            raise CommandError("--pupils doit être un entier positif.")
        if batch_size < 1:
            raise CommandError("--batch doit être un entier positif.")
        if not 0 <= with_password <= count:
            raise CommandError("--password-for doit être compris entre 0 et --pupils.")
        establishments = self._establishments(options["establishments"])
        rng = random.Random(options["random_seed"])  # noqa: S311 — names, not secrets
        year = current_school_year()
        first_year = int(year[:4])
        # Hashed once: Argon2id at production cost takes tens of milliseconds per call.
        known_hash = make_password(options["password"]) if with_password else ""
        taken = set(User.objects.values_list("login", flat=True))
        existing = set(User.objects.values_list("first_name", "last_name"))

        started = time.perf_counter()
        created = 0
        try:
            while created < count:
                size = min(batch_size, count - created)
                names = [_draw_name(rng, existing) for _ in range(size)]
                logins = allocate_logins_bulk(names, taken)
                now = timezone.now()
                users = []
                grants = []
                for index, ((first_name, last_name), login) in enumerate(
                    zip(names, logins, strict=True)
                ):
                    establishment = rng.choice(establishments)
                    level, age, classes = rng.choice(LEVELS[establishment.kind])
                    # About one pupil in ten has repeated a year.
                    birth_year = first_year - age - (rng.random() < 0.1)
                    birth_date = datetime.date(birth_year, 1, 1) + datetime.timedelta(
                        days=rng.randrange(365)
                    )
                    password = (
                        known_hash if created + index < with_password else make_password(None)
                    )
                    users.append(
                        User(
                            login=login,
                            first_name=first_name,
                            last_name=last_name,
                            birth_date=birth_date,
                            state=AccountState.ACTIVE,
                            password=password,
                            date_joined=now,
                        )
                    )
                    grants.append((establishment, _division(level, rng.choice(classes))))
                with transaction.atomic():
                    User.objects.bulk_create(users)
                    Assignment.objects.bulk_create(
                        Assignment(
                            user=user,
                            establishment=establishment,
                            role=Role.ELEVE,
                            division=division,
                            school_year=year,
                        )
                        for user, (establishment, division) in zip(users, grants, strict=True)
                    )
                created += size
                self.stdout.write(
                    f"{_french_number(created)} / {_french_number(count)} élèves créés…"
                )
        finally:
            if created:
                # One event for the whole load: the trail is for security events, and
                # 50,000 identical rows would drown them.
                record_event(
                    event_type=events.ACCOUNT_CREATED, data={"count": created, "source": "seed"}
                )
        elapsed = time.perf_counter() - started
        rate = created / elapsed if elapsed else 0.0
        self.stdout.write(
            self.style.SUCCESS(
                f"{_french_number(created)} élèves créés en "
                f"{f'{elapsed:.1f}'.replace('.', ',')} s "
                f"({_french_number(round(rate))} par seconde)."
            )
        )
        if with_password:
            self.stdout.write(
                f"Les {_french_number(with_password)} premiers ont le mot de passe "
                f"« {options['password']} »."
            )

    def _establishments(self, uais: list[str]) -> list[Establishment]:
        schools = Establishment.objects.filter(kind__in=list(LEVELS)).order_by("uai")
        if not schools.exists():
            raise CommandError(
                "Aucune école, aucun collège ni lycée : chargez d'abord la démonstration "
                "(make demo, ou manage.py load_blueprint blueprints/demo.yaml)."
            )
        if not uais:
            return list(schools)
        wanted = {uai.strip().upper() for uai in uais}
        found = list(schools.filter(uai__in=wanted))
        missing = sorted(wanted - {establishment.uai for establishment in found})
        if missing:
            raise CommandError(
                "Établissement inconnu ou sans élèves (école, collège, lycée) : "
                + ", ".join(missing)
                + "."
            )
        return found
