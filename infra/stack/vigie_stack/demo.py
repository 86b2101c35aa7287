"""The demo: a few declarations posted through the API, followed until every agency was told."""

import json
import time
from typing import Any

import httpx

from vigie_contracts.finess import parse_finess
from vigie_contracts.territory import REGIONS

from .samples import demo_declarations
from .stack import Stack


def _print(*parts: object) -> None:
    print(*parts, flush=True)  # noqa: T201 - the demo speaks to the terminal


DEMO_ARS_REGION = "94"  # Corse: the region the demo shows signing in to its dashboard


def demo_credentials(stack: Stack) -> dict[str, str]:
    """A partner credential for the demo's structures (acknowledged in their mail domain), a
    CERT Santé one and an ARS one, created once and kept (with their secrets) in the state
    folder's secrets."""
    path = stack.config.secrets / "demo-credentials.json"
    if path.is_file() and {"partner", "national", "ars"} <= (known := dict(json.loads(path.read_text()))).keys():
        return known
    declarations = demo_declarations()
    departements = sorted({parse_finess(d["structure"]["finess"]).departement for d in declarations})
    domains = sorted({d["declarant"]["email"].rpartition("@")[2] for d in declarations})
    partner = stack.credential(
        "--kind",
        "partner",
        "--name",
        "Éditeur de démonstration",
        *[f"--departement={d}" for d in departements],
        *[f"--mail-domain={d}" for d in domains],
    )
    national = stack.credential("--kind", "national", "--name", "CERT Santé (démonstration)")
    ars = stack.credential(
        "--kind", "ars", "--name", f"{REGIONS[DEMO_ARS_REGION].ars_name} (démonstration)", "--region", DEMO_ARS_REGION
    )
    tokens = {"partner": partner["secret"], "national": national["secret"], "ars": ars["secret"]}
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.write_text(json.dumps(tokens))
    path.chmod(0o600)
    return tokens


def _national_count(client: httpx.Client, statistics: str, national: dict[str, str], *, deadline: float) -> int:
    """The declarations counted so far, once the stats service knows CERT Santé's credential (it
    learns of credentials from the declaration service's events, a moment after they are made)."""
    while True:
        answer = client.get(statistics, params={"group_by": "region"}, headers=national)
        if answer.status_code == 200 or time.monotonic() > deadline:
            answer.raise_for_status()
            return int(answer.json()["total"])
        time.sleep(0.5)


def run_demo(stack: Stack, *, timeout: float = 90.0) -> bool:
    config = stack.config
    api = config.service_url("declaration")
    tokens = demo_credentials(stack)
    accepted: list[dict[str, Any]] = []
    _print(f"\nPosting {len(demo_declarations())} declarations to {api}/v1/declarations …")
    partner = {"Authorization": f"Bearer {tokens['partner']}"}
    # Exact figures are CERT Santé's to read (the public reads what it published).
    national = {"Authorization": f"Bearer {tokens['national']}"}
    with httpx.Client(timeout=10, headers=partner) as client:
        statistics = f"{config.service_url('stats')}/v1/stats"
        counted_before = _national_count(client, statistics, national, deadline=time.monotonic() + timeout)
        for payload in demo_declarations():
            response = client.post(f"{api}/v1/declarations", json=payload)
            response.raise_for_status()
            body = response.json()
            accepted.append(body)
            _print(f"  202 {body['reference']}  {payload['structure']['name']}")

        _print("\nFollowing them through enrichment and notification …")
        deadline = time.monotonic() + timeout
        states: dict[str, dict[str, Any]] = {}
        while time.monotonic() < deadline:
            states = {a["id"]: client.get(f"{api}/v1/declarations/{a['id']}").json() for a in accepted}
            if all(state["status"] == "notified" for state in states.values()):
                break
            time.sleep(0.5)

        _print_states(states)

        received = client.get(f"http://127.0.0.1:{config.receiver_port}/hooks").json()
        _print("\nWhat the stand-in agencies received (signatures verified):")
        for code in sorted(received):
            latest = ", ".join(received[code][-5:])
            _print(f"  {code:<10} {len(received[code]):>3} notification(s): {latest}")

        mail = sorted((config.state / "mail").glob("*.eml"))
        _print(f"\nE-mails received by the stand-in mail server (STARTTLS, authenticated): {len(mail)}")
        _print(f"  alert desks, CERT Santé and acknowledgements to declarants, in {config.state / 'mail'}/")

        # The statistics follow on their own consumer: the figures shown count these declarations.
        while True:
            stats = client.get(statistics, params={"group_by": "region"}, headers=national).json()
            if stats["total"] >= counted_before + len(accepted) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        _print(f"\nNational statistics as CERT Santé reads them, by region ({stats['total']} declarations in all):")
        for group in stats["groups"]:
            _print(f"  {group['key']:>3} {REGIONS[group['key']].name:<28} {group['count']:>4}")

    ok = all(state["status"] == "notified" for state in states.values())
    verdict = "Every declaration reached its ARS and CERT Santé." if ok else "Some declarations are not notified yet."
    _print_next_steps(stack, verdict, accepted[0])
    return ok


def _print_next_steps(stack: Stack, verdict: str, first: dict[str, Any]) -> None:
    config = stack.config
    api = config.service_url("declaration")
    _print(
        f"""
{verdict}

How an ARS signs in to its dashboard (its own region's exact figures):
  1. open {config.service_url("stats")}/connexion
  2. paste the secret of its credential; the demo's {REGIONS[DEMO_ARS_REGION].ars_name} one is
       python3 -c 'import json, sys; print(json.load(sys.stdin)["ars"])' < {config.secrets}/demo-credentials.json
     (CERT Santé signs in the same way with "national", and sees all of France.)
  Without signing in, the dashboard shows what CERT Santé published: a year's figures, once it
  has ended (POST {config.service_url("stats")}/v1/stats/publications/<year> with a national credential).

Where to look next:
  API and its documentation   {api}/docs
  national dashboard          {config.service_url("stats")}/tableau-de-bord
  statistics                  {config.service_url("stats")}/v1/stats?group_by=region,category
  service logs (JSON)         {config.logs}/
  one declaration's trace     .state/tools/bin/uv run vigie-stack trace {first["reference"]}
                              or Zipkin, {config.zipkin_url}/zipkin/ with the tag
                              vigie.declaration.reference={first["reference"]}
  metrics (Prometheus)        {api}/metrics (and each service's), with the operators' token:
                              Authorization: Bearer $(cat {config.secrets}/metrics.token)
  one declaration, as CERT Santé (the demo's credentials are in {config.secrets}):
    TOKEN=$(python3 -c 'import json, sys; print(json.load(sys.stdin)["national"])' \\
            < {config.secrets}/demo-credentials.json)
    curl -s -H "Authorization: Bearer $TOKEN" {api}/v1/declarations/{first["id"]}
  your own credentials        .state/tools/bin/uv run vigie-stack credentials create --help
  stop everything             make down   (data is kept; `make up` starts it again)
"""
    )


def _print_states(states: dict[str, dict[str, Any]]) -> None:
    _print()
    _print(f"  {'reference':<16} {'status':<9} {'département':<22} {'severity':<22} {'told':<38} threat context")
    for state in states.values():
        departement = state["departement"] or {}
        told = sorted({n["recipient"]["code"] for n in state["notifications"] if n["outcome"] == "sent"})
        place = f"{departement.get('code', '?')} {departement.get('name', '')}"
        severity = state.get("severity") or {}
        grade = " + ".join(k for k in ("grave", "significatif") if severity.get(k)) or "—"
        context = state.get("threat_context") or {}
        attack = ",".join(t["id"] for t in context.get("classification", {}).get("attack", []))
        matched = len(context.get("matches", []))
        _print(
            f"  {state['reference']:<16} {state['status']:<9} {place:<22} {grade:<22} {', '.join(told):<38}"
            f" {attack or '—'}; {matched} intel match(es)"
        )
