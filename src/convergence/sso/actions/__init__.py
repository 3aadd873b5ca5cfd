"""Every write of single sign-on. Split by concern; import from here."""

from convergence.sso.actions.cas import (
    issue_proxy_ticket,
    issue_service_ticket,
    refuse_validation,
    validate_ticket,
)
from convergence.sso.actions.oidc import (
    burn_code,
    grant_consent,
    record_code_tokens,
    record_issued_code,
    record_service_login,
    revoke_consent,
    revoke_reused_code,
)
from convergence.sso.actions.sessions import (
    end_sso_session,
    end_sso_sessions,
    end_user_sso,
    purge_expired,
    reauthenticated,
    record_participation,
    sso_session_for,
)
from convergence.sso.actions.tokens import (
    issue_client_token,
    issue_first_party_token,
    revoke_first_party_tokens,
    revoke_reused_refresh_token,
    rotate_refresh_token,
)

__all__ = [
    "burn_code",
    "end_sso_session",
    "end_sso_sessions",
    "end_user_sso",
    "grant_consent",
    "issue_client_token",
    "issue_first_party_token",
    "issue_proxy_ticket",
    "issue_service_ticket",
    "purge_expired",
    "reauthenticated",
    "record_code_tokens",
    "record_issued_code",
    "record_participation",
    "record_service_login",
    "refuse_validation",
    "revoke_consent",
    "revoke_first_party_tokens",
    "revoke_reused_code",
    "revoke_reused_refresh_token",
    "rotate_refresh_token",
    "sso_session_for",
    "validate_ticket",
]
