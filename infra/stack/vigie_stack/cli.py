"""``vigie-stack``: start, stop and inspect the local stack, and run the demo.

vigie-stack up        broker, database, stand-in receiver and the four services: starts what is
                      not running and leaves what runs (--brokers 3 --instances 2: a cluster,
                      and several processes of each service behind a load balancer)
vigie-stack restart [service …]
                      restart the services (all, or those named) to run the code as it is now:
                      instance after instance, so that behind the balancer nobody is refused
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
vigie-stack chaos [--quick]
                      the fault run, on a stack of its own (profile chaos: three Kafka nodes,
                      two instances of each service): a steady load while each fault is made in
                      turn, counted from outside; the table goes to RELIABILITY.md's results
"""

import argparse
import sys

import httpx
import uvicorn

from vigie_contracts.tracing import DECLARATION_ID, DECLARATION_REFERENCE

from .config import SERVICES, StackConfig, profile
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


def _chaos(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="vigie-stack chaos")
    parser.add_argument("--quick", action="store_true", help="a fault of each kind, briefly (as make test runs it)")
    parser.add_argument("--rate", type=float, help="declarations a second (default 8, or 4 with --quick)")
    args = parser.parse_args(argv)
    from .chaos import run_chaos  # noqa: PLC0415

    results = profile("chaos").root / ".state" / "chaos-results" / ("quick.json" if args.quick else "full.json")
    return 0 if run_chaos(quick=args.quick, rate=args.rate, results=results) else 1


def _up(stack: Stack) -> None:
    config = stack.config
    ports = ", ".join(f":{config.node_ports(n)[0]}" for n in range(config.brokers))
    _print(f"Starting PostgreSQL (:{config.postgres_port}), Kafka ({ports}) and Zipkin (:{config.zipkin_port}) …")
    stack.start_infrastructure()
    _print("Starting the stand-in ARS receiver and the four services …")
    stack.start_receiver()
    # What runs is left running: `vigie-stack restart` makes the services run new code.
    stack.start_services()
    _print("Loading the sample threat intelligence …")
    _print(stack.load_intel_samples().rstrip())
    for name, group in stack.services.items():
        behind = f"  ({len(group.instances)} instances behind the balancer)" if config.balanced else ""
        _print(f"  {name:<13} {group.url}{behind}")
    _print(f"  {'zipkin':<13} {stack.zipkin.url}/zipkin/")
    _print(f"State and logs in {stack.config.state}")


def _shaped(config: StackConfig, argv: list[str]) -> StackConfig:
    shape = argparse.ArgumentParser(prog="vigie-stack up")
    shape.add_argument("--brokers", type=int, help="Kafka nodes: 1, or 3 for a cluster (default: as last run)")
    shape.add_argument("--instances", type=int, help="processes of each service (default: as last run)")
    wanted = shape.parse_args(argv)
    try:
        return config.with_shape(brokers=wanted.brokers, instances=wanted.instances)
    except ValueError as error:
        shape.error(str(error))
        raise


def _run(stack: Stack, command: str, rest: list[str]) -> int:
    if command == "up":
        _up(stack)
    elif command == "restart":
        names = rest or list(SERVICES)
        _print(f"Restarting {', '.join(names)}, one instance at a time …")
        stack.restart_services(names)
        _print("Done: the services run the code as it is now.")
    elif command == "demo":
        from .demo import run_demo  # noqa: PLC0415

        return 0 if run_demo(stack) else 1
    elif command == "down":
        stack.down()
        _print("Stopped. Data kept in", stack.config.state)
    elif command == "reset":
        stack.reset()
        _print("Stopped and deleted", stack.config.state)
    elif command == "status":
        for name, running in stack.status().items():
            _print(f"  {name:<13} {'running' if running else 'stopped'}")
    elif command == "receiver":
        _serve_receiver(stack)
    else:
        done = stack.services[_PASSED_ON[command]].command(command, *rest)
        _print((done.stdout + done.stderr).rstrip())
        return done.returncode
    return 0


_COMMANDS = ["up", "restart", "down", "status", "demo", "reset", "receiver", "bench", "chaos", "trace"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="vigie-stack",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--profile", default="dev", choices=["dev", "test", "bench", "chaos"])
    parser.add_argument("command", choices=[*_COMMANDS, *_PASSED_ON])
    args, rest = parser.parse_known_args(argv)
    if args.command == "bench":
        return _bench(rest)
    if args.command == "chaos":
        return _chaos(rest)
    config = profile(args.profile)
    if args.command == "trace":
        return _trace(Stack(config), rest)
    if args.command == "up":
        config, rest = _shaped(config, rest), []
    if args.command == "restart" and (unknown := [name for name in rest if name not in SERVICES]):
        parser.error(f"restart: no service {', '.join(unknown)}; services are {', '.join(SERVICES)}")
    if rest and args.command not in ("restart", *_PASSED_ON):
        parser.error(f"unexpected arguments: {' '.join(rest)}")
    return _run(Stack(config), args.command, rest)


if __name__ == "__main__":
    sys.exit(main())
