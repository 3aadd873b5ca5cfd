"""What the two demo services share: a threaded WSGI server, in-memory sessions behind a
cookie, small French HTML pages and an HTTP client that never waits forever.

Standard library only (wsgiref), so each service reads as a plain example of its protocol.
"""

from __future__ import annotations

import html
import logging
import secrets
import socketserver
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

import requests

logger = logging.getLogger(__name__)

# Every call to the portal gives up after this many seconds (connect and read).
HTTP_TIMEOUT_SECONDS = 5.0
# A demo session lives at most this long; the portal's own session is shorter.
SESSION_SECONDS = 12 * 3600
MAX_BODY_BYTES = 64 * 1024

StartResponse = Callable[[str, list[tuple[str, str]]], Any]


class TimeoutSession(requests.Session):
    """A requests session whose every call has a timeout unless the caller gives one."""

    def __init__(self, timeout: float = HTTP_TIMEOUT_SECONDS) -> None:
        super().__init__()
        self.timeout = timeout

    def request(
        self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any
    ) -> requests.Response:
        kwargs.setdefault("timeout", self.timeout)
        return super().request(method, url, *args, **kwargs)


# --- requests and responses -------------------------------------------------------------


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    cookies: dict[str, str]
    url: str

    @classmethod
    def from_environ(cls, environ: dict[str, Any]) -> Request:
        method = str(environ.get("REQUEST_METHOD", "GET")).upper()
        query_string = str(environ.get("QUERY_STRING", ""))
        form: dict[str, str] = {}
        content_type = str(environ.get("CONTENT_TYPE", ""))
        if method == "POST" and content_type.startswith("application/x-www-form-urlencoded"):
            try:
                length = int(environ.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            body = environ["wsgi.input"].read(min(max(length, 0), MAX_BODY_BYTES))
            form = _first_values(body.decode("utf-8", errors="replace"))
        cookies: dict[str, str] = {}
        try:
            jar = SimpleCookie(str(environ.get("HTTP_COOKIE", "")))
            cookies = {name: morsel.value for name, morsel in jar.items()}
        except CookieError:
            cookies = {}
        host = str(environ.get("HTTP_HOST") or environ.get("SERVER_NAME", ""))
        path = str(environ.get("PATH_INFO", "/")) or "/"
        url = f"{environ.get('wsgi.url_scheme', 'http')}://{host}{path}"
        if query_string:
            url = f"{url}?{query_string}"
        return cls(
            method=method,
            path=path,
            query=_first_values(query_string),
            form=form,
            cookies=cookies,
            url=url,
        )


def _first_values(encoded: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(encoded, keep_blank_values=True).items()}


@dataclass
class Response:
    status: HTTPStatus
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    headers: list[tuple[str, str]] = field(default_factory=list)


def redirect(location: str, *headers: tuple[str, str]) -> Response:
    return Response(HTTPStatus.FOUND, headers=[("Location", location), *headers])


# --- sessions ----------------------------------------------------------------------------


@dataclass
class Session:
    key: str
    created: float
    data: dict[str, Any] = field(default_factory=dict)


class SessionStore:
    """Sessions in memory, found by a random cookie. One lock: the server is threaded.

    The cookie name must differ per service: browsers do not separate cookies by port, so
    every service on 127.0.0.1 (the portal included) sees every other one's cookies.
    """

    def __init__(self, cookie_name: str) -> None:
        self.cookie_name = cookie_name
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def get(self, request: Request) -> Session | None:
        key = request.cookies.get(self.cookie_name, "")
        with self._lock:
            session = self._sessions.get(key)
            if session is not None and time.time() - session.created > SESSION_SECONDS:
                del self._sessions[key]
                return None
            return session

    def create(self, **data: Any) -> Session:
        session = Session(key=secrets.token_urlsafe(32), created=time.time(), data=dict(data))
        with self._lock:
            now = time.time()
            for key in [k for k, s in self._sessions.items() if now - s.created > SESSION_SECONDS]:
                del self._sessions[key]
            self._sessions[session.key] = session
        return session

    def delete(self, session: Session) -> None:
        with self._lock:
            self._sessions.pop(session.key, None)

    def find(self, name: str, value: object) -> list[Session]:
        """The sessions whose ``data[name]`` equals ``value``."""
        with self._lock:
            return [s for s in self._sessions.values() if s.data.get(name) == value]

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._sessions

    def delete_where(self, name: str, value: object) -> int:
        """End every session whose ``data[name]`` equals ``value``; returns how many."""
        with self._lock:
            keys = [key for key, s in self._sessions.items() if s.data.get(name) == value]
            for key in keys:
                del self._sessions[key]
        return len(keys)

    def set_cookie(self, session: Session) -> tuple[str, str]:
        return (
            "Set-Cookie",
            f"{self.cookie_name}={session.key}; Path=/; HttpOnly; SameSite=Lax",
        )

    def clear_cookie(self) -> tuple[str, str]:
        return ("Set-Cookie", f"{self.cookie_name}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0")


# --- pages -------------------------------------------------------------------------------

STYLE = """
body{font-family:system-ui,sans-serif;margin:0;color:#161616;background:#f6f6f6}
header{background:#000091;color:#fff;padding:1rem 2rem}
header p{margin:0}.service{font-size:1.5rem;font-weight:700}
main{max-width:44rem;margin:2rem auto;padding:2rem;background:#fff}
dt{font-weight:700;margin-top:.75rem}dd{margin:0}
.button{display:inline-block;border:0;background:#000091;color:#fff;padding:.5rem 1rem;
font-size:1rem;text-decoration:none;cursor:pointer}
.error{border-left:4px solid #ce0500;padding-left:1rem}
"""


def escape(value: object) -> str:
    return html.escape(str(value), quote=True)


def page(*, service: str, title: str, body: str) -> bytes:
    """A complete French page; ``body`` is already-escaped HTML."""
    return (
        "<!doctype html>\n"
        '<html lang="fr"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="icon" href="data:,">'  # no icon: browsers stop asking for /favicon.ico
        f"<title>{escape(title)} — {escape(service)}</title><style>{STYLE}</style></head>"
        f'<body><header><p class="service">{escape(service)}</p>'
        "<p>Service de démonstration de Convergence</p></header>"
        f"<main><h1>{escape(title)}</h1>{body}</main></body></html>\n"
    ).encode()


def person_details(*, name: str, login: str, profiles: Iterable[str], uais: Iterable[str]) -> str:
    rows = [
        ("Identifiant", login),
        ("Profils", ", ".join(profiles) or "—"),
        ("Établissements (UAI)", ", ".join(uais) or "—"),
    ]
    details = "".join(f"<dt>{escape(term)}</dt><dd>{escape(value)}</dd>" for term, value in rows)
    return (
        f"<p>Vous êtes connecté·e en tant que <strong>{escape(name)}</strong>.</p>"
        f"<dl>{details}</dl>"
    )


def logout_form(csrf_token: str) -> str:
    return (
        '<form method="post" action="/deconnexion">'
        f'<input type="hidden" name="csrf" value="{escape(csrf_token)}">'
        '<button type="submit" class="button">Se déconnecter</button></form>'
    )


def signed_out_body() -> str:
    return (
        "<p>Vous n'êtes pas connecté·e.</p>"
        '<p><a class="button" href="/connexion">Se connecter avec le portail</a></p>'
    )


def error_body(message: str) -> str:
    return (
        f'<p class="error">{escape(message)}</p>'
        '<p><a class="button" href="/">Retour à l\'accueil</a></p>'
    )


def as_list(value: object) -> list[str]:
    """A claim or attribute that may be absent, one value or several."""
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [str(item) for item in value if item is not None]
    return [str(value)]


# --- the application and its server -------------------------------------------------------


class DemoApp:
    """A WSGI application: subclasses answer :meth:`handle`; errors become a French page."""

    service_name = "Service de démonstration"

    def handle(self, request: Request) -> Response:
        raise NotImplementedError

    def close(self) -> None:
        """Release the connections kept open to the portal."""

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterator[bytes]:
        try:
            response = self.handle(Request.from_environ(environ))
        except Exception:
            logger.exception("%s: unexpected error", self.service_name)
            response = self.error(HTTPStatus.INTERNAL_SERVER_ERROR, "Une erreur inattendue.")
        headers = [
            ("Content-Type", response.content_type),
            ("Content-Length", str(len(response.body))),
            ("Cache-Control", "no-store"),
            ("X-Content-Type-Options", "nosniff"),
            ("X-Frame-Options", "DENY"),
            ("Referrer-Policy", "no-referrer"),
            *response.headers,
        ]
        start_response(f"{response.status.value} {response.status.phrase}", headers)
        return iter([response.body])

    def html(self, title: str, body: str, *headers: tuple[str, str]) -> Response:
        return Response(
            HTTPStatus.OK,
            page(service=self.service_name, title=title, body=body),
            headers=[*headers],
        )

    def error(self, status: HTTPStatus, message: str) -> Response:
        body = page(
            service=self.service_name, title="Connexion impossible", body=error_body(message)
        )
        return Response(status, body)

    def not_found(self) -> Response:
        body = page(service=self.service_name, title="Page introuvable", body=error_body(""))
        return Response(HTTPStatus.NOT_FOUND, body)


class _ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    request_queue_size = 64


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        logger.info("%s - %s", self.address_string(), format % args)


def bind_demo_server(host: str, port: int) -> WSGIServer:
    """A threaded server on ``host:port`` (0: a free port, read ``server.server_port``);
    give it its application with ``server.set_app(app)`` before serving."""
    return _ThreadingWSGIServer((host, port), _QuietHandler)


def serve(app: DemoApp, host: str, port: int) -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    server = bind_demo_server(host, port)
    server.set_app(app)
    print(f"{app.service_name} : http://{host}:{server.server_port}/", flush=True)  # noqa: T201
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        app.close()


def check_csrf(session: Session | None, request: Request) -> bool:
    expected = session.data.get("csrf", "") if session is not None else ""
    return bool(expected) and secrets.compare_digest(expected, request.form.get("csrf", ""))
