"""Structured logs: a request id on every record, and one JSON object per line on demand.

:class:`RequestIdMiddleware` gives each request an id — the reverse proxy's ``X-Request-ID``
(nginx's ``$request_id``) when it is well formed, a new one otherwise — keeps it in a context
variable for the request's duration and echoes it in the response's ``X-Request-ID``.
:class:`RequestIdFilter` copies it onto every log record, and :class:`JsonFormatter` writes
records as JSON (``CONVERGENCE_LOG_FORMAT=json``) for a log collector.

The formatter writes the record's message (``record.getMessage()``) and traceback, never its
other attributes: what Django attaches (the request, with its cookies and form data) or a
caller passes in ``extra`` stays out of the log.
"""

from __future__ import annotations

import datetime
import json
import logging
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar

from django.http import HttpRequest, HttpResponse

REQUEST_ID_HEADER = "X-Request-ID"
NO_REQUEST = "-"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

_request_id: ContextVar[str] = ContextVar("convergence_request_id", default=NO_REQUEST)


def current_request_id() -> str:
    """The id of the request being answered, or ``-`` outside a request."""
    return _request_id.get()


def request_id_from(request: HttpRequest) -> str:
    """The proxy's id when it is safe to repeat (letters, digits, ``.``, ``_``, ``-``; at most
    64), else a new random one: a forged header cannot inject text into logs or headers."""
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    if _VALID_REQUEST_ID.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Sets the request id for the request's logs and answers it in ``X-Request-ID``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_from(request)
        request.request_id = request_id  # type: ignore[attr-defined]
        token = _request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            _request_id.reset(token)
        response.headers[REQUEST_ID_HEADER] = request_id
        return response


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every record (``-`` outside a request); filters nothing out.

    Django logs a 4xx or 5xx answer after the middleware has returned, passing the request:
    its id is then read from the request.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        record.request_id = getattr(request, "request_id", None) or current_request_id()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, request id, traceback."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.datetime.fromtimestamp(record.created, tz=datetime.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or current_request_id(),
        }
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exc_info"] = record.exc_text
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False)
