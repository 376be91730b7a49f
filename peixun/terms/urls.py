from django.urls import path

from . import views

app_name = "terms"
urlpatterns = [
    path("", views.term_list, name="term_list"),
    path("new/", views.term_create, name="term_create"),
    path("<int:pk>/", views.term_detail, name="term_detail"),
    path("windows/<int:pk>/edit/", views.window_edit, name="window_edit"),
    path("windows/<int:pk>/extend/", views.window_extend, name="window_extend"),
]
