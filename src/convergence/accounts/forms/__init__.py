"""Account forms, one module per part of an account's life."""

from convergence.accounts.forms.signin import (
    LOGIN_HELP,
    LoginForm,
    PasswordStrengthForm,
    login_help,
)

__all__ = ["LOGIN_HELP", "LoginForm", "PasswordStrengthForm", "login_help"]
