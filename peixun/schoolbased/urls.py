from django.urls import path

from . import views

app_name = "schoolbased"
urlpatterns = [
    path("plans/", views.plan_list, name="plan_list"),
    path("plans/new/", views.plan_new, name="plan_new"),
    path("plans/<int:pk>/", views.plan_detail, name="plan_detail"),
    path("plans/<int:pk>/edit/", views.plan_edit, name="plan_edit"),
    path("records/<int:pk>/", views.record_detail, name="record_detail"),
    path("evidence/<int:pk>/", views.evidence_download, name="evidence_download"),
]
