import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from marketplace.parties.validators import USCC_ALPHABET, uscc_check_character, validate_uscc


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield

# Codes published by the organisations themselves (public registry data).
REAL_CODES = ["91350100M000100Y43", "91110000600037341L", "12100000400000624D"]


@pytest.mark.parametrize("code", REAL_CODES)
def test_real_published_codes_are_accepted(code):
    validate_uscc(code)


def test_lower_case_and_spaces_are_accepted_after_normalisation():
    validate_uscc(" 91350100m000100y43 ".replace("100", "1 00", 1))


def test_wrong_check_character_names_the_expected_one():
    with pytest.raises(ValidationError) as exc:
        validate_uscc("91350100M000100Y44")
    assert exc.value.code == "uscc_check"
    assert "expected 3" in exc.value.messages[0]


def test_wrong_length_says_how_many_characters_were_given():
    with pytest.raises(ValidationError) as exc:
        validate_uscc("9135010")
    assert exc.value.code == "uscc_length"
    assert "7" in exc.value.messages[0]


@pytest.mark.parametrize("letter", ["I", "O", "Z", "S", "V"])
def test_letters_outside_the_gb32100_alphabet_are_named_with_their_position(letter):
    code = "91350100M000100Y4" + letter
    with pytest.raises(ValidationError) as exc:
        validate_uscc(code)
    assert exc.value.code == "uscc_character"
    assert "18" in exc.value.messages[0]


def test_unknown_registration_authority_is_refused():
    first17 = "B1350100M000100Y4"
    with pytest.raises(ValidationError) as exc:
        validate_uscc(first17 + uscc_check_character(first17))
    assert exc.value.code == "uscc_authority"


def test_non_numeric_region_is_refused():
    first17 = "9135A100M000100Y4"
    with pytest.raises(ValidationError) as exc:
        validate_uscc(first17 + uscc_check_character(first17))
    assert exc.value.code == "uscc_region"


body = st.text(alphabet=USCC_ALPHABET, min_size=9, max_size=9)


@given(authority=st.sampled_from("123456789ANY"), region=st.from_regex(r"\A[0-9]{6}\Z"), rest=body,
       position=st.integers(min_value=0, max_value=17), replacement=st.sampled_from(USCC_ALPHABET))
def test_any_single_character_typo_is_detected(authority, region, rest, position, replacement):
    first17 = f"{authority}1{region}{rest}"
    code = first17 + uscc_check_character(first17)
    validate_uscc(code)
    typo = code[:position] + replacement + code[position + 1:]
    if typo == code:
        return
    # The weighted sum mod 31 (a prime) changes for every single substitution; other checks may fire first.
    with pytest.raises(ValidationError):
        validate_uscc(typo)


def test_the_error_is_given_in_chinese_to_chinese_users():
    with translation.override("zh-hans"):
        with pytest.raises(ValidationError) as exc:
            validate_uscc("91350100M000100Y44")
        assert "校验码" in exc.value.messages[0]  # messages are lazy: read them while Chinese is active
