"""A person's browser against the production shape, over real HTTP (``requests``)."""

from __future__ import annotations

import re
from typing import Any

import requests

TIMEOUT = 15
_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class Visitor:
    """One browser: its own cookies (session, CSRF, device), any base URL of the shape."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.http = requests.Session()

    def get(self, path: str, *, base: str | None = None, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", TIMEOUT)
        kwargs.setdefault("allow_redirects", False)
        return self.http.get((base or self.base) + path, **kwargs)

    def post(
        self, path: str, data: dict[str, str], *, base: str | None = None, **kwargs: Any
    ) -> requests.Response:
        kwargs.setdefault("timeout", TIMEOUT)
        kwargs.setdefault("allow_redirects", False)
        return self.http.post((base or self.base) + path, data=data, **kwargs)

    def form_token(self, path: str, *, base: str | None = None) -> str:
        page = self.get(path, base=base)
        assert page.status_code == 200, (path, page.status_code)
        found = _CSRF.search(page.text)
        assert found is not None, f"no CSRF token on {path}"
        return found.group(1)

    def sign_in(
        self,
        login: str,
        password: str,
        *,
        base: str | None = None,
        post_base: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> requests.Response:
        """Fill the sign-in form (fetched from ``base``, posted to ``post_base``)."""
        token = self.form_token("/connexion/", base=base)
        return self.post(
            "/connexion/",
            {"csrfmiddlewaretoken": token, "login": login, "password": password},
            base=post_base or base,
            headers=headers,
        )

    def enter_code(self, code: str, *, base: str | None = None) -> requests.Response:
        path = "/compte/securite/authenticate/"
        token = self.form_token(path, base=base)
        return self.post(path, {"csrfmiddlewaretoken": token, "code": code}, base=base)


def signed_in(response: requests.Response) -> bool:
    """The sign-in answered with the way to the dashboard."""
    return response.status_code == 302 and response.headers.get("Location") == "/"
