from django.urls import path

from . import views

app_name = "results"
urlpatterns = [
    path("", views.class_list, name="class_list"),
    path("mine/", views.my_results, name="my_results"),
    path("classes/<int:class_pk>/", views.class_open, name="class_open"),
    path("sheets/<int:pk>/", views.sheet_detail, name="sheet_detail"),
    path("sheets/<int:pk>/template/", views.sheet_template, name="sheet_template"),
    path("sheets/<int:pk>/export/", views.sheet_export, name="sheet_export"),
    path("sheets/<int:pk>/upload/", views.upload_create, name="upload_create"),
    path("sheets/<int:pk>/<str:action>/", views.sheet_action, name="sheet_action"),
    path("uploads/<int:pk>/", views.upload_detail, name="upload_detail"),
    path("uploads/<int:pk>/<str:action>/", views.upload_action, name="upload_action"),
]
