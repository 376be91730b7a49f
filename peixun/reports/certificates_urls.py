"""Routes of credit statements, verification and completion certificates (mounted by urls.py)."""

from django.urls import path

from . import certificates_views as views

urlpatterns: list = [
    path("certificates/", views.certificate_home, name="certificate_home"),
    path("certificates/batch/", views.certificate_batch, name="certificate_batch"),
    path("certificates/issued/<str:serial>/", views.issued_download, name="certificate_issued"),
    path("certificates/mine/", views.my_statement, name="certificate_mine"),
    path("certificates/teachers/<int:pk>/", views.teacher_statement, name="certificate_teacher"),
    path("certificates/verify/<str:token>/", views.verify, name="certificate_verify"),
]
