"""The troubleshooter (/aide/depannage/): decision paths by symptom and profile, read from YAML.

Each file of ``paths/`` is one symptom. Its ``start`` names the first step for each profile
(élève, parent, personnel); a step asks one question whose answers lead to another step
(``next``) or to an ending (``end``): a self-service action, a guide, or the right contact.
Files are loaded once and validated by a system check (``register()``, from ``HelpConfig``):
every target exists, no step leads back to itself, every path ends, every ending has a title.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from django.core import checks

PATHS_DIR = Path(__file__).resolve().parent / "paths"
PROFILES = ("eleve", "parent", "personnel")
ENDING_KINDS = ("action", "guide", "contact")
IDENTIFIER = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
GUIDE_URL = re.compile(r"^/aide/guides/[a-z0-9]+(?:-[a-z0-9]+)*/$")
CHECK_ID = "help.E001"


class PathError(ValueError):
    """A path file that cannot be followed; the message names the file and the fault."""


@dataclass(frozen=True)
class Answer:
    label: str
    target: str  # a step id or an ending id of the same file


@dataclass(frozen=True)
class Step:
    id: str
    question: str
    hint: str
    answers: tuple[Answer, ...]

    def answer_to(self, target: str) -> Answer | None:
        return next((answer for answer in self.answers if answer.target == target), None)


@dataclass(frozen=True)
class Ending:
    id: str
    kind: str
    title: str
    text: str
    url: str


@dataclass(frozen=True)
class Symptom:
    """One file: a symptom, its first step per profile, its steps and endings."""

    slug: str
    title: str
    order: int
    start: Mapping[str, str]
    steps: Mapping[str, Step]
    endings: Mapping[str, Ending]

    def first_step(self, profile: str) -> Step:
        return self.steps[self.start[profile]]

    def follows(self, profile: str, trail: Sequence[str], current: str) -> bool:
        """Whether ``trail`` (the steps answered so far) then ``current`` is a walk of this
        path for ``profile``: the one test that keeps a forged query string out."""
        walk = [*trail, current]
        if walk[0] != self.start.get(profile):
            return False
        for here, there in itertools.pairwise(walk):
            step = self.steps.get(here)
            if step is None or step.answer_to(there) is None:
                return False
        return True


def _text(raw: Mapping[str, Any], key: str, where: str, *, required: bool = True) -> str:
    value = raw.get(key, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise PathError(f"{where} : « {key} » doit être un texte.")
    value = " ".join(value.split())
    if required and not value:
        raise PathError(f"{where} : « {key} » manque.")
    return value


def _identifier(value: Any, where: str) -> str:
    if not isinstance(value, str) or not IDENTIFIER.match(value):
        raise PathError(f"{where} : identifiant invalide {value!r} (minuscules, chiffres, tirets).")
    return value


def parse(raw: Any, slug: str) -> Symptom:
    """Build and validate one symptom from the YAML document of ``<slug>.yaml``."""
    name = f"{slug}.yaml"
    if not IDENTIFIER.match(slug):
        raise PathError(f"{name} : nom de fichier invalide (minuscules, chiffres, tirets).")
    if not isinstance(raw, dict):
        raise PathError(f"{name} : le fichier doit décrire un symptôme (un dictionnaire).")
    title = _text(raw, "title", name)
    order = raw.get("order", 100)
    if not isinstance(order, int):
        raise PathError(f"{name} : « order » doit être un nombre entier.")

    endings: dict[str, Ending] = {}
    raw_endings = raw.get("endings")
    if not isinstance(raw_endings, dict) or not raw_endings:
        raise PathError(f"{name} : « endings » doit lister au moins une fin de parcours.")
    for key, value in raw_endings.items():
        ending_id = _identifier(key, f"{name}, fin")
        where = f"{name}, fin « {ending_id} »"
        if not isinstance(value, dict):
            raise PathError(f"{where} : doit être un dictionnaire.")
        kind = value.get("kind")
        if kind not in ENDING_KINDS:
            raise PathError(f"{where} : « kind » doit être l'un de {', '.join(ENDING_KINDS)}.")
        url = _text(value, "url", where, required=kind != "contact")
        if url and not url.startswith("/"):
            raise PathError(f"{where} : « url » doit être un chemin du portail (/…).")
        if kind == "guide" and not GUIDE_URL.match(url):
            raise PathError(f"{where} : un guide se lie par /aide/guides/<slug>/.")
        endings[ending_id] = Ending(
            id=ending_id,
            kind=str(kind),
            title=_text(value, "title", where),
            text=_text(value, "text", where, required=False),
            url=url,
        )

    steps: dict[str, Step] = {}
    raw_steps = raw.get("steps")
    if not isinstance(raw_steps, dict) or not raw_steps:
        raise PathError(f"{name} : « steps » doit lister au moins une étape.")
    for key, value in raw_steps.items():
        step_id = _identifier(key, f"{name}, étape")
        where = f"{name}, étape « {step_id} »"
        if step_id in endings:
            raise PathError(f"{where} : porte le même identifiant qu'une fin de parcours.")
        if not isinstance(value, dict):
            raise PathError(f"{where} : doit être un dictionnaire.")
        raw_answers = value.get("answers")
        if not isinstance(raw_answers, list) or not raw_answers:
            raise PathError(f"{where} : « answers » doit lister au moins une réponse.")
        answers: list[Answer] = []
        for index, raw_answer in enumerate(raw_answers, start=1):
            answer_where = f"{where}, réponse {index}"
            if not isinstance(raw_answer, dict):
                raise PathError(f"{answer_where} : doit être un dictionnaire.")
            has_next, has_end = "next" in raw_answer, "end" in raw_answer
            if has_next == has_end:
                raise PathError(f"{answer_where} : indiquer soit « next », soit « end ».")
            target = _identifier(raw_answer["next" if has_next else "end"], answer_where)
            if has_end and target not in endings:
                raise PathError(f"{answer_where} : la fin « {target} » n'existe pas.")
            if has_next and target not in raw_steps:
                raise PathError(f"{answer_where} : l'étape « {target} » n'existe pas.")
            if any(answer.target == target for answer in answers):
                raise PathError(f"{answer_where} : deux réponses mènent à « {target} ».")
            answers.append(Answer(label=_text(raw_answer, "label", answer_where), target=target))
        steps[step_id] = Step(
            id=step_id,
            question=_text(value, "question", where),
            hint=_text(value, "hint", where, required=False),
            answers=tuple(answers),
        )

    raw_start = raw.get("start")
    if not isinstance(raw_start, dict):
        raise PathError(f"{name} : « start » doit donner la première étape de chaque profil.")
    start: dict[str, str] = {}
    for profile in PROFILES:
        first = raw_start.get(profile)
        if first not in steps:
            raise PathError(
                f"{name} : « start » ne mène pas le profil « {profile} » à une étape existante."
            )
        start[profile] = str(first)
    unknown = set(raw_start) - set(PROFILES)
    if unknown:
        raise PathError(
            f"{name} : « start » nomme un profil inconnu : {', '.join(sorted(unknown))}."
        )

    _check_walks(name, start, steps, endings)
    return Symptom(slug=slug, title=title, order=order, start=start, steps=steps, endings=endings)


def _check_walks(
    name: str, start: Mapping[str, str], steps: Mapping[str, Step], endings: Mapping[str, Ending]
) -> None:
    """No cycle (so every walk ends on an ending), and nothing written that no one reaches."""
    done: set[str] = set()

    def visit(step_id: str, trail: list[str]) -> None:
        if step_id in trail:
            loop = " → ".join([*trail[trail.index(step_id) :], step_id])
            raise PathError(f"{name} : le parcours tourne en rond ({loop}).")
        if step_id in done:
            return
        for answer in steps[step_id].answers:
            if answer.target in steps:
                visit(answer.target, [*trail, step_id])
        done.add(step_id)

    for first in start.values():
        visit(first, [])
    unreached = sorted(set(steps) - done)
    if unreached:
        raise PathError(f"{name} : étape(s) jamais atteinte(s) : {', '.join(unreached)}.")
    used = {answer.target for step in steps.values() for answer in step.answers}
    unused = sorted(set(endings) - used)
    if unused:
        raise PathError(f"{name} : fin(s) jamais atteinte(s) : {', '.join(unused)}.")


def load_file(path: Path) -> Symptom:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise PathError(f"{path.name} : illisible ({error}).") from error
    return parse(raw, path.stem)


def _files(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.yaml"))


@functools.cache
def _load_all(directory: Path) -> tuple[Symptom, ...]:
    symptoms = sorted((load_file(path) for path in _files(directory)), key=lambda s: s.order)
    return tuple(symptoms)


def symptoms(directory: Path | None = None) -> tuple[Symptom, ...]:
    """Every symptom, in their ``order``; raises ``PathError`` on a broken file (the system
    check reports it at start, so a running portal never meets one)."""
    return _load_all(directory or PATHS_DIR)


def symptom(slug: str) -> Symptom | None:
    return next((item for item in symptoms() if item.slug == slug), None)


def errors_in(directory: Path) -> list[str]:
    """Every broken file of ``directory``, one message each (empty when all are sound)."""
    messages = []
    files = _files(directory)
    if not files:
        messages.append(f"{directory} : aucun parcours (*.yaml).")
    for path in files:
        try:
            load_file(path)
        except PathError as error:
            messages.append(str(error))
    return messages


def check_paths(
    app_configs: Iterable[Any] | None = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """System check: the troubleshooter's paths can all be followed to an end."""
    return [
        checks.Error(
            f"Parcours de dépannage invalide — {message}",
            hint="Corrigez le fichier dans convergence/help/paths/.",
            id=CHECK_ID,
        )
        for message in errors_in(PATHS_DIR)
    ]


def register() -> None:
    """Called once from ``HelpConfig.ready()``."""
    checks.register(check_paths, "help")
