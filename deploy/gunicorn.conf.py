"""gunicorn settings of one application process (docs/deployment.md).

Each systemd instance ``convergence-web@N`` (and each process of ``deploy/prodlike.py``) runs
one gunicorn with these settings, bound to its own loopback port; nginx spreads requests over
them. One instance per core, a few threads inside: Argon2 hashing and database waits release
the GIL, and one instance can be restarted while the others serve (rolling upgrade).
Every value can be overridden from the environment.
"""

import os

bind = os.environ.get("CONVERGENCE_WEB_BIND", "127.0.0.1:8001")
workers = int(os.environ.get("CONVERGENCE_WEB_WORKERS", "1"))
worker_class = "gthread"
threads = int(os.environ.get("CONVERGENCE_WEB_THREADS", "4"))
# Connections accepted but not yet served: small, so that past capacity nginx refuses
# (max_conns) instead of requests queueing here until their readers give up.
backlog = int(os.environ.get("CONVERGENCE_WEB_BACKLOG", "64"))
# A worker silent for this long is restarted (gthread: the worker process's heartbeat, not
# a limit on one request; requests are bounded by nginx's proxy_read_timeout and the
# dependencies' own timeouts).
timeout = int(os.environ.get("CONVERGENCE_WEB_TIMEOUT", "60"))
graceful_timeout = 20
# nginx keeps connections open to the processes (upstream keepalive 32).
keepalive = 75
# Recycling workers is off by default: each recycled worker leaves its metrics files behind
# (prometheus multiprocess mode) until the instance restarts, and memory stays steady. When
# set, workers restart after that many requests, at random moments (10 % jitter).
max_requests = int(os.environ.get("CONVERGENCE_WEB_MAX_REQUESTS", "0"))
max_requests_jitter = max_requests // 10
# The application is loaded before forking so a broken release fails at start, not at the
# first request.
preload_app = True
# nginx keeps the access log, with secret-bearing paths masked; gunicorn's is off unless
# asked for (its lines hold the path: a password-reset link's key, for one).
accesslog = os.environ.get("CONVERGENCE_WEB_ACCESS_LOG") or None
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms id=%({x-request-id}i)s'
errorlog = "-"
proc_name = os.environ.get("CONVERGENCE_WEB_NAME", "convergence-web")
# gunicorn's control socket defaults to one path per user: several instances would fight over
# it. systemd (reload, stop) and signals are how these processes are driven.
control_socket_disable = True
# The address nginx connects from is the only one trusted to say where a request came from;
# the portal reads X-Forwarded-For itself (CONVERGENCE_TRUSTED_PROXY_COUNT).
forwarded_allow_ips = "127.0.0.1,::1"


def child_exit(server, worker):  # type: ignore[no-untyped-def]
    """A worker that exits leaves its metrics files behind: mark them dead (prometheus)."""
    from convergence.core.metrics import child_exit as mark_metrics_dead

    mark_metrics_dead(server, worker)
