"""Messages that were e-mails of their own and are now notifications: the notification
e-mail adds the greeting and the signature, so their templates hold neither."""

from __future__ import annotations

from typing import Any

from convergence.notifications.models import Notification
from convergence.provisioning import actions as provisioning_actions


def test_a_reprinted_letter_tells_the_guardians_without_greeting_or_signature(
    referent: Any, pupil: Any, parent: Any, django_capture_on_commit_callbacks: Any
) -> None:
    pupil.last_name = "L'Hôpital"  # an apostrophe must not come out as &#x27;
    pupil.save(update_fields=["last_name"])
    with django_capture_on_commit_callbacks(execute=True):
        provisioning_actions.reprint_activation_letter(acting_user=referent, user=pupil)
    told = list(Notification.objects.filter(title__startswith="Nouvelle lettre d'activation"))
    assert [notification.recipient for notification in told] == [parent]
    for notification in told:
        assert notification.title == "Nouvelle lettre d'activation pour Léa L'Hôpital"
        assert notification.category == "securite"
        assert notification.body.startswith(referent.get_full_name())
        assert "Bonjour" not in notification.body
        assert "Portail :" not in notification.body
        assert not notification.body.rstrip().endswith("Besançon")
