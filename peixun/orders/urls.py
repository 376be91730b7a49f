from django.urls import path

from . import views

app_name = "orders"
urlpatterns = [
    path("", views.order_list, name="order_list"),
    path("new/", views.order_create, name="order_create"),
    path("coverage/", views.coverage, name="coverage"),
    path("coverage/<str:action>/", views.coverage_action, name="coverage_action"),
    path("responses/", views.my_responses, name="my_responses"),
    path("responses/<int:pk>/", views.response_detail, name="response_detail"),
    path("responses/<int:pk>/<str:action>/", views.response_action, name="response_action"),
    path("<int:pk>/", views.order_detail, name="order_detail"),
    path("<int:pk>/respond/", views.response_create, name="response_create"),
    path("<int:pk>/project/<str:action>/", views.order_project_action, name="order_project_action"),
    path("<int:pk>/edit/", views.order_edit, name="order_edit"),
    path("<int:pk>/<str:action>/", views.order_action, name="order_action"),
]
