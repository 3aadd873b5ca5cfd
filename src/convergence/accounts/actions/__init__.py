"""Every write of accounts; one module per part: accounts, activation, codes, recovery, throttle."""

from convergence.accounts.actions.accounts import (
    RoleGrant,
    change_account_state,
    clear_throttle,
    create_account,
    grant_roles,
    link_guardian,
    set_administrator,
    set_password,
)
from convergence.accounts.actions.activation import (
    ActivationError,
    ActivationTicket,
    RecoveryContactError,
    activate_account,
    complete_activation,
    confirm_recovery_contact,
    issue_activation_code,
    set_recovery_email,
    set_recovery_phone,
    verify_activation,
)
from convergence.accounts.actions.codes import purge_expired_codes
from convergence.accounts.actions.data import export_personal_data
from convergence.accounts.actions.recovery import (
    RecoveryError,
    RecoveryThrottled,
    exchange_sms_code,
    request_password_reset,
    reset_password,
    reset_password_by_referent,
    send_login_reminder,
)

__all__ = [
    "ActivationError",
    "ActivationTicket",
    "RecoveryContactError",
    "RecoveryError",
    "RecoveryThrottled",
    "RoleGrant",
    "activate_account",
    "change_account_state",
    "clear_throttle",
    "complete_activation",
    "confirm_recovery_contact",
    "create_account",
    "exchange_sms_code",
    "export_personal_data",
    "grant_roles",
    "issue_activation_code",
    "link_guardian",
    "purge_expired_codes",
    "request_password_reset",
    "reset_password",
    "reset_password_by_referent",
    "send_login_reminder",
    "set_administrator",
    "set_password",
    "set_recovery_email",
    "set_recovery_phone",
    "verify_activation",
]
