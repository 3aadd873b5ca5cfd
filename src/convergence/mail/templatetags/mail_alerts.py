"""``{% mail_alerts %}``: the banner of the person's unseen « me notifier » alerts, at the top
of the mail pages (until the notification centre of issue 18 shows them everywhere)."""

from __future__ import annotations

from typing import Any

from django import template

from convergence.accounts.permissions import has_academic_mailbox
from convergence.mail import alerts

register = template.Library()


@register.inclusion_tag("mail/_alerts.html", takes_context=True)
def mail_alerts(context: dict[str, Any]) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    if request is None or user is None or not has_academic_mailbox(user):
        return {"alerts": [], "more": 0}
    unseen = list(alerts.unseen_of(user)[: alerts.SHOWN + 1])
    return {
        "alerts": unseen[: alerts.SHOWN],
        "more": len(unseen) > alerts.SHOWN,
        "back": request.get_full_path(),
        "csrf_token": context.get("csrf_token"),
    }
