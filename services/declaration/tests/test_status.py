"""A declaration's status, decided from facts that may arrive in any order."""

from vigie_contracts.events import Outcome, RecipientKind
from vigie_declaration.domain.declaration import DeclarationStatus, reference, status_of

ARS = (RecipientKind.ars, "ars-idf", Outcome.sent)
CERT = (RecipientKind.cert_sante, "cert-sante", Outcome.sent)
HFDS = (RecipientKind.ministry, "hfds", Outcome.sent)


def test_a_declaration_starts_received() -> None:
    assert status_of(enriched=False, ars_code=None, deliveries=[]) is DeclarationStatus.received


def test_enriched_once_placed_in_its_region() -> None:
    assert status_of(enriched=True, ars_code="ars-idf", deliveries=[]) is DeclarationStatus.enriched


def test_notified_only_when_its_ars_cert_sante_and_the_hfds_all_received_it() -> None:
    for some in ([ARS], [CERT], [HFDS], [ARS, CERT], [ARS, HFDS], [CERT, HFDS]):
        assert status_of(enriched=True, ars_code="ars-idf", deliveries=some) is DeclarationStatus.enriched, some
    assert status_of(enriched=True, ars_code="ars-idf", deliveries=[ARS, CERT, HFDS]) is DeclarationStatus.notified


def test_a_delivery_to_another_ars_or_one_still_retrying_does_not_count() -> None:
    other = (RecipientKind.ars, "ars-cor", Outcome.sent)
    retrying = (RecipientKind.ars, "ars-idf", Outcome.retrying)
    assert (
        status_of(enriched=True, ars_code="ars-idf", deliveries=[other, retrying, CERT, HFDS])
        is DeclarationStatus.enriched
    )


def test_deliveries_known_before_enrichment_count_once_it_arrives() -> None:
    assert status_of(enriched=False, ars_code=None, deliveries=[ARS, CERT, HFDS]) is DeclarationStatus.received
    assert status_of(enriched=True, ars_code="ars-idf", deliveries=[ARS, CERT, HFDS]) is DeclarationStatus.notified


def test_references_are_zero_padded_per_year() -> None:
    assert reference(2026, 42) == "VIG-2026-000042"
    assert reference(2027, 1_234_567) == "VIG-2027-1234567"
