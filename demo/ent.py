"""Demo "ENT": a service that signs people in with CAS 3.0 against the portal.

Flow: ``/connexion`` sends the browser to the portal's ``/cas/login?service=…``; the portal
comes back to the service URL with ``?ticket=ST-…``, which python-cas validates at
``/cas/p3/serviceValidate`` (the attributes say who the person is). Single logout: the portal
POSTs a SAML ``LogoutRequest`` to the service URL; its ``SessionIndex`` is the ticket that
opened the session, which ends here.

    python -m demo.ent --port 8001 --portal http://127.0.0.1:8000
"""

from __future__ import annotations

import argparse
import logging
import secrets
import xml.etree.ElementTree as ElementTree
from http import HTTPStatus
from typing import Any

import requests
from cas import CASClient, CASClientV3

from demo.web import (
    HTTP_TIMEOUT_SECONDS,
    DemoApp,
    Request,
    Response,
    SessionStore,
    TimeoutSession,
    as_list,
    check_csrf,
    logout_form,
    person_details,
    redirect,
    serve,
    signed_out_body,
)

logger = logging.getLogger(__name__)

COOKIE_NAME = "demo_ent_session"
DEFAULT_PORT = 8001


class EntApp(DemoApp):
    service_name = "ENT Éclat-BFC (démonstration)"

    def __init__(
        self, *, base_url: str, portal_url: str, timeout: float = HTTP_TIMEOUT_SECONDS
    ) -> None:
        self.service_url = base_url.rstrip("/") + "/"
        self.portal_url = portal_url.rstrip("/")
        self.sessions = SessionStore(COOKIE_NAME)
        self.cas: Any = CASClient(
            version=3,
            service_url=self.service_url,
            server_url=f"{self.portal_url}/cas/",
            session=TimeoutSession(timeout),
        )

    def close(self) -> None:
        self.cas.session.close()

    def handle(self, request: Request) -> Response:
        if request.method == "POST" and "logoutRequest" in request.form:
            return self.single_logout(request.form["logoutRequest"])
        if request.path == "/" and request.method == "GET":
            if "ticket" in request.query:
                return self.validate(request.query["ticket"])
            return self.home(request)
        if request.path == "/connexion" and request.method == "GET":
            if self.signed_in(request):
                return redirect("/")
            return redirect(self.cas.get_login_url())
        if request.path == "/deconnexion" and request.method == "POST":
            return self.logout(request)
        return self.not_found()

    def signed_in(self, request: Request) -> bool:
        session = self.sessions.get(request)
        return session is not None and "login" in session.data

    def home(self, request: Request) -> Response:
        session = self.sessions.get(request)
        if session is None or "login" not in session.data:
            return self.html("Accueil", signed_out_body())
        data = session.data
        attributes: dict[str, Any] = data["attributes"]
        full_name = " ".join(as_list(attributes.get("givenName")) + as_list(attributes.get("sn")))
        body = person_details(
            name=_attribute(attributes, "displayName", "name") or full_name or data["login"],
            login=_attribute(attributes, "uid", "preferred_username") or data["login"],
            profiles=as_list(attributes.get("profile")),
            uais=as_list(attributes.get("uai") or attributes.get("establishments")),
        ) + logout_form(data["csrf"])
        return self.html("Accueil", body)

    def validate(self, ticket: str) -> Response:
        """Check the service ticket with the portal; a new session on success."""
        try:
            login, attributes, _pgt_iou = self.cas.verify_ticket(ticket)
        except (requests.RequestException, ElementTree.ParseError) as error:
            logger.warning("CAS validation failed: %s", type(error).__name__)
            return self.error(HTTPStatus.BAD_GATEWAY, "Le portail n'a pas pu valider la connexion.")
        if not login:
            return self.error(
                HTTPStatus.FORBIDDEN,
                "Le portail n'a pas validé ce ticket de connexion (déjà utilisé ou expiré).",
            )
        # The ticket is the session's name at the portal: single logout quotes it.
        session = self.sessions.create(
            login=str(login),
            attributes=dict(attributes or {}),
            ticket=ticket,
            csrf=secrets.token_urlsafe(16),
        )
        return redirect("/", self.sessions.set_cookie(session))

    def single_logout(self, logout_request: str) -> Response:
        indexes = CASClientV3.get_saml_slos(logout_request.encode())
        if not indexes or not (indexes[0].text or "").strip():
            return Response(HTTPStatus.BAD_REQUEST, b"", content_type="text/plain")
        ended = self.sessions.delete_where("ticket", indexes[0].text.strip())
        logger.info("CAS single logout: %d session(s) ended", ended)
        return Response(HTTPStatus.OK, b"", content_type="text/plain")

    def logout(self, request: Request) -> Response:
        """End the local session, then the portal's (which tells every other service)."""
        session = self.sessions.get(request)
        if session is None or not check_csrf(session, request):
            return redirect("/")
        self.sessions.delete(session)
        return redirect(self.cas.get_logout_url(self.service_url), self.sessions.clear_cookie())


def _attribute(attributes: dict[str, Any], *names: str) -> str:
    """The first of ``names`` the portal released (CAS servers name attributes variously)."""
    for name in names:
        values = as_list(attributes.get(name))
        if values:
            return values[0]
    return ""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="ENT de démonstration (CAS 3.0).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--portal", default="http://127.0.0.1:8000")
    parser.add_argument("--timeout", type=float, default=HTTP_TIMEOUT_SECONDS)
    args = parser.parse_args(argv)
    app = EntApp(
        base_url=f"http://{args.host}:{args.port}",
        portal_url=args.portal,
        timeout=args.timeout,
    )
    serve(app, args.host, args.port)


if __name__ == "__main__":
    main()
