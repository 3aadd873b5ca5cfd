"""Convergence settings: every value comes from the environment, with a safe development default.

Each setting is documented once, in docs/configuration.md. Code reads ``settings.X``, never
``os.environ``. With ``CONVERGENCE_PRODUCTION=1`` a missing secret or host fails at start.
"""

from __future__ import annotations

import os
import secrets
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def _env(name: str, default: str = "") -> str:
    """The variable's value, or ``default`` when it is unset or empty."""
    return os.environ.get(name, "").strip() or default


def _env_bool(name: str, default: bool = False) -> bool:
    value = _env(name)
    if not value:
        return default
    return value.lower() in {"1", "true", "yes", "on"}


def _env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in _env(name, default).split(",") if item.strip()]


PRODUCTION = _env_bool("CONVERGENCE_PRODUCTION")
DEBUG = _env_bool("DJANGO_DEBUG")
VAR_DIR = Path(_env("CONVERGENCE_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """Use SECRET_KEY, else a key generated once into var/ (never committed)."""
    from_env = _env("SECRET_KEY")
    if from_env:
        return from_env
    if PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY must be set when CONVERGENCE_PRODUCTION=1.")
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(64))
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()

# --- Académie identity -------------------------------------------------------------------
ACADEMIE_NAME = _env("CONVERGENCE_ACADEMIE_NAME", "Académie de Besançon")
OFFICIAL_HOST = _env("CONVERGENCE_OFFICIAL_HOST", "127.0.0.1:8000")
MAIL_DOMAIN = _env("CONVERGENCE_MAIL_DOMAIN", "ac-besancon.fr")
# The State's brand block (Marianne, "République française"): on for an académie only.
STATE_BRAND = _env_bool("CONVERGENCE_STATE_BRAND", default=True)
HTTPS = _env_bool("CONVERGENCE_HTTPS", default=PRODUCTION)
# Maintenance: every page but sign-in and help answers 503 to non-staff.
MAINTENANCE = _env_bool("CONVERGENCE_MAINTENANCE")
# Help guides written as Markdown files (content/guides/*.md, images in its images/).
HELP_GUIDES_DIR = Path(_env("CONVERGENCE_HELP_GUIDES_DIR", str(BASE_DIR / "content" / "guides")))

if PRODUCTION and not _env("ALLOWED_HOSTS"):
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when CONVERGENCE_PRODUCTION=1.")
if PRODUCTION and not _env("CONVERGENCE_OFFICIAL_HOST"):
    raise ImproperlyConfigured(
        "CONVERGENCE_OFFICIAL_HOST must be set when CONVERGENCE_PRODUCTION=1."
    )
ALLOWED_HOSTS = _env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver")

# --- Applications ------------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # Ours come before dsfr and allauth so that our templates override theirs.
    "convergence.core",
    "convergence.audit",
    "convergence.outbox",
    "convergence.accounts",
    "convergence.mfa",
    "convergence.devices",
    "convergence.provisioning",
    "convergence.portal",
    "convergence.sso",
    "convergence.help",
    "convergence.support",
    "convergence.status",
    "convergence.mail",
    "convergence.notifications",
    "convergence.api",
    # After ours, so that core/templates/admin/ overrides the administration's templates.
    "django.contrib.admin",
    "dsfr",
    "django_htmx",
    "django_tasks",
    # Third-party apps under their French names in the administration
    # (core/third_party_apps.py).
    "convergence.core.third_party_apps.TasksDatabaseConfig",
    "convergence.core.third_party_apps.RqConfig",
    "allauth",
    "convergence.core.third_party_apps.AllauthAccountConfig",
    "convergence.core.third_party_apps.AllauthMfaConfig",
    "convergence.core.third_party_apps.OAuthToolkitConfig",
]
# The demo académie's relying parties, mail server and commands (the top-level ``demo``
# package, outside the product): on by default outside production, off in production.
DEMO = _env_bool("CONVERGENCE_DEMO", default=not PRODUCTION) and find_spec("demo") is not None
if DEMO:
    INSTALLED_APPS.append("demo")

MIDDLEWARE = [
    # Health probes and /metrics, answered before anything touches the session or the
    # database; then every other response timed; then the request id of the logs.
    "convergence.core.health.HealthMiddleware",
    "convergence.core.metrics.RequestMetricsMiddleware",
    "convergence.core.logs.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "convergence.core.middleware.SecurityHeadersMiddleware",
    # Past capacity, a request that waited too long behind the proxy is refused at once.
    "convergence.core.middleware.AdmissionMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "convergence.devices.middleware.DeviceActivityMiddleware",
    "convergence.core.middleware.MaintenanceMiddleware",
    # Rate limits fail closed: their cache down is a 503 with Retry-After (core/ratelimit.py).
    "convergence.core.middleware.LimiterUnavailableMiddleware",
    "convergence.core.middleware.RetryAfterMiddleware",
    # Privileged roles must enrol a second factor before anything else (mfa/policy.py).
    "convergence.mfa.policy.RequireSecondFactorMiddleware",
]

ROOT_URLCONF = "convergence.urls"
WSGI_APPLICATION = "convergence.wsgi.application"
ASGI_APPLICATION = "convergence.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "convergence.core.context_processors.academie",
                "convergence.core.context_processors.navigation",
                "convergence.core.context_processors.header_links",
            ],
        },
    },
]

# --- Data --------------------------------------------------------------------------------
DATABASE_URL = _env("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
# Persistent connections (one per thread, reused across requests) spare each request the
# connection set-up: for SQLite about 3 ms of registering functions and PRAGMAs.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets readers go on while one writer commits; IMMEDIATE avoids the
        # "database is locked" upgrade deadlock of deferred transactions.
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;"
        ),
        "transaction_mode": "IMMEDIATE",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = _env("REDIS_URL")
# Seconds a Redis command may take, connecting included, before the request gives up: a Redis
# that hangs costs a request this long, never a blocked thread (docs/deployment.md).
REDIS_TIMEOUT_SECONDS = float(_env("CONVERGENCE_REDIS_TIMEOUT", "1"))
if REDIS_URL:
    CACHES: dict[str, dict[str, Any]] = {
        "default": {
            # Django's, reusing one Redis client per pool (core/cache.py).
            "BACKEND": "convergence.core.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": _env("CONVERGENCE_CACHE_PREFIX", "convergence"),
            "OPTIONS": {
                "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
                "socket_timeout": REDIS_TIMEOUT_SECONDS,
            },
        }
    }
    SESSION_ENGINE = "convergence.devices.sessions.cache"
else:
    # One process, many threads: the embedded default. Several processes need REDIS_URL
    # so throttling counters are shared (see docs/architecture.md).
    # Django's default of 300 entries would evict throttling counters under a burst (each
    # sign-in touches a dozen keys): evicted counters would let attempts through.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "OPTIONS": {"MAX_ENTRIES": int(_env("CONVERGENCE_LOCMEM_CACHE_ENTRIES", "500000"))},
        }
    }
    SESSION_ENGINE = "convergence.devices.sessions"
# "shared": what one process changes and every other must see at once — the versions behind
# the bell's unread count and the dashboard's announcements (notifications/counter.py,
# portal/announcements.py), changed by the worker's fan-out and read by the web processes.
# Redis when there is one; else files under the var folder (make run's web app, worker and
# scheduler are separate processes, and a local-memory cache is each process's own).
CACHES["shared"] = (
    {**CACHES["default"]}
    if REDIS_URL
    else {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": _env("CONVERGENCE_SHARED_CACHE_DIR", str(VAR_DIR / "cache" / "shared")),
        # Culling lists the folder: rare enough with room for every open page's person.
        "OPTIONS": {"MAX_ENTRIES": 200_000},
    }
)

# Background work (core/taskqueue.py): RQ on Redis when REDIS_URL is set, else the database.
if REDIS_URL:
    TASKS: dict[str, dict[str, Any]] = {
        "default": {"BACKEND": "convergence.core.taskqueue.RQBackend"}
    }
else:
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def _with_timeouts(url: str, seconds: float) -> str:
    """``url`` with redis-py's socket timeouts: enqueuing a task while Redis hangs costs a
    request ``seconds``, not gunicorn's whole timeout. RQ's worker raises the read timeout
    above its own wait for work by itself."""
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}socket_timeout={seconds}&socket_connect_timeout={seconds}"


# django-rq's dashboard is English and needs Redis: it stays out of the administration
# (operations read the queues with `manage.py rqstats` and /metrics, docs/operations.md).
RQ_SHOW_ADMIN_LINK = False
RQ_QUEUES = {
    "default": {
        "URL": _with_timeouts(REDIS_URL or "redis://127.0.0.1:6379/0", REDIS_TIMEOUT_SECONDS),
        # A task running longer than this is stopped and retried (imports of a whole
        # académie take minutes, not an hour).
        "DEFAULT_TIMEOUT": int(_env("CONVERGENCE_TASK_TIMEOUT", "3600")),
    }
}
# A task that raises is retried after each of these delays in turn (seconds), then left
# failed; the same policy takes up a task whose worker died under it (RQ only).
TASK_RETRY_DELAYS = [
    int(delay) for delay in _env_list("CONVERGENCE_TASK_RETRY_DELAYS", "30,120,600,1800")
]
# How often a worker proves it is alive while running a task, and how long past a missed
# heartbeat its task is declared abandoned and retried by another worker.
TASK_HEARTBEAT_SECONDS = int(_env("CONVERGENCE_TASK_HEARTBEAT_SECONDS", "10"))
TASK_ABANDONED_GRACE_SECONDS = int(_env("CONVERGENCE_TASK_ABANDONED_GRACE_SECONDS", "30"))
# How often each worker looks for abandoned tasks and expired entries.
TASK_MAINTENANCE_SECONDS = int(_env("CONVERGENCE_TASK_MAINTENANCE_SECONDS", "60"))

# --- Identity ----------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
# allauth's backend with one lookup and exactly one hash per attempt (accounts/backends.py).
AUTHENTICATION_BACKENDS = ["convergence.accounts.backends.AccountBackend"]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "portal:dashboard"
LOGOUT_REDIRECT_URL = "account_login"

PASSWORD_HASHERS = [
    "convergence.accounts.hashers.ConvergenceArgon2PasswordHasher",
    # OAuth client secrets only (long random strings; see sso/hashers.py).
    "convergence.sso.hashers.ClientSecretHasher",
]
# Argon2id cost, measured on the target hardware (docs/security.md): memory in KiB.
ARGON2_MEMORY_KIB = int(_env("CONVERGENCE_ARGON2_MEMORY_KIB", "19456"))
ARGON2_TIME_COST = int(_env("CONVERGENCE_ARGON2_TIME_COST", "2"))
ARGON2_PARALLELISM = int(_env("CONVERGENCE_ARGON2_PARALLELISM", "1"))
# Hashes computed at once per process (accounts/hashers.py); by default one per core.
ARGON2_CONCURRENCY = int(_env("CONVERGENCE_ARGON2_CONCURRENCY", str(len(os.sched_getaffinity(0)))))

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "convergence.accounts.passwords.ProfilePasswordValidator"},
]

ACCOUNT_ADAPTER = "convergence.accounts.adapter.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "password1*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = "login"
ACCOUNT_USER_MODEL_EMAIL_FIELD = "email"
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_PREVENT_ENUMERATION = True
# A signed-in person may be asked to sign in again (OIDC prompt=login or max_age, CAS renew).
ACCOUNT_AUTHENTICATED_LOGIN_REDIRECTS = False
ACCOUNT_PRESERVE_USERNAME_CASING = False
# Throttling is ours (accounts/throttle.py), for the password and the second-factor step
# alike (mfa/sign_in_forms.py): allauth's "login_failed" limit, which both steps
# share, is replaced, not merely switched off.
ACCOUNT_RATE_LIMITS = {
    "login_failed": False,
    # A school's pupils share one public address: 30 sign-ins a minute per address would
    # turn a Monday morning away.
    "login": False,
}
ACCOUNT_FORMS = {"login": "convergence.accounts.forms.LoginForm"}

# --- Account life (docs/accounts.md) -----------------------------------------------------
# Activation letters: how long a printed code stays valid.
ACTIVATION_CODE_DAYS = int(_env("CONVERGENCE_ACTIVATION_CODE_DAYS", "90"))
# Password recovery: a link by e-mail or a code by SMS, single-use, valid 30 minutes.
PASSWORD_RESET_TIMEOUT = int(_env("CONVERGENCE_PASSWORD_RESET_SECONDS", "1800"))
# Recovery limits (docs/security.md, "Recovery limits"): the window of every counter below.
RECOVERY_WINDOW_SECONDS = int(_env("CONVERGENCE_RECOVERY_WINDOW", "3600"))
# Requests for one typed login or e-mail from one address per window, then a 429.
RECOVERY_IDENTIFIER_LIMIT = int(_env("CONVERGENCE_RECOVERY_IDENTIFIER_LIMIT", "5"))
# Requests and SMS codes typed per address per window (a school shares one), then a 429.
RECOVERY_IP_LIMIT = int(_env("CONVERGENCE_RECOVERY_IP_LIMIT", "100"))
# Links, SMS and login reminders sent per account (mailbox) per window; then silently none.
RECOVERY_SEND_LIMIT = int(_env("CONVERGENCE_RECOVERY_SEND_LIMIT", "5"))
# SMS: "outbox" keeps messages in the database (development, the demo); "http" posts them to
# the provider's API (outbox/sms.py documents the request).
SMS_BACKEND = _env("CONVERGENCE_SMS_BACKEND", "outbox")
SMS_HTTP_URL = _env("CONVERGENCE_SMS_HTTP_URL", "")
SMS_HTTP_TOKEN = _env("CONVERGENCE_SMS_HTTP_TOKEN", "")
SMS_SENDER = _env("CONVERGENCE_SMS_SENDER", "ACADEMIE")
SMS_TIMEOUT_SECONDS = float(_env("CONVERGENCE_SMS_TIMEOUT", "5"))
# Roles whose holders must have a second factor (ANSSI: privileged accounts).
MFA_REQUIRED_ROLES = _env_list(
    "CONVERGENCE_MFA_REQUIRED_ROLES", "direction,administratif,referent,dsi"
)
# Leavers' personal data is deleted this long after archiving (ENT order of 30 Nov 2006,
# art. 6: three months); audit entries are kept twelve months.
PERSONAL_DATA_RETENTION_DAYS = int(_env("CONVERGENCE_PERSONAL_DATA_RETENTION_DAYS", "92"))
AUDIT_RETENTION_DAYS = int(_env("CONVERGENCE_AUDIT_RETENTION_DAYS", "365"))
# Account imports (docs/imports.md): the largest CSV file accepted by /gestion/imports/.
IMPORT_MAX_FILE_MB = int(_env("CONVERGENCE_IMPORT_MAX_FILE_MB", "100"))

# allauth mfa: TOTP ("codes changeants"), recovery codes, passkeys (WebAuthn).
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_PASSKEY_LOGIN_ENABLED = True
MFA_TOTP_ISSUER = ACADEMIE_NAME
# One period either side: phones whose clock drifts by a few seconds still sign in. A code
# is still refused the second time it is typed (replay), whatever the tolerance.
MFA_TOTP_TOLERANCE = 1
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = not PRODUCTION
MFA_ADAPTER = "convergence.mfa.seams.MFAAdapter"
# Key material for the TOTP secrets stored encrypted (Fernet) and the recovery codes' keyed
# digests; derived from SECRET_KEY when unset. Changing it voids every enrolled factor.
MFA_KEY = _env("CONVERGENCE_MFA_KEY", "")
MFA_RECOVERY_CODE_COUNT = 10
MFA_FORMS = {
    "activate_totp": "convergence.mfa.forms.ActivateTOTPForm",
    # The code step of sign-in and reauthentication, throttled (mfa/sign_in_forms.py).
    "authenticate": "convergence.mfa.sign_in_forms.AuthenticateForm",
    "reauthenticate": "convergence.mfa.sign_in_forms.ReauthenticateForm",
    "authenticate_webauthn": "convergence.mfa.sign_in_forms.AuthenticateWebAuthnForm",
    "reauthenticate_webauthn": ("convergence.mfa.sign_in_forms.ReauthenticateWebAuthnForm"),
    "login_webauthn": "convergence.mfa.sign_in_forms.LoginWebAuthnForm",
}
# "Mes appareils": the session engines of devices/sessions/ carry each session's device;
# devices/middleware.py refreshes it at most once per SESSION_ACTIVITY_SECONDS per session.
SESSION_ACTIVITY_SECONDS = int(_env("CONVERGENCE_SESSION_ACTIVITY_SECONDS", "300"))

# Sign-in throttling (accounts/throttle.py, docs/security.md): failures allowed before delays
# start, and caps. A browser with the account's device cookie is judged by its own failures.
THROTTLE_WINDOW_SECONDS = int(_env("CONVERGENCE_THROTTLE_WINDOW", "3600"))
THROTTLE_PAIR_FREE = int(_env("CONVERGENCE_THROTTLE_PAIR_FREE", "5"))
THROTTLE_ACCOUNT_FREE = int(_env("CONVERGENCE_THROTTLE_ACCOUNT_FREE", "20"))
# Distinct identifiers that may fail from one address within the window before its browsers
# without a device cookie wait: a school of 2,000 pupils behind one address sees about 200.
THROTTLE_IP_DISTINCT_FREE = int(_env("CONVERGENCE_THROTTLE_IP_DISTINCT_FREE", "1000"))
THROTTLE_MAX_DELAY_SECONDS = int(_env("CONVERGENCE_THROTTLE_MAX_DELAY", "900"))
# Spraying detector: failures per minute that flag an address (distinct identifiers), a
# network (/24, /56) or the whole académie (a Monday morning peaks near 80), and one wrong
# password failing on this many accounts within its window. Flagged sources are paced to one
# attempt every THROTTLE_SPRAY_PACE_SECONDS for the flag period; the DSI is alerted by e-mail.
THROTTLE_SPRAY_ADDRESS_PER_MINUTE = int(_env("CONVERGENCE_THROTTLE_SPRAY_ADDRESS", "200"))
THROTTLE_SPRAY_NETWORK_PER_MINUTE = int(_env("CONVERGENCE_THROTTLE_SPRAY_NETWORK", "600"))
THROTTLE_SPRAY_ACADEMIE_PER_MINUTE = int(_env("CONVERGENCE_THROTTLE_SPRAY_ACADEMIE", "300"))
THROTTLE_SPRAY_SOURCE_PER_MINUTE = int(_env("CONVERGENCE_THROTTLE_SPRAY_SOURCE", "10"))
THROTTLE_SPRAY_PASSWORD_ACCOUNTS = int(_env("CONVERGENCE_THROTTLE_SPRAY_PASSWORD", "10"))
THROTTLE_SPRAY_PASSWORD_WINDOW_SECONDS = int(
    _env("CONVERGENCE_THROTTLE_SPRAY_PASSWORD_WINDOW", "600")
)
THROTTLE_SPRAY_PACE_SECONDS = int(_env("CONVERGENCE_THROTTLE_SPRAY_PACE", "2"))
THROTTLE_SPRAY_FLAG_SECONDS = int(_env("CONVERGENCE_THROTTLE_SPRAY_FLAG", "900"))
# Where spraying alerts go besides the DSI's accounts (comma-separated addresses).
SECURITY_ALERT_EMAILS = _env_list("CONVERGENCE_SECURITY_ALERT_EMAILS", "")
# Second-factor codes (TOTP, recovery codes, passkeys after a password): failures allowed per
# account and address, per account, and distinct accounts failing per address; the person is
# told by e-mail after MFA_THROTTLE_ALERT_AFTER failures.
MFA_THROTTLE_PAIR_FREE = int(_env("CONVERGENCE_MFA_THROTTLE_PAIR_FREE", "5"))
MFA_THROTTLE_ACCOUNT_FREE = int(_env("CONVERGENCE_MFA_THROTTLE_ACCOUNT_FREE", "10"))
MFA_THROTTLE_IP_FREE = int(_env("CONVERGENCE_MFA_THROTTLE_IP_FREE", "50"))
MFA_THROTTLE_ALERT_AFTER = int(_env("CONVERGENCE_MFA_THROTTLE_ALERT_AFTER", "5"))
# Trusted proxies: when set, the client address is read from X-Forwarded-For.
TRUSTED_PROXY_COUNT = int(_env("CONVERGENCE_TRUSTED_PROXY_COUNT", "0"))
# Admission control (core/middleware.py): a request that waited longer than this behind the
# reverse proxy (its X-Request-Start stamp) is answered 503 at once; 0 turns it off.
ADMISSION_MAX_WAIT_MS = int(_env("CONVERGENCE_ADMISSION_MAX_WAIT_MS", "1000"))

# --- Single sign-on (sso/, docs/sso.md) ---------------------------------------------------
# Lifetimes in seconds. Codes are single-use; a reused code revokes what it issued.
OIDC_CODE_SECONDS = int(_env("CONVERGENCE_OIDC_CODE_SECONDS", "60"))
OIDC_ACCESS_TOKEN_SECONDS = int(_env("CONVERGENCE_OIDC_ACCESS_TOKEN_SECONDS", "600"))
OIDC_ID_TOKEN_SECONDS = int(_env("CONVERGENCE_OIDC_ID_TOKEN_SECONDS", "600"))
# A refresh token lives until its family's first token is this old, however often rotated.
OIDC_REFRESH_ABSOLUTE_SECONDS = int(
    _env("CONVERGENCE_OIDC_REFRESH_ABSOLUTE_SECONDS", str(30 * 24 * 3600))
)
OIDC_KEYS_DIR = Path(_env("CONVERGENCE_OIDC_KEYS_DIR", str(VAR_DIR / "oidc-keys")))
# A retired signing key stays in the JWKS this long after its successor appeared.
OIDC_KEY_GRACE_SECONDS = max(OIDC_ACCESS_TOKEN_SECONDS, OIDC_ID_TOKEN_SECONDS) + 3600


def _oidc_keys() -> tuple[str, list[str]]:
    from convergence.sso.keys import active_and_published

    return active_and_published(OIDC_KEYS_DIR, OIDC_KEY_GRACE_SECONDS)


OIDC_ACTIVE_KEY, OIDC_PUBLISHED_KEYS = _oidc_keys()
CAS_TICKET_SECONDS = int(_env("CONVERGENCE_CAS_TICKET_SECONDS", "10"))
CAS_PROXY_GRANTING_TICKET_SECONDS = int(_env("CONVERGENCE_CAS_PGT_SECONDS", str(8 * 3600)))
# Proxy callbacks must be HTTPS; the demo's services run over plain HTTP on 127.0.0.1.
CAS_ALLOW_HTTP_PROXY_CALLBACK = _env_bool("CONVERGENCE_CAS_ALLOW_HTTP_CALLBACK", not PRODUCTION)
# OpenID Connect redirect URIs over plain HTTP (the demo's services on 127.0.0.1); production
# clients must use HTTPS.
OIDC_ALLOW_HTTP_REDIRECTS = _env_bool("CONVERGENCE_OIDC_ALLOW_HTTP_REDIRECTS", not PRODUCTION)
# Back-channel and CAS single-logout requests: timeout per attempt, attempts in all.
SSO_LOGOUT_TIMEOUT_SECONDS = float(_env("CONVERGENCE_SSO_LOGOUT_TIMEOUT", "3"))
SSO_LOGOUT_ATTEMPTS = int(_env("CONVERGENCE_SSO_LOGOUT_ATTEMPTS", "5"))

# The toolkit's models are swappable; we keep its own, named here for migrations.
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL = "oauth2_provider.AccessToken"  # noqa: S105
OAUTH2_PROVIDER_REFRESH_TOKEN_MODEL = "oauth2_provider.RefreshToken"  # noqa: S105
OAUTH2_PROVIDER_ID_TOKEN_MODEL = "oauth2_provider.IDToken"  # noqa: S105
OAUTH2_PROVIDER_GRANT_MODEL = "oauth2_provider.Grant"
OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    "OIDC_RSA_PRIVATE_KEY": OIDC_ACTIVE_KEY,
    "OIDC_RSA_PRIVATE_KEYS_INACTIVE": OIDC_PUBLISHED_KEYS,
    "OAUTH2_VALIDATOR_CLASS": "convergence.sso.validators.ConvergenceValidator",
    "CLIENT_SECRET_HASHER": "client_secret_sha256",
    "SCOPES": {
        "openid": _("Vous identifier"),
        "profile": _("Vos nom, prénom, identifiant et profils"),
        "email": _("Votre adresse électronique"),
        "establishments": _("Vos établissements et l'année scolaire"),
        "introspection": _("Vérifier des jetons (serveurs de l'académie)"),
    },
    "DEFAULT_SCOPES": ["openid"],
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": OIDC_CODE_SECONDS,
    "ACCESS_TOKEN_EXPIRE_SECONDS": OIDC_ACCESS_TOKEN_SECONDS,
    "ID_TOKEN_EXPIRE_SECONDS": OIDC_ID_TOKEN_SECONDS,
    # Sliding expiry (the family's absolute lifetime is checked by our validator); lets
    # `sso_purge` (the toolkit's clear_expired) delete old refresh tokens.
    "REFRESH_TOKEN_EXPIRE_SECONDS": OIDC_REFRESH_ABSOLUTE_SECONDS,
    "ROTATE_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "REFRESH_TOKEN_GRACE_PERIOD_SECONDS": 0,
    "PKCE_REQUIRED": True,
    "REQUEST_APPROVAL_PROMPT": "auto",
    "OIDC_RP_INITIATED_LOGOUT_ENABLED": True,
    "OIDC_RP_INITIATED_LOGOUT_ALWAYS_PROMPT": False,
    "OIDC_RP_INITIATED_LOGOUT_STRICT_REDIRECT_URIS": True,
    "OIDC_RP_INITIATED_LOGOUT_ACCEPT_EXPIRED_TOKENS": True,
    "OIDC_RP_INITIATED_LOGOUT_DELETE_TOKENS": True,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["http", "https"] if OIDC_ALLOW_HTTP_REDIRECTS else ["https"],
    "OIDC_RESPONSE_TYPES_SUPPORTED": ["code"],
    # What the metadata documents advertise: only what we serve.
    "OAUTH2_GRANT_TYPES_SUPPORTED": ["authorization_code", "client_credentials", "refresh_token"],
    "OAUTH2_RESPONSE_TYPES_SUPPORTED": ["code"],
    "OIDC_TOKEN_ENDPOINT_AUTH_METHODS_SUPPORTED": ["client_secret_post", "client_secret_basic"],
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_MATCHING": True,
    "COMPLIANT_BCP_RFC9700_PKCE_REQUIRED": True,
}

# --- HTTP security -----------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = int(_env("CONVERGENCE_SESSION_AGE", str(8 * 3600)))
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_TRUSTED_ORIGINS = _env_list("CSRF_TRUSTED_ORIGINS")
CSRF_FAILURE_VIEW = "convergence.core.views.csrf_failure"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Django sends HSTS only on requests made over HTTPS.
SECURE_HSTS_SECONDS = int(_env("CONVERGENCE_HSTS_SECONDS", "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = False
if HTTPS:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SESSION_COOKIE_NAME = "__Host-convergence-session"
    CSRF_COOKIE_NAME = "__Host-convergence-csrf"
    MESSAGE_COOKIE_NAME = "__Host-convergence-messages"
    SECURE_SSL_REDIRECT = _env_bool("CONVERGENCE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
else:
    SESSION_COOKIE_NAME = "convergence-session"
    CSRF_COOKIE_NAME = "convergence-csrf"
    MESSAGE_COOKIE_NAME = "convergence-messages"
# Messages keep Django's cookie-then-session storage, under MESSAGE_COOKIE_NAME (Secure and
# Path=/ with the session cookie's flags, domain unset: what ``__Host-`` requires).
MESSAGE_STORAGE = "convergence.core.messages.MessageStorage"

# --- Internationalisation ----------------------------------------------------------------
LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("Français"))]
LOCALE_PATHS = [BASE_DIR / "src" / "convergence" / "locale"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True
# The portal's one way of writing dates and times (core/formats/fr/formats.py).
FORMAT_MODULE_PATH = ["convergence.core.formats"]

# --- Static files ------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
# In production collectstatic writes hashed names with gzip and Brotli copies beside them
# (core/staticfiles.py), which nginx and WhiteNoise serve compressed and cacheable for a year.
# Elsewhere the files keep their names, so that an edited file needs no collectstatic.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "convergence.core.staticfiles.CompressedManifestStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    # The apps' static files, less the copies of the DSFR no page names (core/staticfiles.py).
    "convergence.core.staticfiles.AppDirectoriesFinder",
]
# Without collectstatic (demo, tests) WhiteNoise serves straight from the apps.
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = DEBUG
DSFR_USE_INTEGRITY_CHECKSUMS = True

MEDIA_URL = "/media/"
MEDIA_ROOT = VAR_DIR / "media"
# Files joined to support requests (support/attachments.py): outside MEDIA_ROOT, which the
# web server serves to anyone, and handed out only by the request's download page. The
# directory is created on the first upload.
SUPPORT_ATTACHMENTS_DIR = Path(
    _env("CONVERGENCE_SUPPORT_ATTACHMENTS_DIR", str(VAR_DIR / "support-attachments"))
)
# The largest file accepted (in Mo) and how many files one request or reply may carry.
SUPPORT_ATTACHMENT_MAX_MB = int(_env("CONVERGENCE_SUPPORT_ATTACHMENT_MAX_MB", "5"))
SUPPORT_ATTACHMENT_MAX_FILES = int(_env("CONVERGENCE_SUPPORT_ATTACHMENT_MAX_FILES", "3"))
# Files joined to announcements (portal/announcement_files.py): outside MEDIA_ROOT for the same
# reason, handed out only to the announcement's recipients and managers. Largest file (Mo) and
# files per announcement.
ANNOUNCEMENT_ATTACHMENTS_DIR = Path(
    _env("CONVERGENCE_ANNOUNCEMENT_ATTACHMENTS_DIR", str(VAR_DIR / "announcement-attachments"))
)
ANNOUNCEMENT_ATTACHMENT_MAX_MB = int(_env("CONVERGENCE_ANNOUNCEMENT_ATTACHMENT_MAX_MB", "10"))
ANNOUNCEMENT_ATTACHMENT_MAX_FILES = int(_env("CONVERGENCE_ANNOUNCEMENT_ATTACHMENT_MAX_FILES", "5"))

# --- Service status (status/) --------------------------------------------------------
# Where the worker writes the snapshot every status page reads (status/snapshot.py): the
# shared copy of a one-host set-up, and the last resort when the cache is down.
STATUS_SNAPSHOT_PATH = _env(
    "CONVERGENCE_STATUS_SNAPSHOT", str(VAR_DIR / "status" / "snapshot.json")
)
# Threads checking probes at once in one round, and how often the schedule starts a round
# (each probe is then checked at its own interval).
STATUS_PROBE_THREADS = int(_env("CONVERGENCE_STATUS_PROBE_THREADS", "32"))
STATUS_ROUND_SECONDS = int(_env("CONVERGENCE_STATUS_ROUND_SECONDS", "15"))
STATUS_RAW_RETENTION_DAYS = int(_env("CONVERGENCE_STATUS_RAW_RETENTION_DAYS", "7"))
STATUS_HOURLY_RETENTION_DAYS = int(_env("CONVERGENCE_STATUS_HOURLY_RETENTION_DAYS", "90"))

# --- Mail --------------------------------------------------------------------------------
EMAIL_HOST = _env("EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = int(_env("EMAIL_PORT", "2525"))
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = _env("DEFAULT_FROM_EMAIL", f"ne-pas-repondre@{MAIL_DOMAIN}")
# Tries of a message the server could not take (outbox.PendingMail) before it is abandoned.
MAIL_RETRY_MAX_ATTEMPTS = int(_env("CONVERGENCE_MAIL_RETRY_MAX_ATTEMPTS", "48"))
# Seconds before the second try; the wait doubles at each further try.
MAIL_RETRY_FIRST_SECONDS = int(_env("CONVERGENCE_MAIL_RETRY_FIRST_SECONDS", "60"))
# Longest wait between two tries, in seconds (48 tries then span about 42 hours).
MAIL_RETRY_MAX_SECONDS = int(_env("CONVERGENCE_MAIL_RETRY_MAX_SECONDS", "3600"))
if not PRODUCTION and not _env("EMAIL_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(VAR_DIR / "mail")

# --- Webmail (mail/) ----------------------------------------------------------------------
# The académie's IMAP server the webmail reads with each person's own token (Dovecot in
# production, the demo's embedded server on a fresh machine). Security: "tls" (implicit TLS,
# port 993), "starttls" or "none" (loopback only).
MAIL_IMAP_HOST = _env("CONVERGENCE_MAIL_IMAP_HOST", "127.0.0.1")
MAIL_IMAP_PORT = int(_env("CONVERGENCE_MAIL_IMAP_PORT", "1143"))
MAIL_IMAP_SECURITY = _env("CONVERGENCE_MAIL_IMAP_SECURITY", "none")
MAIL_SUBMISSION_HOST = _env("CONVERGENCE_MAIL_SUBMISSION_HOST", "127.0.0.1")
MAIL_SUBMISSION_PORT = int(_env("CONVERGENCE_MAIL_SUBMISSION_PORT", "1587"))
MAIL_SUBMISSION_SECURITY = _env("CONVERGENCE_MAIL_SUBMISSION_SECURITY", "none")
MAIL_SIEVE_HOST = _env("CONVERGENCE_MAIL_SIEVE_HOST", "127.0.0.1")
MAIL_SIEVE_PORT = int(_env("CONVERGENCE_MAIL_SIEVE_PORT", "4190"))
# ManageSieve's security: "starttls" (production), "tls" or "none" (loopback only).
MAIL_SIEVE_SECURITY = _env("CONVERGENCE_MAIL_SIEVE_SECURITY", MAIL_IMAP_SECURITY)
# Whether a mail rule may forward outside the académie's domains (MAIL_DOMAIN and
# MAIL_TRUSTED_DOMAINS); "true" only where the académie allows it.
MAIL_RULES_FORWARD_OUTSIDE = _env_bool("CONVERGENCE_MAIL_RULES_FORWARD_OUTSIDE")
# What phones and mail clients are told (the set-up pages, autoconfig): the académie's public
# names and ports, which default to the ones above (the demo's loopback servers).
MAIL_PUBLIC_IMAP_HOST = _env("CONVERGENCE_MAIL_PUBLIC_IMAP_HOST", MAIL_IMAP_HOST)
MAIL_PUBLIC_IMAP_PORT = int(_env("CONVERGENCE_MAIL_PUBLIC_IMAP_PORT", str(MAIL_IMAP_PORT)))
MAIL_PUBLIC_IMAP_SECURITY = _env("CONVERGENCE_MAIL_PUBLIC_IMAP_SECURITY", MAIL_IMAP_SECURITY)
MAIL_PUBLIC_SUBMISSION_HOST = _env("CONVERGENCE_MAIL_PUBLIC_SUBMISSION_HOST", MAIL_SUBMISSION_HOST)
MAIL_PUBLIC_SUBMISSION_PORT = int(
    _env("CONVERGENCE_MAIL_PUBLIC_SUBMISSION_PORT", str(MAIL_SUBMISSION_PORT))
)
MAIL_PUBLIC_SUBMISSION_SECURITY = _env(
    "CONVERGENCE_MAIL_PUBLIC_SUBMISSION_SECURITY", MAIL_SUBMISSION_SECURITY
)
# Dovecot's doveadm HTTP API and its key: the portal closes a person's open IMAP sessions when
# an app password is revoked or the account suspended (empty: not available, e.g. the demo).
MAIL_DOVEADM_URL = _env("CONVERGENCE_MAIL_DOVEADM_URL", "")
MAIL_DOVEADM_API_KEY = _env("CONVERGENCE_MAIL_DOVEADM_API_KEY", "")
# Domains besides the académie's own whose mail is not marked « extérieur » (the ministry…).
MAIL_TRUSTED_DOMAINS = _env_list("CONVERGENCE_MAIL_TRUSTED_DOMAINS", "education.gouv.fr")
# Where « Signaler un hameçonnage » sends the reported message (as an attachment): an address
# the académie's Postfix delivers (the security team's mailbox or an alias of it).
MAIL_SECURITY_ADDRESS = _env(
    "CONVERGENCE_MAIL_SECURITY_ADDRESS", f"signalement-hameconnage@{MAIL_DOMAIN}"
)
# The SASL mechanism the webmail logs in with: XOAUTH2 or OAUTHBEARER (RFC 7628).
MAIL_SASL_MECHANISM = _env("CONVERGENCE_MAIL_SASL_MECHANISM", "XOAUTH2")
# Every exchange with a mail server is bounded by this many seconds.
MAIL_TIMEOUT_SECONDS = float(_env("CONVERGENCE_MAIL_TIMEOUT_SECONDS", "5"))
# One authenticated IMAP connection per person is kept this long between requests; at most
# this many per process, and per person (never shared between people).
MAIL_POOL_IDLE_SECONDS = int(_env("CONVERGENCE_MAIL_POOL_IDLE_SECONDS", "60"))
MAIL_POOL_MAX_CONNECTIONS = int(_env("CONVERGENCE_MAIL_POOL_MAX_CONNECTIONS", "64"))
MAIL_POOL_MAX_PER_PERSON = int(_env("CONVERGENCE_MAIL_POOL_MAX_PER_PERSON", "2"))
# The webmail's own client of the single sign-on, and how long its tokens live.
MAIL_WEBMAIL_CLIENT_ID = _env("CONVERGENCE_MAIL_WEBMAIL_CLIENT_ID", "convergence-webmail")
MAIL_TOKEN_SECONDS = int(_env("CONVERGENCE_MAIL_TOKEN_SECONDS", "3600"))
# Messages per page of a folder.
MAIL_PAGE_SIZE = int(_env("CONVERGENCE_MAIL_PAGE_SIZE", "50"))
# What one message may carry in attachments, in Mo: pupils, and staff.
MAIL_ATTACHMENT_MAX_MB_PUPIL = int(_env("CONVERGENCE_MAIL_ATTACHMENT_MAX_MB_PUPIL", "5"))
MAIL_ATTACHMENT_MAX_MB_STAFF = int(_env("CONVERGENCE_MAIL_ATTACHMENT_MAX_MB_STAFF", "20"))
# Messages one person may send per hour from the webmail (a stolen session is not a spam cannon).
MAIL_SEND_PER_HOUR = int(_env("CONVERGENCE_MAIL_SEND_PER_HOUR", "60"))
# Recipients one person may write to, webmail and mail clients together (mail/limits.py), per
# hour and per rolling 24 hours: a pupil writes to a class at most (30), a teacher to the
# parents of all her classes (300). A stolen account is stopped there and the DSI alerted.
MAIL_RECIPIENTS_PER_HOUR_PUPIL = int(_env("CONVERGENCE_MAIL_RECIPIENTS_PER_HOUR_PUPIL", "30"))
MAIL_RECIPIENTS_PER_DAY_PUPIL = int(_env("CONVERGENCE_MAIL_RECIPIENTS_PER_DAY_PUPIL", "100"))
MAIL_RECIPIENTS_PER_HOUR_STAFF = int(_env("CONVERGENCE_MAIL_RECIPIENTS_PER_HOUR_STAFF", "300"))
MAIL_RECIPIENTS_PER_DAY_STAFF = int(_env("CONVERGENCE_MAIL_RECIPIENTS_PER_DAY_STAFF", "1000"))
# Apple configuration profiles (mail/setup.py): PEM files of the signer's certificate (then its
# intermediates) and its unencrypted private key; both empty: profiles are unsigned.
MAIL_MOBILECONFIG_CERTIFICATE = _env("CONVERGENCE_MAIL_MOBILECONFIG_CERTIFICATE", "")
MAIL_MOBILECONFIG_KEY = _env("CONVERGENCE_MAIL_MOBILECONFIG_KEY", "")
# The provider's name Thunderbird's autoconfig shows (empty: the académie's name).
MAIL_AUTOCONFIG_DISPLAY_NAME = _env("CONVERGENCE_MAIL_AUTOCONFIG_DISPLAY_NAME", "")
# App passwords one person may hold at once (one per phone or mail client).
MAIL_APP_PASSWORDS_MAX = int(_env("CONVERGENCE_MAIL_APP_PASSWORDS_MAX", "10"))
# Notifications a person's rules may raise in an hour ("me notifier"): past it, the mail
# server's calls are refused (429) until the hour ends; the messages are delivered anyway.
MAIL_ALERTS_PER_HOUR = int(_env("CONVERGENCE_MAIL_ALERTS_PER_HOUR", "120"))
# The server client « me notifier » posts with (deploy/mail/notify.py): it may call the
# notification endpoint only, and only it may (its secret is readable by the mail user).
MAIL_NOTIFY_CLIENT_ID = _env("CONVERGENCE_MAIL_NOTIFY_CLIENT_ID", "")
# The address book (mail/contacts_actions.py): contacts and groups per person, addresses
# remembered after sending (the oldest dropped), and what one vCard import may hold.
MAIL_CONTACTS_MAX = int(_env("CONVERGENCE_MAIL_CONTACTS_MAX", "2000"))
MAIL_CONTACT_GROUPS_MAX = int(_env("CONVERGENCE_MAIL_CONTACT_GROUPS_MAX", "100"))
MAIL_COLLECTED_ADDRESSES_MAX = int(_env("CONVERGENCE_MAIL_COLLECTED_ADDRESSES_MAX", "200"))
MAIL_VCARD_IMPORT_MAX_CARDS = int(_env("CONVERGENCE_MAIL_VCARD_IMPORT_MAX_CARDS", "1000"))
MAIL_VCARD_IMPORT_MAX_KB = int(_env("CONVERGENCE_MAIL_VCARD_IMPORT_MAX_KB", "1024"))

# --- Web push (notifications/push.py, docs/notifications.md) ------------------------------
# The VAPID private key (base64url DER or raw, as ``vapid --gen`` prints); empty: generated
# once into the database. Several instances of one portal must share it.
WEBPUSH_VAPID_PRIVATE_KEY = _env("CONVERGENCE_WEBPUSH_VAPID_PRIVATE_KEY")
# Who the push services may write to about this portal's pushes (the VAPID ``sub`` claim).
WEBPUSH_CONTACT_ADDRESS = _env("CONVERGENCE_WEBPUSH_CONTACT_ADDRESS", f"dsi@{MAIL_DOMAIN}")
# Seconds a push service has to take one push.
WEBPUSH_TIMEOUT = float(_env("CONVERGENCE_WEBPUSH_TIMEOUT", "10"))
# The push services a browser's endpoint may belong to (host or parent domain): the portal
# posts to that address, so no other host may be named there.
WEBPUSH_SERVICE_HOSTS = _env_list(
    "CONVERGENCE_WEBPUSH_SERVICE_HOSTS",
    "fcm.googleapis.com,push.services.mozilla.com,push.apple.com,notify.windows.com",
)
# Also accept http://127.0.0.1 endpoints (a local push service: tests turn it on); off
# unless asked for, even with DEBUG: a forged subscription must not reach the host's ports.
WEBPUSH_ALLOW_LOCAL_HTTP = _env_bool("CONVERGENCE_WEBPUSH_ALLOW_LOCAL_HTTP", default=False)

# --- REST API for services (api/, docs/api.md) --------------------------------------------
# Requests a service's client may make per minute, then a 429 with Retry-After.
API_REQUESTS_PER_MINUTE = int(_env("CONVERGENCE_API_REQUESTS_PER_MINUTE", "60"))
# Refused API tokens (401) per minute from one address, then a 429 with Retry-After.
API_BAD_TOKENS_PER_MINUTE = int(_env("CONVERGENCE_API_BAD_TOKENS_PER_MINUTE", "30"))
# Recipients a service's client may name per hour, then a 429 with Retry-After.
API_RECIPIENTS_PER_HOUR = int(_env("CONVERGENCE_API_RECIPIENTS_PER_HOUR", "10000"))
# Largest request body accepted (bytes), then a 413: 1,000 recipients fit many times over.
API_MAX_BODY_BYTES = int(_env("CONVERGENCE_API_MAX_BODY_BYTES", str(256 * 1024)))
# How long an Idempotency-Key keeps its first answer (hours).
API_IDEMPOTENCY_HOURS = int(_env("CONVERGENCE_API_IDEMPOTENCY_HOURS", "24"))

# --- Operations: health, metrics, logs (core/health.py, core/metrics.py, core/logs.py) ---
# Bearer token a Prometheus scraper sends for /metrics (a secret); empty: no token accepted.
METRICS_TOKEN = _env("CONVERGENCE_METRICS_TOKEN")
# Addresses (the TCP peer, never X-Forwarded-For) that may read /metrics without the token.
METRICS_ALLOWED_ADDRESSES = [
    address
    for address in _env_list("CONVERGENCE_METRICS_ALLOWED_ADDRESSES", "127.0.0.1,::1")
    if address.lower() != "none"  # "none": the token always (production, docs/deployment.md)
]
# Several processes (gunicorn workers): the directory where each writes its metrics.
METRICS_MULTIPROC_DIR = _env("PROMETHEUS_MULTIPROC_DIR")
# "text": one line per record; "json": one JSON object per line, for a log collector.
LOG_FORMAT = _env("CONVERGENCE_LOG_FORMAT", "text")
if LOG_FORMAT not in {"text", "json"}:
    raise ImproperlyConfigured("CONVERGENCE_LOG_FORMAT must be 'text' or 'json'.")
# Never log secrets: both formats write the message and its traceback, nothing else of the
# record (not the request Django attaches); each record carries its request's id.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "convergence.core.logs.RequestIdFilter"}},
    "formatters": {
        "text": {"format": "%(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "convergence.core.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": LOG_FORMAT,
        }
    },
    "root": {"handlers": ["console"], "level": _env("CONVERGENCE_LOG_LEVEL", "WARNING")},
}
