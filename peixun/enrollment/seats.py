"""Seat accounting on ``ProjectClass.seats_taken``: the only code that changes the counter.

Each function is one conditional UPDATE and must run inside the transaction that writes the
enrollment row whose state change it accounts for, so the counter always equals the number
of seat-holding enrollments (``Enrollment.SEAT_HOLDING``) and never exceeds the capacity.
"""

from django.db.models import F

from peixun.catalog.models import ProjectClass


def take_seat(project_class_id: int) -> bool:
    """Take one seat if one is left; False when the class is full (nothing changed)."""
    return (
        ProjectClass.objects.filter(pk=project_class_id, seats_taken__lt=F("capacity")).update(
            seats_taken=F("seats_taken") + 1
        )
        == 1
    )


def release_seat(project_class_id: int) -> None:
    """Give one seat back (rejection, withdrawal, cancellation of a seat-holding enrollment)."""
    updated = ProjectClass.objects.filter(pk=project_class_id, seats_taken__gt=0).update(
        seats_taken=F("seats_taken") - 1
    )
    if updated != 1:  # the counter and the rows disagree: refuse rather than hide it
        raise RuntimeError(f"class {project_class_id}: no seat to release")


def add_capacity(project_class_id: int, seats: int) -> None:
    """Raise the class's capacity by ``seats`` (accepted 扩班)."""
    ProjectClass.objects.filter(pk=project_class_id).update(capacity=F("capacity") + seats)


def take_seats(project_class_id: int, count: int) -> bool:
    """Take ``count`` seats at once if that many are left (all or nothing); False when they are not."""
    if count <= 0:
        return True
    return (
        ProjectClass.objects.filter(pk=project_class_id, seats_taken__lte=F("capacity") - count).update(
            seats_taken=F("seats_taken") + count
        )
        == 1
    )


def release_seats(project_class_id: int, count: int) -> None:
    """Give ``count`` seats back at once (e.g. every enrollment of a deleted project's class)."""
    if count <= 0:
        return
    updated = ProjectClass.objects.filter(pk=project_class_id, seats_taken__gte=count).update(
        seats_taken=F("seats_taken") - count
    )
    if updated != 1:
        raise RuntimeError(f"class {project_class_id}: fewer than {count} seats to release")
