"""How the portal writes dates and times in French: the one place they are decided.

Templates write ``{{ value|date:"DATETIME_FORMAT" }}`` (or ``"DATE_FORMAT"``), Python
``formats.date_format(timezone.localtime(value), "DATETIME_FORMAT")``; the administration
and ``{{ value }}`` follow these too. Times are shown in Europe/Paris (``TIME_ZONE``).
Machine formats (JSON, CSV, HTTP headers, exports of the audit trail) stay ISO 8601.
Only what differs from Django's French formats is set here.
"""

# « 3 décembre 2026 » and « 3 décembre 2026 à 19:24 », as most pages already wrote them.
DATE_FORMAT = "j F Y"
DATETIME_FORMAT = "j F Y à H:i"
TIME_FORMAT = "H:i"
