"""Background tasks of the roster import (run by ``manage.py db_worker``)."""

from django_tasks import task

from . import imports


@task()
def validate_roster_import(import_id: int) -> None:
    imports.run_validation(import_id)


@task()
def apply_roster_import(import_id: int) -> None:
    imports.run_apply(import_id)
