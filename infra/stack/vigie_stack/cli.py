"""``vigie-stack``: start, stop and inspect the local stack, and run the demo.

vigie-stack up        broker, database, stand-in receiver and the four services
vigie-stack demo      post a few declarations and follow them to the agencies
vigie-stack status    what runs
vigie-stack down      stop everything (the data stays in .state/)
vigie-stack reset     stop everything and delete the data
vigie-stack credentials create|list|revoke …
                      manage the credentials of the declaration API (see its --help)
vigie-stack intel load|sources …
                      load threat intelligence into enrichment (see its --help)
vigie-stack rebuild [--swap]
                      rebuild the statistics by replaying the topics (see vigie-stats --help)
vigie-stack directory show|validate|set …, vigie-stack deliveries failed|replay …
                      the notification service's recipients and dead-lettered deliveries
vigie-stack trace VIG-2026-000042 (or a declaration id)
                      the declaration's traces in Zipkin: their links and their spans
vigie-stack bench enrichment [--indicators N] [--declarations N]
vigie-stack bench pipeline [--quick]
                      measure on a stack of its own (profile bench), print and keep the figures
"""

import argparse
import sys

import httpx
import uvicorn

from vigie_contracts.tracing import DECLARATION_ID, DECLARATION_REFERENCE

from .config import profile
from .mailbox import Mailbox, local_tls, smtp_password
from .receiver import WebhookReceiver, directory_secrets
from .stack import Stack
from .zipkin import span_tree


def _print(*parts: object) -> None:
    print(*parts, flush=True)  # noqa: T201 - a command-line tool speaks to the terminal


def _serve_receiver(stack: Stack) -> None:
    """The stand-ins of the agencies: their webhook endpoints and their mail server."""
    config = stack.config
    receiver = WebhookReceiver(
        directory_secrets(config.recipients_file),
        port=config.receiver_port,
        record_file=config.state / "received.jsonl",
    )
    mailbox = Mailbox(config.smtp_port, local_tls(config), smtp_password(config), folder=config.state / "mail")
    mailbox.start()
    try:
        uvicorn.run(receiver.app(), host="127.0.0.1", port=config.receiver_port, log_level="warning")
    finally:
        mailbox.stop()


# Commands of a service, run against this stack's database: command → service.
_PASSED_ON = {
    "rebuild": "stats",
    "credentials": "declaration",
    "intel": "enrichment",
    "directory": "notification",
    "deliveries": "notification",
}


def _bench(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="vigie-stack bench")
    parser.add_argument("which", choices=["enrichment", "pipeline"])
    parser.add_argument("--indicators", type=int, default=100_000, help="enrichment: the intel store's size")
    parser.add_argument("--declarations", type=int, default=2_000, help="enrichment: the burst")
    parser.add_argument("--quick", action="store_true", help="pipeline: every measure, briefly")
    args = parser.parse_args(argv)
    results = profile("bench").root / ".state" / "bench-results"
    if args.which == "pipeline":
        from .bench import pipeline  # noqa: PLC0415

        pipeline.run(
            Stack(profile("bench"), service_env={"*": pipeline.SERVICE_ENV}), results=results, quick=args.quick
        )
        return 0
    from .bench import enrichment  # noqa: PLC0415

    stack = Stack(profile("bench"), service_env={"*": {"VIGIE_LOG_LEVEL": "WARNING"}})
    enrichment.run(stack, indicators=args.indicators, declarations=args.declarations, results=results)
    return 0


def _trace(stack: Stack, argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="vigie-stack trace")
    parser.add_argument("declaration", help="a reference (VIG-2026-000042) or a declaration id")
    parser.add_argument("--hours", type=int, default=24, help="how far back to look (default 24)")
    args = parser.parse_args(argv)
    tag = DECLARATION_REFERENCE if args.declaration.upper().startswith("VIG-") else DECLARATION_ID
    value = args.declaration.upper() if tag == DECLARATION_REFERENCE else args.declaration.lower()
    try:
        traces = stack.zipkin.traces_tagged(tag, value, hours=args.hours)
    except httpx.HTTPError as error:
        _print(f"Zipkin does not answer at {stack.zipkin.url} ({error}); is the stack up? (make up)")
        return 1
    if not traces:
        _print(f"No trace tagged {tag}={value} in the last {args.hours} h at {stack.zipkin.url}")
        return 1
    for spans in sorted(traces, key=lambda t: min(s.get("timestamp", 0) for s in t)):
        _print(f"\n{stack.zipkin.trace_url(spans[0]['traceId'])}  ({len(spans)} spans)")
        for line in span_tree(spans):
            _print(line)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="vigie-stack",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--profile", default="dev", choices=["dev", "test", "bench"])
    parser.add_argument(
        "command",
        choices=["up", "down", "status", "demo", "reset", "receiver", "bench", "trace", *_PASSED_ON],
    )
    args, rest = parser.parse_known_args(argv)
    if args.command == "bench":
        return _bench(rest)
    if args.command == "trace":
        return _trace(Stack(profile(args.profile)), rest)
    if rest and args.command not in _PASSED_ON:
        parser.error(f"unexpected arguments: {' '.join(rest)}")
    stack = Stack(profile(args.profile))

    if args.command == "up":
        config = stack.config
        _print(
            f"Starting PostgreSQL (:{config.postgres_port}), Kafka (:{config.kafka_port})"
            f" and Zipkin (:{config.zipkin_port}) …"
        )
        stack.start_infrastructure()
        _print("Starting the stand-in ARS receiver and the four services …")
        stack.start_receiver()
        # Services running from an earlier `up` are restarted, so that they run this code.
        stack.stop_services()
        stack.start_services()
        _print("Loading the sample threat intelligence …")
        _print(stack.load_intel_samples().rstrip())
        for name, process in stack.services.items():
            _print(f"  {name:<13} {process.url}")
        _print(f"  {'zipkin':<13} {stack.zipkin.url}/zipkin/")
        _print(f"State and logs in {stack.config.state}")
    elif args.command == "demo":
        from .demo import run_demo  # noqa: PLC0415

        return 0 if run_demo(stack) else 1
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
        _serve_receiver(stack)
    elif args.command in _PASSED_ON:
        done = stack.services[_PASSED_ON[args.command]].command(args.command, *rest)
        _print((done.stdout + done.stderr).rstrip())
        return done.returncode
    return 0


if __name__ == "__main__":
    sys.exit(main())
