"""Types for API signatures. Use ``Id`` for every id in a path or query: an id outside the
database's integer range is rejected as invalid input (422) before it reaches the database."""

from typing import Annotated

from pydantic import Field

Id = Annotated[int, Field(ge=1, le=2**63 - 1)]
