"""An unreachable database or Redis is answered as the branded 503 with Retry-After, not as a
500 (the real outages are in tests/integration/test_faults.py, against stopped servers)."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, IntegrityError, InterfaceError, OperationalError
from django.test import RequestFactory
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from convergence.core.ratelimit import LimiterUnavailable
from convergence.core.views import OUTAGE_RETRY_AFTER_SECONDS, server_error


def _answer_while_handling(error: Exception):
    """Django calls its 500 handler inside the ``except`` that caught the view's error."""
    request = RequestFactory().get("/")
    try:
        raise error
    except Exception:
        return server_error(request)


@pytest.mark.parametrize(
    "error",
    [
        OperationalError("connection to server at 127.0.0.1 failed: Connection refused"),
        InterfaceError("connection already closed"),
        RedisConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused."),
        RedisTimeoutError("Timeout reading from socket"),
        LimiterUnavailable("cache down"),
    ],
)
def test_an_unreachable_dependency_is_a_branded_503_with_retry_after(db, error):
    response = _answer_while_handling(error)
    assert response.status_code == 503
    assert response["Retry-After"] == str(OUTAGE_RETRY_AFTER_SECONDS)
    assert response["Cache-Control"] == "no-store"
    page = response.content.decode()
    assert "CONV-503" in page
    assert "Service momentanément indisponible" in page
    assert "Vous pourrez réessayer dans 30 secondes." in page


@pytest.mark.parametrize(
    "error", [IntegrityError("duplicate key"), DatabaseError("syntax error"), KeyError("x")]
)
def test_a_bug_stays_a_500(db, error):
    response = _answer_while_handling(error)
    assert response.status_code == 500
    assert "Retry-After" not in response
    assert "CONV-500" in response.content.decode()


def test_the_outage_page_reads_nothing_from_the_database(db, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = _answer_while_handling(OperationalError("server closed the connection"))
    assert response.status_code == 503
