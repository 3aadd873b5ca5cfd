"""Structured logs (core/logs.py): a request id per request, echoed and on every record, and
JSON lines that hold the message and nothing else of the record."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from convergence.core.logs import JsonFormatter, RequestIdFilter, RequestIdMiddleware

GENERATED = re.compile(r"^[0-9a-f]{32}$")
ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.fixture
def json_log():
    """A logger writing JSON lines to a buffer, as the console handler does in json mode."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("tests.core.logs")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    yield logger, stream
    logger.removeHandler(handler)


def lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_the_proxys_request_id_is_echoed(client, db):
    response = client.get("/connexion/", HTTP_X_REQUEST_ID="3f2a9c1b7e-nginx.42")
    assert response["X-Request-ID"] == "3f2a9c1b7e-nginx.42"


def test_a_request_without_an_id_gets_one(client, db):
    assert GENERATED.match(client.get("/connexion/")["X-Request-ID"])


@pytest.mark.parametrize(
    "forged",
    ["abc def", 'x"}, "level": "CRITICAL', "a" * 65, "é-accentué", "id;rm -rf"],
)
def test_a_malformed_request_id_is_replaced(client, db, forged):
    response = client.get("/connexion/", HTTP_X_REQUEST_ID=forged)
    assert GENERATED.match(response["X-Request-ID"])


def test_records_logged_during_a_request_carry_its_id(json_log):
    logger, stream = json_log

    def view(request):
        logger.warning("Widget %s timed out after %.1f s.", "messagerie", 3.0)
        return HttpResponse("ok")

    request = RequestFactory().get("/", HTTP_X_REQUEST_ID="req-42")
    response = RequestIdMiddleware(view)(request)
    logger.warning("After the request.")

    during, after = lines(stream)
    assert response["X-Request-ID"] == "req-42"
    assert during["request_id"] == "req-42"
    assert during["message"] == "Widget messagerie timed out after 3.0 s."
    assert during["level"] == "WARNING"
    assert during["logger"] == "tests.core.logs"
    assert during["time"].endswith("+00:00")
    assert after["request_id"] == "-"


def test_a_traceback_is_one_field_of_one_line(json_log):
    logger, stream = json_log
    try:
        raise ConnectionRefusedError("IMAP down")
    except ConnectionRefusedError:
        logger.exception("Widget failed.")
    assert len(stream.getvalue().splitlines()) == 1
    (entry,) = lines(stream)
    assert entry["message"] == "Widget failed."
    assert "ConnectionRefusedError: IMAP down" in entry["exc_info"]


def test_nothing_but_the_message_is_written(json_log):
    logger, stream = json_log
    request = RequestFactory().post("/connexion/", {"login": "lmartin", "password": "Secret-1"})
    # A mapping as the only argument and attributes passed in ``extra`` (as Django passes
    # the request) do not reach the line: only what the message string itself says does.
    logger.warning("Sign-in refused.", {"password": "Secret-2"})
    logger.warning("Sign-in refused.", extra={"request": request, "password": "Secret-3"})
    output = stream.getvalue()
    assert "Secret" not in output
    assert [entry["message"] for entry in lines(stream)] == ["Sign-in refused."] * 2
    assert set(lines(stream)[0]) == {"time", "level", "logger", "message", "request_id"}


def test_the_json_format_is_chosen_by_the_environment():
    env = {
        **os.environ,
        "CONVERGENCE_LOG_FORMAT": "json",
        "DJANGO_SETTINGS_MODULE": "convergence.settings",
        "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}",
    }
    script = "import django, logging; django.setup(); logging.getLogger('x').warning('bonjour')"
    result = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    entry = json.loads(result.stderr.strip().splitlines()[-1])
    assert entry["message"] == "bonjour"
    assert entry["request_id"] == "-"
