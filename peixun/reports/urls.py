from django.urls import include, path

from . import views

app_name = "reports"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("regions/<int:pk>/", views.region, name="region"),
    path("schools/<int:pk>/", views.school, name="school"),
    path("teachers/", views.teacher_list, name="teacher_list"),
    path("teachers/<int:pk>/", views.teacher, name="teacher"),
    path("institutions/", views.institutions, name="institutions"),
    # Credit statements, QR verification and completion certificates (issue 8 item 4) live in
    # certificates_urls.py, owned by that work; its names sit in this "reports" namespace.
    path("", include("peixun.reports.certificates_urls")),
]
