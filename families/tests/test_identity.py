import datetime

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from demo.identity_numbers import fictional_personnummer, luhn_check_digit
from families.identity import birth_date_of, normalise_identity_number

TODAY = datetime.date.today()  # the library reads ten-digit forms against the real date
birth_dates = st.dates(min_value=datetime.date(1900, 1, 1), max_value=TODAY)
serials = st.integers(min_value=1, max_value=999)  # birth number 000 is never issued


def build(birth: datetime.date, serial: int, *, coordination: bool = False) -> str:
    day = birth.day + (60 if coordination else 0)
    nine = f"{birth:%y%m}{day:02d}{serial:03d}"
    return f"{birth:%Y%m}{day:02d}{serial:03d}{luhn_check_digit(nine)}"


def written_forms(normalised: str, birth: datetime.date) -> list[str]:
    """Every way a person may type the number: 12 or 10 digits, with '-', '+' or nothing."""
    short_sep = "+" if _age_years(birth) >= 100 else "-"
    forms = [normalised, f"{normalised[:8]}-{normalised[8:]}", f" {normalised} "]
    if _age_years(birth) < 100:
        forms.append(normalised[2:])  # without separator: read as under 100
    forms.append(f"{normalised[2:8]}{short_sep}{normalised[8:]}")
    return forms


def _age_years(birth: datetime.date) -> int:
    return TODAY.year - birth.year - ((TODAY.month, TODAY.day) < (birth.month, birth.day))


@given(birth=birth_dates, serial=serials, coordination=st.booleans(), data=st.data())
def test_every_written_form_of_a_valid_number_normalises_to_twelve_digits(
    birth, serial, coordination, data
):
    normalised = build(birth, serial, coordination=coordination)
    # A ten-digit number with '-' is read in the last 100 years: skip the one ambiguous day.
    written = data.draw(st.sampled_from(written_forms(normalised, birth)))
    assert normalise_identity_number(written, today=TODAY) == normalised
    assert birth_date_of(normalised) == birth


@given(birth=birth_dates, serial=serials, wrong=st.integers(min_value=1, max_value=9))
def test_a_wrong_check_digit_is_rejected(birth, serial, wrong):
    good = build(birth, serial)
    bad = good[:-1] + str((int(good[-1]) + wrong) % 10)
    with pytest.raises(ValidationError):
        normalise_identity_number(bad, today=TODAY)


@given(text=st.text(max_size=30))
def test_any_text_is_either_a_valid_number_or_a_clear_validation_error(text):
    try:
        result = normalise_identity_number(text, today=TODAY)
    except ValidationError as error:
        assert error.messages and all(message for message in error.messages)
    else:
        assert len(result) == 12 and result.isdigit()
        assert normalise_identity_number(result, today=TODAY) == result  # idempotent


@given(birth=birth_dates, serial=st.integers(min_value=0, max_value=19))
def test_demo_test_numbers_are_valid_and_in_the_test_series(birth, serial):
    number = fictional_personnummer(birth, serial)
    assert normalise_identity_number(number, today=TODAY) == number
    assert 980 <= int(number[8:11]) <= 999


@pytest.mark.parametrize(
    "raw",
    [
        "20180230-2384",  # 30 February
        "20181301-2384",  # month 13
        "2018010123",  # too short
        "20180101_2384",
        "ÅÄÖ",
        "",
        "19811328-9874",
    ],
)
def test_impossible_numbers_are_rejected(raw):
    with pytest.raises(ValidationError):
        normalise_identity_number(raw, today=TODAY)


def test_a_future_birth_date_is_rejected():
    future = build(TODAY + datetime.timedelta(days=40), 981)
    with pytest.raises(ValidationError) as caught:
        normalise_identity_number(future, today=TODAY)
    assert caught.value.code == "future"


def test_a_99_year_old_born_later_in_the_year_reads_as_99_not_as_unborn():
    tomorrow = TODAY + datetime.timedelta(days=1)
    day = 28 if (tomorrow.month, tomorrow.day) == (2, 29) else tomorrow.day
    birth = tomorrow.replace(year=tomorrow.year - 100, day=day)  # turns 100 tomorrow
    normalised = build(birth, 123)
    assert (
        normalise_identity_number(normalised[2:8] + "-" + normalised[8:], today=TODAY) == normalised
    )


def test_known_forms():
    assert normalise_identity_number("811228-9874", today=TODAY) == "198112289874"
    assert normalise_identity_number("811228+9874", today=TODAY) == "188112289874"
    # Samordningsnummer: day + 60.
    assert normalise_identity_number("701063-2391", today=TODAY) == "197010632391"
    assert birth_date_of("197010632391") == datetime.date(1970, 10, 3)
