"""Help URLs (French paths under /aide/), names reversed as ``help:…``."""

from django.urls import URLPattern, URLResolver, path

from convergence.help.views import guides, troubleshooter

app_name = "help"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", guides.home, name="home"),
    path("recherche/", guides.search_page, name="search"),
    path("guides/images/<str:name>", guides.image, name="image"),
    path("guides/<slug:slug>/", guides.guide, name="guide"),
    path("depannage/", troubleshooter.troubleshooter_start, name="troubleshooter"),
    path(
        "depannage/<slug:symptom>/",
        troubleshooter.troubleshooter_symptom,
        name="troubleshooter_symptom",
    ),
    path(
        "depannage/<slug:symptom>/<slug:step>/",
        troubleshooter.troubleshooter_step,
        name="troubleshooter_step",
    ),
]

# Global names (``error_code``, ``error_codes``) that the error pages, the site map and the
# search reverse; included without a namespace by the root URLconf, under /aide/.
error_urlpatterns: list[URLPattern | URLResolver] = [
    path("erreurs/", guides.error_codes, name="error_codes"),
    path("erreurs/<str:code>/", guides.error_code, name="error_code"),
]
