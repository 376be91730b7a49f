"""Routes of credit statements, verification and completion certificates (mounted by urls.py)."""

from django.urls import path

from . import certificates_views as views

urlpatterns: list = [
    path("certificates/", views.certificate_home, name="certificate_home"),
    path("certificates/batch/", views.certificate_batch, name="certificate_batch"),
    path("certificates/classes/", views.class_batches, name="certificate_classes"),
    path("certificates/classes/<int:class_pk>/batch/", views.class_batch_start, name="certificate_class_batch"),
    path("certificates/issued/<str:serial>/", views.issued_download, name="certificate_issued"),
    path("certificates/mine/", views.my_statement, name="certificate_mine"),
    path("certificates/mine/classes/<int:class_pk>/", views.my_class_certificate, name="certificate_mine_class"),
    path("certificates/teachers/<int:pk>/", views.teacher_statement, name="certificate_teacher"),
    path("certificates/teachers/<int:pk>/documents/", views.teacher_certificates, name="certificate_teacher_documents"),
    path(
        "certificates/teachers/<int:pk>/classes/<int:class_pk>/",
        views.teacher_class_certificate,
        name="certificate_teacher_class",
    ),
    path("certificates/verify/<str:token>/", views.verify, name="certificate_verify"),
]
