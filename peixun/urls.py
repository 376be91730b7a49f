from django.contrib import admin
from django.urls import include, path

from peixun.api import api
from peixun.core import views as core_views

handler400 = "django.views.defaults.bad_request"
handler403 = "django.views.defaults.permission_denied"
handler404 = "django.views.defaults.page_not_found"
handler500 = "django.views.defaults.server_error"

urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("robots.txt", core_views.robots),
    path("api/", api.urls),
    path("accounts/", include("peixun.accounts.urls")),
    path("core/", include("peixun.core.urls")),
    path("orgs/", include("peixun.orgs.urls")),
    path("roster/", include("peixun.roster.urls")),
    path("terms/", include("peixun.terms.urls")),
    path("catalog/", include("peixun.catalog.urls")),
    path("orders/", include("peixun.orders.urls")),
    path("enrollment/", include("peixun.enrollment.urls")),
    path("results/", include("peixun.results.urls")),
    path("credits/", include("peixun.credits.urls")),
    path("schoolbased/", include("peixun.schoolbased.urls")),
    path("monitoring/", include("peixun.monitoring.urls")),
    path("reports/", include("peixun.reports.urls")),
    path("django-admin/", admin.site.urls),
]
