"""The demo: a few declarations posted through the API, followed until every agency was told."""

import time
from typing import Any

import httpx

from vigie_contracts.territory import REGIONS

from .config import StackConfig
from .samples import demo_declarations


def _print(*parts: object) -> None:
    print(*parts, flush=True)  # noqa: T201 - the demo speaks to the terminal


def run_demo(config: StackConfig, *, timeout: float = 90.0) -> bool:
    api = config.service_url("declaration")
    accepted: list[dict[str, Any]] = []
    _print(f"\nPosting {len(demo_declarations())} declarations to {api}/v1/declarations …")
    with httpx.Client(timeout=10) as client:
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
            states = {
                a["id"]: client.get(f"{api}/v1/declarations/{a['id']}").json() for a in accepted
            }
            if all(state["status"] == "notified" for state in states.values()):
                break
            time.sleep(0.5)

        _print()
        _print(f"  {'reference':<16} {'status':<9} {'département':<22} {'told':<40}")
        for state in states.values():
            departement = state["departement"] or {}
            told = sorted(
                {n["recipient"]["code"] for n in state["notifications"] if n["outcome"] == "sent"}
            )
            place = f"{departement.get('code', '?')} {departement.get('name', '')}"
            _print(
                f"  {state['reference']:<16} {state['status']:<9} {place:<22} {', '.join(told):<40}"
            )

        received = client.get(f"http://127.0.0.1:{config.receiver_port}/hooks").json()
        _print("\nWhat the stand-in agencies received (signatures verified):")
        for code in sorted(received):
            latest = ", ".join(received[code][-5:])
            _print(f"  {code:<10} {len(received[code]):>3} notification(s): {latest}")

        stats = client.get(
            f"{config.service_url('stats')}/v1/stats", params={"group_by": "region"}
        ).json()
        _print(f"\nNational statistics, by region ({stats['total']} declarations in all):")
        for group in stats["groups"]:
            _print(f"  {group['key']:>3} {REGIONS[group['key']].name:<28} {group['count']:>4}")

    ok = all(state["status"] == "notified" for state in states.values())
    verdict = (
        "Every declaration reached its ARS and CERT Santé."
        if ok
        else "Some declarations are not notified yet."
    )
    _print(
        f"""
{verdict}

Where to look next:
  API and its documentation   {api}/docs
  one declaration             {api}/v1/declarations/{accepted[0]["id"]}
  statistics                  {config.service_url("stats")}/v1/stats?group_by=category
  service logs (JSON)         {config.logs}/
  stop everything             make down   (data is kept; `make up` starts it again)
"""
    )
    return ok
