from django.urls import path

from . import views

app_name = "roster"
urlpatterns = [
    path("teachers/", views.teacher_list, name="teacher_list"),
    path("teachers/logins/", views.teacher_logins_bulk, name="teacher_logins_bulk"),
    path("teachers/<int:pk>/", views.teacher_detail, name="teacher_detail"),
    path("teachers/<int:pk>/login/", views.teacher_login, name="teacher_login"),
    path("teachers/<int:pk>/exemptions/<int:exemption_id>/revoke/", views.exemption_revoke, name="exemption_revoke"),
]
