"""CAS 3.0 endpoints, mounted at /cas/ (the CAS base URL services are given)."""

from django.urls import URLPattern, URLResolver, path

from convergence.sso.views import cas

app_name = "cas"
urlpatterns: list[URLPattern | URLResolver] = [
    path("login", cas.login, name="login"),
    path("logout", cas.logout, name="logout"),
    path("serviceValidate", cas.service_validate, name="service_validate"),
    path("proxyValidate", cas.proxy_validate, name="proxy_validate"),
    path("p3/serviceValidate", cas.p3_service_validate, name="p3_service_validate"),
    path("p3/proxyValidate", cas.p3_proxy_validate, name="p3_proxy_validate"),
    path("proxy", cas.proxy, name="proxy"),
]
