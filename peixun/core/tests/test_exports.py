"""Large exports run as background jobs; small ones stream back. Both are scoped."""

import io

import pytest
from django.core.management import call_command
from django.urls import reverse
from openpyxl import load_workbook

from peixun.core import exports
from peixun.core.models import AuditLog, Job
from peixun.core.roles import Role
from tests.factories import SchoolFactory, make_actor

pytestmark = pytest.mark.django_db


def read_rows(data: bytes):
    return list(load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))


def test_small_export_streams_and_is_audited(client, county, school, other_school):
    actor = make_actor(Role.COUNTY, region=county)
    client.force_login(actor.user)
    response = client.get(reverse("orgs:school_list") + "?export=1")
    rows = read_rows(b"".join(response.streaming_content))
    assert rows[0][0] == "学校代码" and [r[0] for r in rows[1:]] == [school.code]
    assert AuditLog.objects.filter(action="core.export", user=actor.user).exists()


@pytest.mark.django_db(transaction=True)  # the worker commits and closes connections like in production
def test_large_export_runs_as_job_in_the_worker(client, county, monkeypatch):
    monkeypatch.setattr(exports, "INLINE_EXPORT_LIMIT", 2)
    SchoolFactory.create_batch(3, county=county)
    actor = make_actor(Role.COUNTY, region=county)
    client.force_login(actor.user)
    response = client.get(reverse("orgs:school_list") + "?export=1")
    job = Job.objects.get(owner=actor.user)
    assert response.status_code == 302 and response.url == reverse("core:job_detail", args=[job.pk])
    assert job.status == Job.Status.QUEUED
    # The real database worker picks it up.
    call_command("db_worker", "--batch", "--no-startup-delay", "--queue-name", "*", verbosity=0)
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.message
    download = client.get(reverse("core:job_download", args=[job.pk]))
    rows = read_rows(b"".join(download.streaming_content))
    assert len(rows) == 4
    # Only the owner can download it.
    other = make_actor(Role.COUNTY, region=county)
    client.force_login(other.user)
    assert client.get(reverse("core:job_download", args=[job.pk])).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_failed_job_can_be_retried(client, county, monkeypatch):
    actor = make_actor(Role.COUNTY, region=county)
    job = Job.objects.create(
        owner=actor.user,
        kind="export",
        title="x",
        status=Job.Status.FAILED,
        params={"exporter": "orgs.schools", "params": {}, "grant_id": actor.grant.pk},
    )
    client.force_login(actor.user)
    client.post(reverse("core:job_retry", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == Job.Status.QUEUED
    call_command("db_worker", "--batch", "--no-startup-delay", "--queue-name", "*", verbosity=0)
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED


def test_text_that_looks_like_a_formula_stays_text_in_xlsx():
    import io
    import zipfile

    from openpyxl import Workbook, load_workbook

    from peixun.core.exports import write_xlsx, xlsx_row

    out = io.BytesIO()
    write_xlsx(out, ["姓名", "备注"], [["张三", '=HYPERLINK("http://evil.example","点我")'], ["李四", None]])
    assert b"<f>" not in zipfile.ZipFile(io.BytesIO(out.getvalue())).read("xl/worksheets/sheet1.xml")
    rows = list(load_workbook(io.BytesIO(out.getvalue())).active.iter_rows(min_row=2, values_only=True))
    assert rows == [("张三", '=HYPERLINK("http://evil.example","点我")'), ("李四", None)]

    book = Workbook()  # a normal (not write-only) sheet, as the results template uses
    book.active.append(xlsx_row(book.active, ["=1+1", 2]))
    assert [c.data_type for c in book.active[1]] == ["s", "n"]
