"""Routes of the fair allocation pages (included by ``enrollment/urls.py``)."""

from django.urls import path

from . import views_allocation as views

urlpatterns = [
    path("allocation/", views.allocation_home, name="allocation_home"),
    path("allocation/mine/", views.my_preferences, name="allocation_mine"),
    path("allocation/runs/<int:pk>/", views.run_detail, name="allocation_run"),
]
