"""Hooks other apps connect to. Both are sent inside the service's transaction.

* ``project_deleted(project, actor, reason)``: a published project was soft-deleted;
  enrollment cancels its enrollments (freeing seats), credits reverses what it produced.
* ``project_change_approved(project, change_request, actor)``: a major change to a
  published project was approved; enrollment notifies trainees and lets them withdraw.
* ``project_submitting(project, actor)``: sent by ``project_submit`` before the rules are
  checked; a receiver refuses by raising a ``DomainError`` (orders: an order project is formally
  applied only by the institution its county chose).
"""

from django.dispatch import Signal

project_deleted = Signal()
project_change_approved = Signal()
project_submitting = Signal()
