"""Finding 7 of the security review: Vigie was a mail relay. Any partner could have it send its
acknowledgement, with a structure name of its choosing ("Votre compte Ameli est suspendu,
cliquez http://…"), to any address. The acknowledgement now goes only to the mail domains
registered with the partner's credential, and partner text in any e-mail is bounded and inert."""

import asyncio
from typing import Any

import httpx

from vigie_stack.mailbox import Mailbox
from vigie_stack.samples import declaration, finess_in
from vigie_stack.stack import Stack

from ..conftest import client
from ..support.pipeline import settle, wait_for_status

PHISHING = (
    "Votre compte Ameli est suspendu, cliquez http://ameli.fr.compte-suspendu.example/connexion?id=1 www.evil.example"
)


def alert_desk(code: str) -> str:
    return f"alerte@{code}.vigie.test"


async def test_the_acknowledgement_goes_only_to_the_credentials_mail_domains(stack: Stack, mailbox: Mailbox) -> None:
    registered = await asyncio.to_thread(
        stack.credential, "--kind", "partner", "--name", "CHU X", "--departement", "35", "--mail-domain", "chu-x.fr"
    )
    unregistered = await asyncio.to_thread(
        stack.credential, "--kind", "partner", "--name", "Éditeur sans domaine", "--departement", "35"
    )
    async with client(stack, registered["secret"]) as chu, client(stack, unregistered["secret"]) as other:
        cases: list[tuple[httpx.AsyncClient, str, dict[str, Any]]] = [
            (chu, "rssi@chu-x.fr", {"to": "rssi@chu-x.fr", "reason": None}),
            (
                chu,
                "victime@gmail.example",
                {"to": None, "reason": "gmail.example is not a mail domain of this credential (chu-x.fr)"},
            ),
            (
                chu,
                "rssi@sous.chu-x.fr",
                {"to": None, "reason": "sous.chu-x.fr is not a mail domain of this credential (chu-x.fr)"},
            ),
            (
                other,
                "rssi@chu-x.fr",
                {"to": None, "reason": "this credential has no mail domain: no acknowledgement is sent"},
            ),
        ]
        posted = []
        for api, address, expected in cases:
            payload = declaration(finess=finess_in("53", 7101))
            payload["declarant"]["email"] = address
            response = await api.post("/v1/declarations", json=payload)
            assert response.status_code == 202, response.text
            assert response.json()["acknowledgement"] == expected, address
            posted.append((api, response.json(), address))
        for api, body, _ in posted:
            await wait_for_status(api, [body["id"]])
    await settle(stack)
    assert [s for s in mailbox.subjects("rssi@chu-x.fr") if posted[0][1]["reference"] in s] == [
        f"[Vigie] Accusé de réception — {posted[0][1]['reference']}"
    ]
    for _, body, address in posted[1:]:
        assert not [s for s in mailbox.subjects(address) if body["reference"] in s], address


async def test_partner_text_in_an_email_is_bounded_and_never_a_link(
    stack: Stack, api: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    payload = declaration(finess=finess_in("53", 7102), name=PHISHING[:200])
    response = await api.post("/v1/declarations", json=payload)
    reference = response.json()["reference"]
    await wait_for_status(api, [response.json()["id"]])
    await settle(stack)
    sent = [
        m
        for address in (alert_desk("ars-bre"), alert_desk("cert-sante"), "rssi@structure.example.fr")
        for m in mailbox.messages(address)
        if reference in str(m["Subject"])
    ]
    assert len(sent) == 3
    for message in sent:
        text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
        for part in (str(message["Subject"]), text, html):
            assert "http://" not in part
            assert "ameli.fr" not in part
            assert "www.evil.example" not in part
        assert "<a " not in html
        assert "hxxp[:]//ameli[.]fr" in text
        line = next(line for line in text.splitlines() if "Ameli" in line)
        assert len(line) < 160, "partner text is bounded"
