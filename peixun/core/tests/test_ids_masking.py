from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from peixun.core.ids import (
    birth_date_from_id,
    checksum_char,
    is_valid_national_id,
    make_national_id,
    national_id_problem,
)
from peixun.core.masking import mask_name, mask_national_id, mask_phone


def test_known_valid_id():
    # GB 11643 example: 11010519491231002X
    assert is_valid_national_id("11010519491231002X")
    assert is_valid_national_id("11010519491231002x")  # lower-case x is normalised


def test_checksum_error_reported_in_chinese():
    assert national_id_problem("110105194912310021") == "身份证件号校验位错误"


def test_bad_date_and_format():
    assert national_id_problem("110105194913310020") == "身份证件号中的出生日期无效"
    assert "18位" in national_id_problem("12345")
    assert national_id_problem("") == "身份证件号为空"


@given(st.dates(min_value=date(1940, 1, 1), max_value=date(2010, 12, 31)), st.integers(min_value=0, max_value=999))
def test_generated_ids_validate(born, seq):
    value = make_national_id("990101", born, seq)
    assert is_valid_national_id(value)
    assert birth_date_from_id(value) == born
    assert value[17] == checksum_char(value[:17])


def test_masking():
    assert mask_national_id("11010519491231002X") == "110105********002X"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳明月") == "欧**月"
    assert mask_national_id("") == ""
