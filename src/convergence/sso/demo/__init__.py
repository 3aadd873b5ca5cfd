"""Two small services that sign in through the portal, started by ``make run``: an ENT over
CAS 3.0 (``ent``) and an Arena-like intranet over OpenID Connect (``arena``)."""
