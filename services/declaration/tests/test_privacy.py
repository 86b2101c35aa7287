"""Social security numbers (NIR) are found in free text and masked; other numbers are not."""

import random

import pytest

from vigie_declaration.domain.privacy import MASK, mask_nir, nir_key, redact


def nir(first_thirteen: str, *, spaced: bool = False) -> str:
    key = f"{nir_key(first_thirteen):02d}"
    if not spaced:
        return first_thirteen + key
    f = first_thirteen
    return f"{f[0]} {f[1:3]} {f[3:5]} {f[5:7]} {f[7:10]} {f[10:13]} {key}"


def test_the_key_is_97_minus_the_number_modulo_97() -> None:
    # 1 85 05 78 006 084, key 91: 1850578006084 mod 97 = 6
    assert nir_key("1850578006084") == 97 - 1850578006084 % 97


def test_corsican_departements_count_as_19_and_18() -> None:
    assert nir_key("185052A006084") == 97 - 1850519006084 % 97
    assert nir_key("285052B006084") == 97 - 2850518006084 % 97


@pytest.mark.parametrize(
    "written",
    [
        nir("1850578006084"),
        nir("1850578006084", spaced=True),
        nir("2940375120005", spaced=True).replace(" ", "."),
        nir("1850578006084", spaced=True).replace(" ", "-"),
        nir("185052A006084"),
        nir("285052B006084", spaced=True),
        nir("1850578006084").lower(),
    ],
)
def test_a_nir_is_masked_however_it_is_written(written: str) -> None:
    text, count = mask_nir(f"Le patient {written} a été exposé.")
    assert (text, count) == (f"Le patient {MASK} a été exposé.", 1)


def test_a_number_whose_key_is_wrong_is_left_alone() -> None:
    first = "1850578006084"
    wrong = first + f"{(nir_key(first) + 1) % 97:02d}"
    assert mask_nir(f"ticket {wrong}") == (f"ticket {wrong}", 0)


def test_longer_digit_runs_and_other_identifiers_are_left_alone() -> None:
    for text in [
        "commande 1" + nir("1850578006084") + "9",
        "FINESS 750712184, téléphone 01 23 45 67 89",
        "hash d41d8cd98f00b204e9800998ecf8427e",
        "CVE-2024-3400",
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


def test_redaction_covers_the_free_text_fields_and_nothing_else() -> None:
    number = nir("1850578006084", spaced=True)
    content = {
        "description": f"Dossier de {number} exfiltré",
        "structure": {"finess": "750712184", "name": f"Unité {number}", "type": "other"},
        "declarant": {"name": "A", "role": f"référent {number}", "email": "a@b.fr"},
        "provider": {"name": f"Hébergeur {number}"},
        "indicators": [{"type": "md5", "value": number}],
    }
    redaction = redact(content)
    assert redaction.nir == 4
    assert redaction.content["description"] == f"Dossier de {MASK} exfiltré"
    assert redaction.content["structure"]["name"] == f"Unité {MASK}"
    assert redaction.content["indicators"] == content["indicators"]
    assert content["description"] == f"Dossier de {number} exfiltré", "the input is not modified"
