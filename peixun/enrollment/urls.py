from django.urls import path

from . import urls_allocation, views

app_name = "enrollment"
urlpatterns = [
    path("", views.select, name="select"),
    path("mine/", views.mine, name="mine"),
    path("mine/<int:pk>/withdraw/", views.withdraw, name="withdraw"),
    path("review/", views.review, name="review"),
    path("classes/", views.class_list, name="class_list"),
    path("classes/<int:pk>/", views.class_detail, name="class_detail"),
    path("classes/<int:pk>/roster/", views.roster, name="roster"),
    path("expansions/", views.expansion_list, name="expansion_list"),
    *urls_allocation.urlpatterns,
]
