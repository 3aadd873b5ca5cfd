"""The demo académie's embedded mail system: IMAP and ManageSieve (pymap, maildir backend) and
SMTP submission (aiosmtpd), over per-login maildirs under ``VAR_DIR / "demo-mail"``.

Dev only. Production uses Dovecot and Postfix; these servers check people exactly as Dovecot
does there: an access token by RFC 7662 introspection at the portal, or an app password at the
portal's app-password endpoint (``auth.py``).
"""
