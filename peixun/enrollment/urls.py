from django.urls import path

from . import views

app_name = "enrollment"
urlpatterns = [
    path("", views.select, name="select"),
    path("mine/", views.mine, name="mine"),
    path("mine/<int:pk>/withdraw/", views.withdraw, name="withdraw"),
]
