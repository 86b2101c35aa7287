"""``vigie-stack``: start, stop and inspect the local stack, and run the demo.

vigie-stack up        broker, database, stand-in receiver and the four services
vigie-stack demo      post a few declarations and follow them to the agencies
vigie-stack status    what runs
vigie-stack down      stop everything (the data stays in .state/)
vigie-stack reset     stop everything and delete the data
"""

import argparse
import asyncio
import sys

from .config import profile
from .receiver import WebhookReceiver, directory_secrets
from .stack import Stack


def _print(*parts: object) -> None:
    print(*parts, flush=True)  # noqa: T201 - a command-line tool speaks to the terminal


async def _serve_receiver(stack: Stack) -> None:
    config = stack.config
    receiver = WebhookReceiver(
        directory_secrets(config.recipients_file),
        port=config.receiver_port,
        record_file=config.state / "received.jsonl",
    )
    await receiver.start()
    await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="vigie-stack",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--profile", default="dev", choices=["dev", "test"])
    parser.add_argument("command", choices=["up", "down", "status", "demo", "reset", "receiver"])
    args = parser.parse_args(argv)
    stack = Stack(profile(args.profile))

    if args.command == "up":
        config = stack.config
        _print(f"Starting PostgreSQL (:{config.postgres_port}) and Kafka (:{config.kafka_port}) …")
        stack.start_infrastructure()
        _print("Starting the stand-in ARS receiver and the four services …")
        stack.start_receiver()
        stack.start_services()
        for name, process in stack.services.items():
            _print(f"  {name:<13} {process.url}")
        _print(f"State and logs in {stack.config.state}")
    elif args.command == "demo":
        from .demo import run_demo  # noqa: PLC0415

        return 0 if run_demo(stack.config) else 1
    elif args.command == "down":
        stack.down()
        _print("Stopped. Data kept in", stack.config.state)
    elif args.command == "reset":
        stack.reset()
        _print("Stopped and deleted", stack.config.state)
    elif args.command == "status":
        for name, running in stack.status().items():
            _print(f"  {name:<13} {'running' if running else 'stopped'}")
    elif args.command == "receiver":
        asyncio.run(_serve_receiver(stack))
    return 0


if __name__ == "__main__":
    sys.exit(main())
