"""Schemathesis reads the OpenAPI schema and throws generated requests at every operation.

Whatever it sends, the API answers with a 2xx/4xx and a JSON body — never a 500. Each
role's token is tried, so scope checks are exercised with hostile input too.
"""

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from peixun.accounts.services import token_create
from peixun.core.roles import Role
from tests.factories import InstitutionFactory, TeacherFactory, make_actor

schema = schemathesis.openapi.from_wsgi("/api/openapi.json", get_wsgi_application())


@pytest.fixture(autouse=True)
def _keep_test_connection():
    """Like Django's test client: don't close the test's DB connection when a request finishes."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def tokens(db, province, county, school):
    TeacherFactory.create_batch(3, school=school)
    actors = [
        make_actor(Role.PROVINCE, region=province),
        make_actor(Role.COUNTY, region=county),
        make_actor(Role.TEACHER, school=school),
        make_actor(Role.INSTITUTION, institution=InstitutionFactory()),
    ]
    return [token_create(actor=a, name="fuzz")[1] for a in actors]


@pytest.mark.postgres  # runs in the PostgreSQL pass of `make test` (the production database)
@schema.parametrize()
@settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_api_never_answers_500(case, tokens):
    for raw in tokens:
        response = case.call_and_validate(headers={"Authorization": f"Bearer {raw}"}, checks=[not_a_server_error])
        if 400 <= response.status_code < 500 and response.status_code != 405:
            body = response.json()
            assert {"code", "message"} <= set(body), body
