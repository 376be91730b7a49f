"""The test factories themselves: what every test may rely on."""

import pytest

from tests.factories import ProjectClassFactory, TeacherFactory, UserFactory


@pytest.mark.parametrize("run", ["first", "second"])
def test_each_test_starts_the_factory_sequences_afresh(run):
    # Both runs see the same values whichever tests ran before them in this process.
    assert TeacherFactory.build().name == "教师0"
    assert UserFactory.build().username == "user0"
    assert [ProjectClassFactory.build(project=None).number for _ in range(2)] == [1, 2]
