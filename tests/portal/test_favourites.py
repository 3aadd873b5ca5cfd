"""Favourites: pin, unpin, move and reorder, by POST only, each person their own."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from convergence.portal import actions
from convergence.portal.models import Favourite, Service

HTMX = {"HTTP_HX_REQUEST": "true"}


def pin_url(slug):
    return f"/favoris/{slug}/epingler/"


def unpin_url(slug):
    return f"/favoris/{slug}/retirer/"


def move_url(slug):
    return f"/favoris/{slug}/deplacer/"


REORDER_URL = "/favoris/ordre/"


def pinned(user) -> list[str]:
    return list(
        Favourite.objects.filter(user=user)
        .order_by("position", "pk")
        .values_list("service__slug", flat=True)
    )


def positions(user) -> list[int]:
    return list(
        Favourite.objects.filter(user=user).order_by("position").values_list("position", flat=True)
    )


@pytest.fixture
def signed_in_pupil(client, pupil):
    client.force_login(pupil)
    return pupil


@pytest.fixture
def three_pinned(client, signed_in_pupil):
    for slug in ("ent", "educonnect", "messagerie"):
        client.post(pin_url(slug))
    assert pinned(signed_in_pupil) == ["ent", "educonnect", "messagerie"]
    return signed_in_pupil


def test_pin_adds_the_service_to_the_favourites(client, signed_in_pupil):
    response = client.post(pin_url("ent"))
    assert response.status_code == 302
    assert response.url == "/"
    assert pinned(signed_in_pupil) == ["ent"]


def test_pinned_service_appears_in_the_favourites_of_the_dashboard(client, signed_in_pupil):
    client.post(pin_url("ent"))
    response = client.get("/")
    assert [f.service.slug for f in response.context["favourites"]] == ["ent"]
    assert 'data-slug="ent"' in response.content.decode()


def test_pin_appends_at_the_end(client, signed_in_pupil):
    client.post(pin_url("ent"))
    client.post(pin_url("messagerie"))
    assert pinned(signed_in_pupil) == ["ent", "messagerie"]
    assert positions(signed_in_pupil) == [1, 2]


def test_pin_is_idempotent(client, signed_in_pupil):
    client.post(pin_url("ent"))
    response = client.post(pin_url("ent"))
    assert response.status_code == 302
    assert pinned(signed_in_pupil) == ["ent"]


def test_pin_of_a_service_not_visible_to_the_user_is_404(client, signed_in_pupil):
    response = client.post(pin_url("arena"))
    assert response.status_code == 404
    assert pinned(signed_in_pupil) == []


def test_pin_of_an_unpublished_service_is_404(client, signed_in_pupil):
    Service.objects.filter(slug="ent").update(is_published=False)
    assert client.post(pin_url("ent")).status_code == 404
    assert pinned(signed_in_pupil) == []


def test_pin_of_an_unknown_service_is_404(client, signed_in_pupil):
    assert client.post(pin_url("n-existe-pas")).status_code == 404


def test_unpin_removes_the_favourite(client, three_pinned):
    response = client.post(unpin_url("educonnect"))
    assert response.status_code == 302
    assert pinned(three_pinned) == ["ent", "messagerie"]


def test_unpin_of_a_service_not_pinned_changes_nothing(client, three_pinned):
    assert client.post(unpin_url("vie-scolaire")).status_code == 302
    assert pinned(three_pinned) == ["ent", "educonnect", "messagerie"]


def test_move_up(client, three_pinned):
    client.post(move_url("messagerie"), {"direction": "up"})
    assert pinned(three_pinned) == ["ent", "messagerie", "educonnect"]
    assert positions(three_pinned) == [1, 2, 3]


def test_move_down(client, three_pinned):
    client.post(move_url("ent"), {"direction": "down"})
    assert pinned(three_pinned) == ["educonnect", "ent", "messagerie"]
    assert positions(three_pinned) == [1, 2, 3]


def test_move_up_of_the_first_favourite_changes_nothing(client, three_pinned):
    client.post(move_url("ent"), {"direction": "up"})
    assert pinned(three_pinned) == ["ent", "educonnect", "messagerie"]
    assert positions(three_pinned) == [1, 2, 3]


def test_move_down_of_the_last_favourite_changes_nothing(client, three_pinned):
    client.post(move_url("messagerie"), {"direction": "down"})
    assert pinned(three_pinned) == ["ent", "educonnect", "messagerie"]


def test_move_after_an_unpin_makes_positions_dense_again(client, three_pinned):
    client.post(unpin_url("educonnect"))
    client.post(move_url("messagerie"), {"direction": "up"})
    assert pinned(three_pinned) == ["messagerie", "ent"]
    assert positions(three_pinned) == [1, 2]


def test_move_of_a_service_not_pinned_changes_nothing(client, three_pinned):
    assert client.post(move_url("vie-scolaire"), {"direction": "up"}).status_code == 302
    assert pinned(three_pinned) == ["ent", "educonnect", "messagerie"]


def test_reorder_puts_favourites_in_the_given_order(client, three_pinned):
    response = client.post(REORDER_URL, {"order": ["messagerie", "ent", "educonnect"]})
    assert response.status_code == 302
    assert pinned(three_pinned) == ["messagerie", "ent", "educonnect"]
    assert positions(three_pinned) == [1, 2, 3]


def test_reorder_keeps_favourites_left_out_after_the_given_ones(client, three_pinned):
    client.post(REORDER_URL, {"order": ["messagerie"]})
    assert pinned(three_pinned) == ["messagerie", "ent", "educonnect"]


def test_reorder_ignores_unknown_and_unpinned_slugs(client, three_pinned):
    client.post(REORDER_URL, {"order": ["inconnu", "arena", "educonnect", "ent", "messagerie"]})
    assert pinned(three_pinned) == ["educonnect", "ent", "messagerie"]
    assert positions(three_pinned) == [1, 2, 3]


def test_favourites_are_personal(client, three_pinned, parent):
    actions.pin_service(acting_user=parent, service=Service.objects.get(slug="ent"))
    actions.pin_service(acting_user=parent, service=Service.objects.get(slug="educonnect"))
    client.post(unpin_url("ent"))
    client.post(REORDER_URL, {"order": ["educonnect"]})
    assert pinned(parent) == ["ent", "educonnect"]
    assert positions(parent) == [1, 2]


def test_favourite_that_is_no_longer_visible_leaves_the_dashboard(client, three_pinned):
    Service.objects.filter(slug="educonnect").update(is_published=False)
    response = client.get("/")
    assert [f.service.slug for f in response.context["favourites"]] == ["ent", "messagerie"]


@pytest.mark.parametrize("url", [pin_url("ent"), unpin_url("ent"), move_url("ent"), REORDER_URL])
def test_favourite_endpoints_refuse_get(client, signed_in_pupil, url):
    assert client.get(url).status_code == 405
    assert pinned(signed_in_pupil) == []


@pytest.mark.parametrize("url", [pin_url("ent"), unpin_url("ent"), move_url("ent"), REORDER_URL])
def test_favourite_endpoints_send_anonymous_visitors_to_sign_in(client, demo, url):
    response = client.post(url)
    assert response.status_code == 302
    assert response.url.startswith("/connexion/")


def test_pin_without_csrf_token_is_refused(pupil):
    client = Client(enforce_csrf_checks=True)
    client.force_login(pupil)
    response = client.post(pin_url("ent"))
    assert response.status_code == 403
    assert "CONV-403-CSRF" in response.content.decode()
    assert pinned(pupil) == []


def test_reorder_without_csrf_token_is_refused(pupil):
    actions.pin_service(acting_user=pupil, service=Service.objects.get(slug="ent"))
    actions.pin_service(acting_user=pupil, service=Service.objects.get(slug="messagerie"))
    client = Client(enforce_csrf_checks=True)
    client.force_login(pupil)
    response = client.post(REORDER_URL, {"order": ["messagerie", "ent"]})
    assert response.status_code == 403
    assert pinned(pupil) == ["ent", "messagerie"]


def test_pin_with_the_csrf_token_of_the_page_is_accepted(pupil):
    client = Client(enforce_csrf_checks=True)
    client.force_login(pupil)
    client.get("/")
    token = client.cookies[settings.CSRF_COOKIE_NAME].value
    response = client.post(pin_url("ent"), HTTP_X_CSRFTOKEN=token, **HTMX)
    assert response.status_code == 200
    assert pinned(pupil) == ["ent"]


@pytest.mark.parametrize(
    ("url", "data"),
    [
        (pin_url("vie-scolaire"), {}),
        (unpin_url("ent"), {}),
        (move_url("messagerie"), {"direction": "up"}),
        (REORDER_URL, {"order": ["messagerie", "ent"]}),
    ],
)
def test_htmx_request_returns_the_favourites_and_catalogue_partial(client, three_pinned, url, data):
    response = client.post(url, data, **HTMX)
    assert response.status_code == 200
    content = response.content.decode()
    assert content.lstrip().startswith('<div id="favoris-et-catalogue">')
    assert "<html" not in content
    assert 'id="catalogue"' in content


def test_htmx_partial_shows_the_new_order(client, three_pinned):
    response = client.post(move_url("messagerie"), {"direction": "up"}, **HTMX)
    slugs = [f.service.slug for f in response.context["favourites"]]
    assert slugs == ["ent", "messagerie", "educonnect"]


def test_htmx_partial_keeps_the_current_search(client, three_pinned):
    response = client.post(pin_url("vie-scolaire"), {"q": "Vie scolaire"}, **HTMX)
    assert [s.slug for s in response.context["services"]] == ["vie-scolaire"]
