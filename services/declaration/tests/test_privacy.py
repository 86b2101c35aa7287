"""Social security numbers (NIR) are found wherever a declaration holds text, however they are
written, and masked; other numbers are not."""

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vigie_declaration.domain.privacy import MASK, mask_nir, nir_key, redact

# A published example: "2 06 12 75 111 005 : femme née en décembre 1906 dans le 11ème
# arrondissement de Paris. sa clé est : 64" (lbcd78.fr, "Calcul de la clé du n° de sécurité
# sociale", 2007-02-26).
PUBLISHED = "2 06 12 75 111 005 64"


def key_of(first_thirteen: str) -> int:
    """INSEE's key, written here apart from the code under test: 97 minus the 13-digit number
    modulo 97, Corsica's 2A and 2B counting as 19 and 18."""
    digits = first_thirteen.upper().replace("2A", "19", 1).replace("2B", "18", 1)
    return 97 - int(digits) % 97


def nir(first_thirteen: str, *, spaced: bool = False) -> str:
    key = f"{key_of(first_thirteen):02d}"
    if not spaced:
        return first_thirteen + key
    f = first_thirteen
    return f"{f[0]} {f[1:3]} {f[3:5]} {f[5:7]} {f[7:10]} {f[10:13]} {key}"


def test_the_key_of_the_published_example_is_found() -> None:
    assert nir_key(PUBLISHED.replace(" ", "")[:13]) == 64
    assert mask_nir(f"patiente {PUBLISHED}.") == (f"patiente {MASK}.", 1)


def test_corsican_departements_count_as_19_and_18() -> None:
    assert nir_key("185052A006084") == 97 - 1850519006084 % 97
    assert nir_key("285052B006084") == 97 - 2850518006084 % 97


@pytest.mark.parametrize(
    "written",
    [
        PUBLISHED,
        PUBLISHED.replace(" ", ""),
        PUBLISHED.replace(" ", "."),
        PUBLISHED.replace(" ", "-"),
        PUBLISHED.replace(" ", "\t"),  # split by tabs
        PUBLISHED.replace(" ", "  "),  # by double spaces
        "2 06 12 75 111 005 / 64",  # the key set apart by a slash
        "2061275111005",  # without its key
        "2 06 12 75 111 005",
        nir("185052A006084"),
        nir("285052B006084", spaced=True),
        nir("285052B006084").lower(),
    ],
)
def test_a_nir_is_masked_however_it_is_written(written: str) -> None:
    text, count = mask_nir(f"Le patient {written} a été exposé.")
    assert (text, count) == (f"Le patient {MASK} a été exposé.", 1)


@pytest.mark.parametrize("glued", ["NIR{}", "nir:{}", "n°{}", "{}abc", "patient{}."])
def test_a_nir_glued_to_letters_is_masked(glued: str) -> None:
    number = PUBLISHED.replace(" ", "")
    text, count = mask_nir(glued.format(number))
    assert count == 1
    assert number not in text
    assert MASK in text


def test_a_number_whose_key_is_wrong_is_left_alone() -> None:
    first = "2061275111005"
    wrong = first + f"{(key_of(first) + 1) % 97:02d}"
    assert mask_nir(f"ticket {wrong}") == (f"ticket {wrong}", 0)


def test_longer_digit_runs_and_other_identifiers_are_left_alone() -> None:
    for text in [
        "commande 1" + nir("2061275111005") + "9",
        "FINESS 750712184, téléphone 01 23 45 67 89",
        "SIRET 12345678901234",
        "hash d41d8cd98f00b204e9800998ecf8427e",
        "CVE-2024-3400",
        "détecté le 2026-11-20T08:30:00+01:00",
    ]:
        assert mask_nir(text) == (text, 0)


def test_every_nir_in_a_text_is_counted() -> None:
    rng = random.Random(5)
    numbers = [
        f"{rng.choice('12')}{rng.randrange(100):02d}{rng.randrange(1, 13):02d}{rng.randrange(1, 96):02d}{rng.randrange(1000):03d}{rng.randrange(1, 1000):03d}"
        for _ in range(20)
    ]
    text = " ; ".join(nir(n, spaced=i % 2 == 0) for i, n in enumerate(numbers))
    masked, count = mask_nir(text)
    assert count == 20
    assert masked == " ; ".join([MASK] * 20)


separators = st.sampled_from(["", " ", "  ", "\t", ".", "-", "/", " / ", "\u00a0", "\u202f", "_"])
first_thirteen = st.builds(
    lambda sex, year, month, dep, commune, order: f"{sex}{year:02d}{month:02d}{dep}{commune:03d}{order:03d}",
    st.sampled_from("1278"),
    st.integers(0, 99),
    st.integers(1, 12),
    st.one_of(st.integers(1, 95).map(lambda d: f"{d:02d}"), st.sampled_from(["2A", "2B", "2a", "2b"])),
    st.integers(0, 999),
    st.integers(1, 999),
)


@settings(max_examples=400)
@given(
    first_thirteen,
    st.lists(separators, min_size=6, max_size=6),
    st.booleans(),
    st.sampled_from(["", "NIR", "n°", "patient ", "(", "«\u00a0"]),
    st.sampled_from(["", " ", ".", ")", " exposé", "\u00a0»"]),
)
def test_any_spelling_of_a_nir_is_masked_and_nothing_of_it_remains(
    digits: str, seps: list[str], with_key: bool, before: str, after: str
) -> None:
    parts = [digits[0], digits[1:3], digits[3:5], digits[5:7], digits[7:10], digits[10:13]]
    if with_key:
        parts.append(f"{key_of(digits):02d}")
    written = parts[0] + "".join(sep + part for sep, part in zip(seps, parts[1:], strict=False))
    text, count = mask_nir(f"{before}{written}{after}")
    assert count == 1, (written, text)
    assert text == f"{before}{MASK}{after}"


def test_redaction_covers_every_string_of_a_declaration() -> None:
    number = PUBLISHED
    content = {
        "description": f"Dossier de {number} exfiltré",
        "structure": {"finess": "750712184", "name": f"Unité {number}", "type": "other"},
        "declarant": {"name": f"Pour {number}", "role": f"référent {number}", "email": "a@b.fr"},
        "provider": {"name": f"Hébergeur {number}"},
        "indicators": [{"type": "url", "value": f"https://x.example/?nir={number.replace(' ', '')}"}],
        "detected_at": "2026-11-20T08:30:00+01:00",
    }
    redaction = redact(content)
    assert redaction.nir == 6
    assert redaction.content["description"] == f"Dossier de {MASK} exfiltré"
    assert redaction.content["structure"] == {"finess": "750712184", "name": f"Unité {MASK}", "type": "other"}
    assert redaction.content["indicators"] == [{"type": "url", "value": f"https://x.example/?nir={MASK}"}]
    assert redaction.content["detected_at"] == "2026-11-20T08:30:00+01:00"
    assert content["description"] == f"Dossier de {number} exfiltré", "the input is not modified"
