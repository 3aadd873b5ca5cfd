"""Account pages, one module per part of an account's life."""

from convergence.accounts.views.signin import (
    LoginView,
    PasswordChangeView,
    account,
    admin_login,
    device_link,
    device_link_request,
    password_strength,
)

__all__ = [
    "LoginView",
    "PasswordChangeView",
    "account",
    "admin_login",
    "device_link",
    "device_link_request",
    "password_strength",
]
