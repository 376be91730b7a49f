"""Every write of course selection. Import from here: ``from peixun.enrollment import services``.

For the fair allocation mode (``services.allocation``): ``check_eligibility`` is the one eligibility
rule set, ``promote_waitlist`` offers freed or added seats to a class's waitlist, and
``peixun.enrollment.seats`` is the only code that changes ``ProjectClass.seats_taken``.
"""

from ._common import ClassFull, NotEligible, retryable
from .eligibility import SELECT_WINDOWS, check_eligibility, selection_round
from .expansion import EXPANSION_MAX, expansion_decide, expansion_request
from .review import (
    CONFIRM_WINDOWS,
    REVIEW_WINDOWS,
    BulkResult,
    enrollment_confirm,
    enrollment_review,
    enrollments_confirm,
    enrollments_review,
)
from .selection import enrollment_select, promote_waitlist, waitlist_rank
from .withdrawal import allow_free_withdrawal, cancel_project_enrollments, enrollment_withdraw

__all__ = [
    "CONFIRM_WINDOWS",
    "EXPANSION_MAX",
    "REVIEW_WINDOWS",
    "SELECT_WINDOWS",
    "BulkResult",
    "ClassFull",
    "NotEligible",
    "allow_free_withdrawal",
    "cancel_project_enrollments",
    "check_eligibility",
    "enrollment_confirm",
    "enrollment_review",
    "enrollment_select",
    "enrollment_withdraw",
    "enrollments_confirm",
    "enrollments_review",
    "expansion_decide",
    "expansion_request",
    "promote_waitlist",
    "retryable",
    "selection_round",
    "waitlist_rank",
]
