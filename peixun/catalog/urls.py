from django.urls import path

from . import views

app_name = "catalog"
urlpatterns = [
    path("", views.browse, name="browse"),
    path("projects/<int:pk>/", views.project_detail, name="project_detail"),
    path("credits-preview/", views.credits_preview, name="credits_preview"),
    path("manage/", views.project_list, name="project_list"),
    path("manage/bulk/", views.project_bulk, name="project_bulk"),
    path("manage/new/", views.project_create, name="project_create"),
    path("manage/<int:pk>/edit/", views.project_edit, name="project_edit"),
    path("manage/<int:pk>/do/<str:action>/", views.project_action, name="project_action"),
    path("manage/<int:pk>/classes/new/", views.class_create, name="class_create"),
    path("manage/<int:pk>/lecturers/new/", views.lecturer_add, name="lecturer_add"),
    path("manage/<int:pk>/lecturers/<int:lecturer_id>/remove/", views.lecturer_remove, name="lecturer_remove"),
    path("manage/<int:pk>/sample/", views.lecturer_sample, name="lecturer_sample"),
    path("manage/<int:pk>/changes/new/", views.change_create, name="change_create"),
    path("classes/<int:pk>/edit/", views.class_edit, name="class_edit"),
    path("classes/<int:pk>/delete/", views.class_delete, name="class_delete"),
    path("classes/<int:pk>/schedule/", views.class_schedule, name="class_schedule"),
    path("checks/<int:pk>/", views.check_record, name="check_record"),
    path("sampling/", views.sampling, name="sampling"),
    path("lecturers/", views.lecturer_db, name="lecturer_db"),
    path("changes/", views.change_list, name="change_list"),
    path("changes/<int:pk>/<str:decision>/", views.change_decide, name="change_decide"),
    path("change-log/", views.change_log, name="change_log"),
    path("schedules/", views.schedules, name="schedules"),
    path("staff/", views.staff_list, name="staff_list"),
    path("staff/new/", views.staff_create, name="staff_create"),
    path("staff/<int:pk>/edit/", views.staff_edit, name="staff_edit"),
    path("quotas/", views.quota_list, name="quota_list"),
    path("caps/", views.region_caps, name="region_caps"),
]
