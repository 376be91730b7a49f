from django.urls import path

from . import views

app_name = "monitoring"
urlpatterns = [
    path("classes/", views.class_list, name="class_list"),
    path("classes/<int:class_pk>/spot-check/", views.spotcheck_create, name="spotcheck_create"),
    path("classes/<int:class_pk>/misconduct/", views.misconduct_create, name="misconduct_create"),
    path("spot-checks/", views.spotcheck_list, name="spotcheck_list"),
    path("spot-checks/<int:pk>/", views.spotcheck_detail, name="spotcheck_detail"),
    path(
        "spot-checks/<int:pk>/attachments/<int:attachment_id>/",
        views.attachment_download,
        name="attachment_download",
    ),
    path("misconduct/", views.misconduct_list, name="misconduct_list"),
    path("misconduct/<int:pk>/", views.misconduct_detail, name="misconduct_detail"),
    path("scorecard/", views.scorecard, name="scorecard"),
]
