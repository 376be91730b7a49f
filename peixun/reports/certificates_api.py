"""JSON API of credit statements and certificates (mounted by api.py under /api/reports/)."""

from ninja import Router

router = Router(tags=["certificates"])
