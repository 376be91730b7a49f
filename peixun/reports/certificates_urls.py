"""Routes of credit statements, verification and completion certificates (mounted by urls.py)."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
