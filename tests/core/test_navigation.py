"""The main menu marks the page a person is on, whatever app serves it."""

from __future__ import annotations

import pytest

from tests.helpers import client_of


@pytest.mark.parametrize(
    ("path", "href"),
    [("/", "/"), ("/compte/", "/compte/"), ("/aide/erreurs/", "/aide/erreurs/")],
)
def test_the_menu_marks_the_current_page(pupil, path: str, href: str) -> None:
    page = client_of(pupil).get(path).content.decode()
    assert f'href="{href}" aria-current="page"' in page
    assert page.count('aria-current="page"') == 1
