"""Every write to accounts; one module per part of an account's life, all exported here."""

from .accounts import (
    RoleGrant,
    change_account_state,
    clear_throttle,
    create_account,
    link_guardian,
)

__all__ = [
    "RoleGrant",
    "change_account_state",
    "clear_throttle",
    "create_account",
    "link_guardian",
]
