"""``vigie-notification``: manage the recipients directory and the dead-lettered deliveries.

    vigie-notification directory show                     # channels of every recipient (no secrets)
    vigie-notification directory validate                 # exit 2, with the reason, if it is unusable
    vigie-notification directory set ars-bre --email veille@ars-bre.example.fr
    vigie-notification directory set ars-bre --webhook-url https://… --rotate-secret
    vigie-notification directory set hfds --email fssi@…   # the ministries' security officer
    vigie-notification deliveries failed                  # what was dead-lettered, and why
    vigie-notification deliveries replay <id> … | --all   # a new series of attempts

The directory is the file VIGIE_RECIPIENTS_FILE; the service reads it again when it changes.
A new signing secret is printed once, to be handed to the agency.
"""

import argparse
import asyncio
import sys
from uuid import UUID

from pydantic import SecretStr, ValidationError

from vigie_kit.cli import command_parser, say
from vigie_kit.db import command_session

from ..bootstrap import MIGRATIONS, smtp_server
from ..config import NotificationSettings
from ..domain.directory import Directory, Entry, InvalidDirectory, Webhook, load_directory, new_secret, save_directory
from ..handlers import failed_deliveries, replay_deliveries


def parser() -> argparse.ArgumentParser:
    root, commands = command_parser("vigie-notification", __doc__)
    directory = commands.add_parser("directory", help="the recipients directory").add_subparsers(
        dest="action", required=True
    )
    directory.add_parser("show", help="every recipient and its channels")
    directory.add_parser("validate", help="check the directory as the service would at start-up")
    change = directory.add_parser("set", help="change a recipient's channels")
    change.add_argument("code", help="ars-idf, ats-spm, cert-sante, hfds, …")
    change.add_argument("--name")
    change.add_argument("--email")
    change.add_argument("--no-email", action="store_true")
    change.add_argument("--webhook-url")
    change.add_argument(
        "--local", action="store_true", help="the webhook is a receiver on this machine (http, loopback allowed)"
    )
    change.add_argument("--no-webhook", action="store_true")
    change.add_argument("--rotate-secret", action="store_true", help="a new signing secret, printed once")
    deliveries = commands.add_parser("deliveries", help="dead-lettered deliveries").add_subparsers(
        dest="action", required=True
    )
    failed = deliveries.add_parser("failed", help="the deliveries that gave up")
    failed.add_argument("--limit", type=int, default=100)
    replay = deliveries.add_parser("replay", help="give dead-lettered deliveries a new series of attempts")
    replay.add_argument("ids", nargs="*", type=UUID)
    replay.add_argument("--all", action="store_true")
    return root


def _show(directory: Directory) -> None:
    for entry in directory.entries:
        webhook = f"{entry.webhook.url}{' (local)' if entry.webhook.local else ''}" if entry.webhook else "—"
        say(f"{entry.code:<11} {entry.name:<52} e-mail {entry.email or '—':<34} webhook {webhook}")


def _changed(entry: Entry, args: argparse.Namespace) -> tuple[Entry, str | None]:
    email = None if args.no_email else (args.email or entry.email)
    secret = None
    webhook = None if args.no_webhook else entry.webhook
    if args.webhook_url or args.rotate_secret:
        url = args.webhook_url or (str(entry.webhook.url) if entry.webhook else None)
        if url is None:
            raise InvalidDirectory(f"{entry.code} has no webhook: give --webhook-url")
        if args.rotate_secret or entry.webhook is None:
            secret = new_secret()
        kept = entry.webhook.secret if entry.webhook else SecretStr("")
        local = args.local or bool(entry.webhook and entry.webhook.local and not args.webhook_url)
        webhook = Webhook(url=url, secret=SecretStr(secret) if secret else kept, local=local)
    return Entry(code=entry.code, name=args.name or entry.name, email=email, webhook=webhook), secret


def _directory_command(args: argparse.Namespace, settings: NotificationSettings) -> int:
    path = settings.recipients_file
    directory = load_directory(path)
    if args.action == "show":
        _show(directory)
        return 0
    if args.action == "validate":
        directory.check_reachable(email_enabled=smtp_server(settings) is not None)
        say(f"{path}: {len(directory.ars)} agencies, CERT Santé and the HFDS; usable.")
        return 0
    secret = None
    try:
        entry, secret = _changed(directory.entry(args.code), args)
        directory = directory.replace(entry)
        directory = Directory.model_validate(directory.model_dump())  # the whole directory, checked again
    except LookupError as error:
        raise InvalidDirectory(str(error)) from None
    except ValidationError as error:
        problems = "; ".join(e["msg"].removeprefix("Value error, ") for e in error.errors(include_input=False))
        raise InvalidDirectory(problems) from None
    directory.check_reachable(email_enabled=smtp_server(settings) is not None)
    save_directory(path, directory)
    say(f"Saved {path}.")
    if secret:
        say(f"New signing secret (shown once, hand it to the agency): {secret}")
    return 0


async def _deliveries_command(args: argparse.Namespace, settings: NotificationSettings) -> int:
    async with command_session(settings.database_url, MIGRATIONS) as session:
        if args.action == "failed":
            for d in await failed_deliveries(session, limit=args.limit):
                say(
                    f"{d.id}  {d.reference} r{d.revision}  {d.recipient_code}/{d.channel}"
                    f"  {d.attempts} attempts  {d.updated_at:%Y-%m-%d %H:%M}  {d.last_error}"
                )
            return 0
        if not args.all and not args.ids:
            say("name the deliveries to replay, or --all")
            return 2
        replayed = await replay_deliveries(session, None if args.all else args.ids)
    say(f"Replaying {len(replayed)} deliveries.")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command is None:
        from ..__main__ import serve_forever  # noqa: PLC0415

        serve_forever()
        return 0
    settings = NotificationSettings()
    try:
        if args.command == "directory":
            return _directory_command(args, settings)
        return asyncio.run(_deliveries_command(args, settings))
    except InvalidDirectory as error:
        say(f"error: {error}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
