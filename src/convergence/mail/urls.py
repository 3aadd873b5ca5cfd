"""The webmail's pages, under /messagerie/."""

app_name = "mail"

urlpatterns: list = []  # type: ignore[type-arg]
