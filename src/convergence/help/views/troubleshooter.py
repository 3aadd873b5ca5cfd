"""The troubleshooter's pages: choose a symptom, say who you are, answer one question per step.

Every step is a plain GET (a link or a form), the path so far kept in the query string
(``?profil=…&etapes=a.b``), so it works without JavaScript; htmx swaps the step in place and
the response names the step's own address (``HX-Push-Url``). A step id that does not exist
answers 404; a query string that is not a walk of the path goes back to the symptom's start.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.models import AnonymousUser
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django_htmx.http import push_url

from convergence.accounts.models import Profile, User
from convergence.help import guides, troubleshooter
from convergence.help.troubleshooter import Symptom

TRAIL_SEPARATOR = "."
# Longer than any path written; a longer trail is forged.
MAX_TRAIL = 20


def profile_of(user: User | AnonymousUser) -> str | None:
    """The signed-in person's profile from this year's roles (``guides.profiles_of``); None
    when unknown or several."""
    profiles = guides.profiles_of(user)
    return next(iter(profiles)) if len(profiles) == 1 else None


def _asked_profile(request: HttpRequest) -> str | None:
    """``?profil=`` when valid; without it, the signed-in person's own profile."""
    if "profil" in request.GET:
        value = request.GET["profil"]
        return value if value in troubleshooter.PROFILES else None
    return profile_of(request.user)


def _is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _symptom_or_404(slug: str) -> Symptom:
    found = troubleshooter.symptom(slug)
    if found is None:
        raise Http404("Symptôme inconnu.")
    return found


def _step_url(symptom: Symptom, node: str, profile: str, trail: list[str]) -> str:
    query = {"profil": profile}
    if trail:
        query["etapes"] = TRAIL_SEPARATOR.join(trail)
    path = reverse("help:troubleshooter_step", args=[symptom.slug, node])
    return f"{path}?{urlencode(query)}"


def _symptom_url(symptom: Symptom, profile: str | None = None) -> str:
    path = reverse("help:troubleshooter_symptom", args=[symptom.slug])
    return f"{path}?{urlencode({'profil': profile})}" if profile else path


def _contacts_url(profile: str) -> str:
    """The support's contacts for ``profile``, each with whether it is open right now."""
    try:
        return f"{reverse('support:contacts')}?{urlencode({'profil': profile})}"
    except NoReverseMatch:
        return ""


def _profile_choices() -> list[tuple[str, str]]:
    return [(value, str(label)) for value, label in Profile.choices]


def troubleshooter_start(request: HttpRequest) -> HttpResponse:
    """The four symptoms."""
    profile = _asked_profile(request)
    items = [
        {"symptom": item, "url": _symptom_url(item, profile)} for item in troubleshooter.symptoms()
    ]
    return render(request, "help/troubleshooter.html", {"items": items})


def troubleshooter_symptom(request: HttpRequest, symptom: str) -> HttpResponse:
    """Ask who the person is (unless known), then go to the first step for that profile."""
    found = _symptom_or_404(symptom)
    profile = _asked_profile(request)
    if profile is None:
        context = {
            "symptom": found,
            "profiles": _profile_choices(),
            "error": "repondre" in request.GET or bool(request.GET.get("profil")),
            "action": reverse("help:troubleshooter_symptom", args=[found.slug]),
            "start_url": reverse("help:troubleshooter"),
        }
        if _is_htmx(request):
            return render(request, "help/_troubleshooter_profile.html", context)
        return render(request, "help/troubleshooter_profile.html", context)
    return _show(request, found, profile, [], found.start[profile], moved=True)


def troubleshooter_step(request: HttpRequest, symptom: str, step: str) -> HttpResponse:
    """One question (or the ending reached); ``?reponse=`` answers it and moves on."""
    found = _symptom_or_404(symptom)
    if step not in found.steps and step not in found.endings:
        raise Http404("Étape inconnue.")
    profile = _asked_profile(request)
    raw_trail = request.GET.get("etapes", "")
    trail = [part for part in raw_trail.split(TRAIL_SEPARATOR) if part] if raw_trail else []
    if profile is None or len(trail) > MAX_TRAIL or not found.follows(profile, trail, step):
        return HttpResponseRedirect(_symptom_url(found, profile))
    if "reponse" not in request.GET and "repondre" not in request.GET:
        return _show(request, found, profile, trail, step)
    current = found.steps.get(step)
    if current is None:  # an ending has nothing to answer
        return HttpResponseRedirect(_step_url(found, step, profile, trail))
    answer = current.answer_to(request.GET.get("reponse", ""))
    if answer is None:
        return _show(request, found, profile, trail, step, missing_answer=True)
    return _show(request, found, profile, [*trail, step], answer.target, moved=True)


def _show(
    request: HttpRequest,
    symptom: Symptom,
    profile: str,
    trail: list[str],
    node: str,
    *,
    moved: bool = False,
    missing_answer: bool = False,
) -> HttpResponse:
    """Render ``node``; a move lands on the step's own address (redirect, or HX-Push-Url)."""
    url = _step_url(symptom, node, profile, trail)
    if moved and not _is_htmx(request):
        return HttpResponseRedirect(url)
    previous_url = _step_url(symptom, trail[-1], profile, trail[:-1]) if trail else ""
    context = {
        "symptom": symptom,
        "profile_label": dict(_profile_choices())[profile],
        "step": symptom.steps.get(node),
        "ending": symptom.endings.get(node),
        "action": reverse("help:troubleshooter_step", args=[symptom.slug, node]),
        "profile": profile,
        "trail": TRAIL_SEPARATOR.join(trail),
        "previous_url": previous_url,
        "restart_url": f"{reverse('help:troubleshooter')}?{urlencode({'profil': profile})}",
        "change_profile_url": f"{_symptom_url(symptom)}?profil=",
        "contacts_url": _contacts_url(profile),
        "missing_answer": missing_answer,
        "focus": bool(_is_htmx(request)),
    }
    if _is_htmx(request):
        response = render(request, "help/_troubleshooter_step.html", context)
        return push_url(response, url) if moved else response
    return render(request, "help/troubleshooter_step.html", context)
