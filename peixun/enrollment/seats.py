"""Seat accounting on ``ProjectClass.seats_taken``: the only code that changes the counter.

Each function is one conditional UPDATE and must run inside the transaction that writes the
enrollment row whose state change it accounts for, so the counter always equals the number
of seat-holding enrollments (``Enrollment.SEAT_HOLDING``) and never exceeds the capacity.
"""

from django.db import connection
from django.db.models import F

from peixun.catalog.models import ProjectClass
from peixun.core.hotpath import Bound, raw


def take_seat(project_class_id: int) -> bool:
    """Take one seat if one is left; False when the class is full (nothing changed)."""
    return take_seat_statement(project_class_id).run()


def take_seat_statement(project_class_id: int) -> Bound:
    """``take_seat`` as a statement to run together with others (its result: whether a seat was taken)."""
    table = ProjectClass._meta.db_table
    sql = f"UPDATE {table} SET seats_taken = seats_taken + 1 WHERE id = %s AND seats_taken < capacity RETURNING id"
    return raw(sql, [project_class_id]).then(bool)


def hold_for_waitlist(project_class_id: int) -> bool:
    """Before queueing a teacher on a full class: share-lock the class row until the transaction ends and
    say whether a seat is free now (then do not queue: start again and take it).

    The share lock waits for a transaction that is freeing a seat (it holds the row's update lock) and
    keeps new ones out until this one has committed, so the freeing transaction's ``promote_waitlist``
    sees the queued row. Queueing teachers share the lock and never update the row while holding it, so
    they do not wait for each other. (SQLite runs one writing transaction at a time: no lock needed.)
    """
    sql = f"SELECT seats_taken < capacity FROM {ProjectClass._meta.db_table} WHERE id = %s"
    if connection.features.has_select_for_update:
        sql += " FOR SHARE"
    with connection.cursor() as cursor:
        cursor.execute(sql, [project_class_id])
        row = cursor.fetchone()
    return bool(row and row[0])


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
