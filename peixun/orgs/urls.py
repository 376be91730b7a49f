from django.urls import path

from . import views

app_name = "orgs"
urlpatterns = [
    path("regions/", views.region_list, name="region_list"),
    path("schools/", views.school_list, name="school_list"),
    path("schools/new/", views.school_create, name="school_create"),
    path("schools/<int:pk>/edit/", views.school_edit, name="school_edit"),
    path("institutions/", views.institution_list, name="institution_list"),
    path("institutions/new/", views.institution_create, name="institution_create"),
    path("institutions/<int:pk>/edit/", views.institution_edit, name="institution_edit"),
]
