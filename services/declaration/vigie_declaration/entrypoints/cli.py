"""``vigie-declaration credentials``: create, list and revoke the credentials callers present.

    vigie-declaration credentials create --kind partner --name "Éditeur X" --finess 750712184 \
        --mail-domain hopital-x.fr
    vigie-declaration credentials create --kind partner --name "Éditeur X, 2e accès" \
        --principal partner:editeur-x-3f9c2b --join --finess 750712184
    vigie-declaration credentials create --kind partner --name "Formulaire" --departement '*'
    vigie-declaration credentials create --kind ars --name "ARS Bretagne" --region 53
    vigie-declaration credentials create --kind national --name "CERT Santé"
    vigie-declaration credentials list
    vigie-declaration credentials revoke <id>

The secret is printed once, at creation; the database keeps only its hash. The command reads
the database address from VIGIE_DATABASE_URL, like the service.
"""

import argparse
import asyncio
import json
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from vigie_kit.cli import command_parser, say
from vigie_kit.db import command_session

from ..bootstrap import MIGRATIONS
from ..config import DeclarationSettings
from ..domain.access import CredentialKind
from ..domain.credentials import InvalidCredential
from ..handlers import create_credential, list_credentials, revoke_credential


def parser() -> argparse.ArgumentParser:
    root, commands = command_parser("vigie-declaration", __doc__)
    credentials = commands.add_parser("credentials", help="manage the credentials of callers")
    actions = credentials.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="create a credential and print its secret once")
    create.add_argument("--kind", required=True, choices=[kind.value for kind in CredentialKind])
    create.add_argument("--name", required=True, help="who holds it, for people reading the list")
    create.add_argument(
        "--principal",
        help="the organisation it acts for, e.g. partner:editeur-a (default: a new one, generated)",
    )
    create.add_argument(
        "--join", action="store_true", help="give this credential to the existing --principal (its declarations)"
    )
    create.add_argument("--finess", action="append", default=[], help="a structure it may declare for")
    create.add_argument("--departement", action="append", default=[], help="a département it may declare for, or *")
    create.add_argument("--region", help="INSEE code of an ARS credential's region")
    create.add_argument("--rate", type=int, help="requests per minute (default: the service's)")
    create.add_argument(
        "--mail-domain",
        action="append",
        default=[],
        help="a partner's mail domain (chu-x.fr): its declarants there are sent the acknowledgement",
    )
    create.add_argument("--json", action="store_true", help="print JSON (for scripts)")
    listing = actions.add_parser("list", help="list credentials (never their secrets)")
    listing.add_argument("--json", action="store_true")
    revoke = actions.add_parser("revoke", help="revoke a credential at once")
    revoke.add_argument("id", type=UUID)
    return root


async def _create(session: AsyncSession, args: argparse.Namespace) -> int:
    credential, secret = await create_credential(
        session,
        kind=CredentialKind(args.kind),
        name=args.name,
        principal=args.principal,
        join=args.join,
        finess=args.finess,
        departements=args.departement,
        region_code=args.region,
        rate_per_minute=args.rate,
        mail_domains=args.mail_domain,
    )
    if args.json:
        say(json.dumps({"id": str(credential.id), "principal": credential.principal, "secret": secret}))
    else:
        say(f"Created {credential.kind} credential {credential.id} for {credential.principal}.")
        say(f"Secret (shown once, keep it safe): {secret}")
    return 0


async def _list(session: AsyncSession, args: argparse.Namespace) -> int:
    credentials = await list_credentials(session)
    if args.json:
        say(
            json.dumps(
                [
                    {
                        "id": str(c.id),
                        "kind": c.kind,
                        "name": c.name,
                        "principal": c.principal,
                        "hint": c.token_hint,
                        "finess": c.finess,
                        "departements": c.departements,
                        "region": c.region_code,
                        "rate_per_minute": c.rate_per_minute,
                        "mail_domains": c.mail_domains,
                        "created_at": c.created_at.isoformat(),
                        "revoked_at": c.revoked_at.isoformat() if c.revoked_at else None,
                    }
                    for c in credentials
                ],
                ensure_ascii=False,
            )
        )
        return 0
    for c in credentials:
        state = f"revoked {c.revoked_at:%Y-%m-%d %H:%M}" if c.revoked_at else "active"
        scope = c.region_code or ",".join(c.finess + c.departements) or "all"
        say(f"{c.id}  {c.kind:<8} {state:<24} {c.token_hint:<11} {c.name} [{scope}]")
    return 0


async def _revoke(session: AsyncSession, args: argparse.Namespace) -> int:
    credential = await revoke_credential(session, args.id)
    if credential is None:
        say(f"no credential {args.id}")
        return 1
    say(f"Revoked {credential.kind} credential {credential.id} ({credential.name}).")
    return 0


_ACTIONS = {"create": _create, "list": _list, "revoke": _revoke}


async def run(args: argparse.Namespace) -> int:
    try:
        async with command_session(DeclarationSettings().database_url, MIGRATIONS) as session:
            return await _ACTIONS[args.action](session, args)
    except InvalidCredential as error:
        say(f"error: {error}")
        return 2


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command is None:
        from ..__main__ import serve_forever  # noqa: PLC0415

        serve_forever()
        return 0
    return asyncio.run(run(args))
