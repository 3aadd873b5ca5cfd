"""The demo teacher's notification preferences, set once when the demo first starts, so the
demo shows preferences at work: Sophie Bernard takes announcements by e-mail at once instead
of the staff's 17 h digest, keeps her evenings quiet (21 h to 7 h) but not her weekends, and
wants new mail on her devices. The rest of the demo's people keep their profile's defaults.

Set through the notifications app's own action (audited as hers), as if she had saved the
preferences page; a person who already has settings is left alone.
"""

from __future__ import annotations

from convergence.accounts.models import User
from convergence.core.notify import Category
from convergence.notifications import actions
from convergence.notifications.models import Channel, DeliverySettings, EmailMode
from convergence.notifications.preferences import Schedule, grid_of

TEACHER_LOGIN = "sbernard"


def prepare_teacher_notifications() -> bool:
    """Sophie's preferences, the first time; whether they were set now."""
    teacher = User.objects.filter(login=TEACHER_LOGIN).first()
    if teacher is None or DeliverySettings.objects.filter(person=teacher).exists():
        return False
    grid = grid_of(teacher)
    grid[(Category.ANNONCES, Channel.EMAIL)] = True
    grid[(Category.ANNONCES, Channel.PUSH)] = True
    grid[(Category.MESSAGERIE, Channel.PUSH)] = True
    actions.save_preferences(
        acting_user=teacher,
        grid=grid,
        schedule=Schedule(
            quiet_from=21,
            quiet_to=7,
            weekends_quiet=False,
            email_mode=EmailMode.IMMEDIATE,
            digest_hour=17,
        ),
    )
    return True
