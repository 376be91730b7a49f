"""The importer's fast ID check (memoised sums) and ``core.ids`` (forms, API) are two codings of one
rule (GB 11643-1999): they must accept and refuse the same numbers."""

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from peixun.core.ids import is_valid_national_id, make_national_id
from peixun.roster.importing import check_id

valid_ids = st.builds(
    make_national_id,
    st.from_regex(r"[1-9][0-9]{5}", fullmatch=True),
    st.dates(min_value=date(1900, 1, 1), max_value=date(2030, 12, 31)),
    st.integers(min_value=0, max_value=999),
)


@st.composite
def near_ids(draw):
    """Valid numbers with one character replaced: a digit, X, a full-width digit, or a letter."""
    value = draw(valid_ids)
    i = draw(st.integers(min_value=0, max_value=17))
    c = draw(st.sampled_from("0123456789X９１a "))
    return value[:i] + c + value[i + 1 :]


@settings(max_examples=500)
@given(st.one_of(valid_ids, near_ids(), st.text(alphabet="0123456789X", min_size=17, max_size=19)))
def test_importer_and_core_agree_on_every_id(value):
    assert (check_id(value)[1] is None) == is_valid_national_id(value), value
