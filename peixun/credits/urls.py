from django.urls import path

from . import views

app_name = "credits"
urlpatterns = [
    path("mine/", views.my_credits, name="my_credits"),
    path("teachers/<int:pk>/", views.teacher_credits, name="teacher_credits"),
    path("standings/", views.standing_list, name="standing_list"),
    path("report/", views.region_report, name="region_report"),
    path("policies/", views.policy_list, name="policy_list"),
    path("policies/<int:pk>/", views.policy_detail, name="policy_detail"),
    path("policies/<int:pk>/edit/", views.policy_edit, name="policy_edit"),
    path("policies/<int:pk>/activate/", views.policy_activate, name="policy_activate"),
    path("policies/<int:pk>/whatif/", views.policy_whatif, name="policy_whatif"),
    path("degrees/", views.degree_list, name="degree_list"),
    path("degrees/apply/", views.degree_apply, name="degree_apply"),
    path("degrees/<int:pk>/", views.degree_detail, name="degree_detail"),
    path("degrees/<int:pk>/certificate/", views.degree_certificate, name="degree_certificate"),
    path("floor/", views.floor_list, name="floor_list"),
    path("floor/new/", views.floor_new, name="floor_new"),
    path("floor/<int:pk>/", views.floor_detail, name="floor_detail"),
]
