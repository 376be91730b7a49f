"""``manage.py seed_scale``: the benchmark data set, built through each app's ``scale.py``."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from peixun.accounts.models import User
from peixun.credits.models import CreditTotal, LedgerEntry
from peixun.orgs.models import Region, School
from peixun.roster.importing import id_problem
from peixun.roster.models import Teacher

pytestmark = pytest.mark.django_db


def test_builds_a_province_with_valid_teachers_and_a_ledger():
    call_command("seed_scale", teachers=400, teachers_per_school=20, counties=6, verbosity=0)
    assert Region.objects.filter(level="county").count() == 6
    assert School.objects.count() == 20
    teachers = list(Teacher.objects.values_list("national_id", "school_id", "gender", "birth_date"))
    assert len(teachers) == 400 and len({t[0] for t in teachers}) == 400
    assert all(id_problem(nid) is None for nid, *_ in teachers)  # valid checksums
    # The gender and birth date agree with the ID, as the importer requires.
    assert all((int(nid[16]) % 2 == 1) == (gender == "M") for nid, _s, gender, _b in teachers)
    assert all(nid[6:14] == born.strftime("%Y%m%d") for nid, _s, _g, born in teachers)
    per_school = {}
    for _nid, school_id, *_ in teachers:
        per_school[school_id] = per_school.get(school_id, 0) + 1
    assert set(per_school.values()) == {20}
    # The credits step: ~17 entries per teacher and the per-teacher totals built from them.
    entries = LedgerEntry.objects.count()
    assert 10 * 400 < entries < 25 * 400
    assert CreditTotal.objects.exists()
    assert User.objects.filter(username="scale_province").exists()


def test_is_deterministic_and_refuses_a_database_with_data():
    call_command("seed_scale", teachers=60, counties=2, only="orgs,roster", verbosity=0)
    first = list(Teacher.objects.order_by("national_id").values_list("national_id", "name"))
    assert not LedgerEntry.objects.exists()  # --only left the credits step out
    with pytest.raises(CommandError):
        call_command("seed_scale", teachers=60, verbosity=0)
    Teacher.objects.all().delete()
    User.objects.all().delete()
    School.objects.all().delete()
    _delete_regions()
    call_command("seed_scale", teachers=60, counties=2, only="orgs,roster", verbosity=0)
    assert list(Teacher.objects.order_by("national_id").values_list("national_id", "name")) == first


def test_only_needs_orgs():
    with pytest.raises(CommandError):
        call_command("seed_scale", teachers=10, only="roster", verbosity=0)


def _delete_regions():
    for level in ("county", "city", "province"):
        Region.objects.filter(level=level).delete()
