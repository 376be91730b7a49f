"""Types for API signatures. Use ``Id`` for every id in a path or query: an id outside the
database's integer range is rejected as invalid input (422) before it reaches the database."""

from typing import Annotated

from ninja import Schema
from pydantic import Field

Id = Annotated[int, Field(ge=1, le=2**63 - 1)]


class ClassRefOut(Schema):
    """The class, project and institution a row belongs to, read through ``obj.project_class``
    (select_related ``project_class__project__institution`` to keep it one query)."""

    class_id: int
    class_number: int
    project_id: int
    project_code: str
    project_name: str
    institution_id: int
    institution_name: str

    @staticmethod
    def resolve_class_id(obj):
        return obj.project_class_id

    @staticmethod
    def resolve_class_number(obj):
        return obj.project_class.number

    @staticmethod
    def resolve_project_id(obj):
        return obj.project_class.project_id

    @staticmethod
    def resolve_project_code(obj):
        return obj.project_class.project.code

    @staticmethod
    def resolve_project_name(obj):
        return obj.project_class.project.name

    @staticmethod
    def resolve_institution_id(obj):
        return obj.project_class.project.institution_id

    @staticmethod
    def resolve_institution_name(obj):
        return obj.project_class.project.institution.name
