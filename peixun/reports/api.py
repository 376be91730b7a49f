from ninja import Router

from .certificates_api import router as certificates_router

router = Router(tags=["reports"])

# Credit statements and certificates (issue 8 item 4): their own router, mounted under /api/reports/.
router.add_router("", certificates_router)
