"""Facts about a request that several apps need: the client address and user agent."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

USER_AGENT_MAX = 300


def client_ip(request: HttpRequest) -> str:
    """The client's address; behind N trusted proxies, the Nth address from the right."""
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies > 0:
        header = str(request.META.get("HTTP_X_FORWARDED_FOR", ""))
        forwarded = [part.strip() for part in header.split(",") if part.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    remote: str = request.META.get("REMOTE_ADDR") or "0.0.0.0"  # noqa: S104
    return remote


def user_agent(request: HttpRequest) -> str:
    return str(request.META.get("HTTP_USER_AGENT", ""))[:USER_AGENT_MAX]


def session_user_pk(request: HttpRequest) -> str | None:
    """The account the request's session was signed in as, without loading the account.

    Reading ``request.user`` costs a query (and checks the session against the password);
    a middleware that only needs to know whether a session is signed in, or whose decision
    is cached per account, asks this instead. The view still loads and checks the account
    before using it: a session whose account changed its password counts here, and is
    anonymous there.
    """
    from django.contrib.auth import SESSION_KEY
    from django.utils.functional import LazyObject, empty

    user = getattr(request, "user", None)
    if user is None:
        wrapped = empty
    elif isinstance(user, LazyObject):
        wrapped = user._wrapped
    else:
        wrapped = user  # set by someone who had loaded it
    if wrapped is not empty and wrapped is not None:
        # Already loaded by someone else: it is the verified answer.
        pk = getattr(wrapped, "pk", None)
        authenticated = getattr(wrapped, "is_authenticated", False)
        return str(pk) if pk is not None and authenticated else None
    session = getattr(request, "session", None)
    if session is None:
        return None
    value = session.get(SESSION_KEY)
    return str(value) if value is not None else None
