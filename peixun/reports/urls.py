from django.urls import include, path  # noqa: F401

app_name = "reports"
urlpatterns: list = [
    # Credit statements, QR verification and completion certificates (issue 8 item 4) live in
    # certificates_urls.py, owned by that work; its names sit in this "reports" namespace.
    path("", include("peixun.reports.certificates_urls")),
]
