from django.urls import path

from . import import_views, views

app_name = "roster"
urlpatterns = [
    path("teachers/", views.teacher_list, name="teacher_list"),
    path("teachers/logins/", views.teacher_logins_bulk, name="teacher_logins_bulk"),
    path("teachers/<int:pk>/", views.teacher_detail, name="teacher_detail"),
    path("teachers/<int:pk>/login/", views.teacher_login, name="teacher_login"),
    path("teachers/<int:pk>/exemptions/<int:exemption_id>/revoke/", views.exemption_revoke, name="exemption_revoke"),
    path("imports/", import_views.import_list, name="import_list"),
    path("imports/new/", import_views.import_create, name="import_create"),
    path("imports/template/", import_views.import_template, name="import_template"),
    path("imports/<int:pk>/", import_views.import_detail, name="import_detail"),
    path("imports/<int:pk>/apply/", import_views.import_apply, name="import_apply"),
    path("imports/<int:pk>/cancel/", import_views.import_cancel, name="import_cancel"),
    path("imports/<int:pk>/errors/", import_views.import_errors, name="import_errors"),
]
