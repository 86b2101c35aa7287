"""The recipients directory: complete, or refused at start-up with the gap named."""

import json
from pathlib import Path
from typing import Any

import pytest

from vigie_contracts.events import Channel, RecipientKind
from vigie_contracts.territory import REGIONS
from vigie_notification.domain.directory import InvalidDirectory, load_directory, save_directory

SECRET = "s" * 40


def directory(**overrides: Any) -> dict[str, Any]:
    def entry(code: str) -> dict[str, Any]:
        return {
            "code": code,
            "name": code.upper(),
            "webhook": {"url": f"https://{code}.example/hook", "secret": SECRET},
        }

    data = {
        "cert_sante": entry("cert-sante"),
        "ars": [entry(r.ars_code) for r in REGIONS.values()],
        "ministry": entry("hfds"),
    }
    data.update(overrides)
    return data


def write(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "recipients.json"
    path.write_text(json.dumps(data))
    return path


def test_every_declaration_goes_to_its_agency_cert_sante_and_the_hfds(tmp_path: Path) -> None:
    # Art. D1111-16-3 CSP and instruction SHFDS/FSSI/2023/78: every declaration, whatever it is.
    loaded = load_directory(write(tmp_path, directory()))
    recipients = loaded.recipients_for("ars-reu")
    assert [(r.kind, r.code) for r, _ in recipients] == [
        (RecipientKind.ars, "ars-reu"),
        (RecipientKind.cert_sante, "cert-sante"),
        (RecipientKind.ministry, "hfds"),
    ]
    assert all(entry.channels(email_enabled=True) == (Channel.webhook,) for _, entry in recipients)
    assert next(r.code for r, _ in loaded.recipients_for("ats-spm")) == "ats-spm"


def test_a_directory_without_the_hfds_is_refused(tmp_path: Path) -> None:
    data = directory()
    del data["ministry"]
    with pytest.raises(InvalidDirectory, match="ministry: Field required"):
        load_directory(write(tmp_path, data))
    data = directory(ministry={"code": "hfds", "name": "HFDS", "email": "fssi@sante.gouv.fr"})
    loaded = load_directory(write(tmp_path, data))
    with pytest.raises(InvalidDirectory, match=r"no usable channel for hfds \(e-mail is off"):
        loaded.check_reachable(email_enabled=False)


def test_an_email_only_agency_needs_an_smtp_server(tmp_path: Path) -> None:
    data = directory()
    data["ars"][0] = {"code": data["ars"][0]["code"], "name": "X", "email": "alerte@ars.example.fr"}
    loaded = load_directory(write(tmp_path, data))
    loaded.check_reachable(email_enabled=True)
    with pytest.raises(InvalidDirectory, match=r"no usable channel for ars-gua \(e-mail is off"):
        loaded.check_reachable(email_enabled=False)
    assert loaded.entry("ars-gua").channels(email_enabled=True) == (Channel.email,)


def test_saving_keeps_the_secrets_and_only_its_owner_reads_them(tmp_path: Path) -> None:
    loaded = load_directory(write(tmp_path, directory()))
    changed = loaded.replace(loaded.entry("ars-idf").model_copy(update={"email": "veille@ars-idf.example.fr"}))
    target = tmp_path / "saved" / "recipients.json"
    save_directory(target, changed)
    assert (target.stat().st_mode & 0o777) == 0o600
    again = load_directory(target)
    assert again.entry("ars-idf").email == "veille@ars-idf.example.fr"
    assert again.entry("ars-idf").webhook.secret.get_secret_value() == SECRET  # type: ignore[union-attr]


def test_a_missing_ars_is_refused_by_name(tmp_path: Path) -> None:
    data = directory()
    data["ars"] = [e for e in data["ars"] if e["code"] != "ars-may"]
    with pytest.raises(InvalidDirectory, match="no entry for ars-may"):
        load_directory(write(tmp_path, data))


def test_an_ars_without_any_channel_is_refused(tmp_path: Path) -> None:
    data = directory()
    data["ars"][0] = {"code": data["ars"][0]["code"], "name": "X"}
    with pytest.raises(InvalidDirectory, match="has no channel"):
        load_directory(write(tmp_path, data))


def test_duplicates_unknown_codes_and_short_secrets_are_refused(tmp_path: Path) -> None:
    data = directory()
    data["ars"].append(dict(data["ars"][0]))
    data["ars"].append({**data["ars"][1], "code": "ars-atlantis"})
    with pytest.raises(InvalidDirectory, match="unknown ARS ars-atlantis; several entries for"):
        load_directory(write(tmp_path, data))
    weak = directory()
    weak["cert_sante"]["webhook"]["secret"] = "short"
    with pytest.raises(InvalidDirectory, match="secret: a signing secret has at least 32") as refused:
        load_directory(write(tmp_path, weak))
    assert "short" not in str(refused.value)


def test_a_missing_or_malformed_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidDirectory, match="does not exist"):
        load_directory(tmp_path / "absent.json")
    (tmp_path / "recipients.json").write_text("{not json")
    with pytest.raises(InvalidDirectory, match="is not JSON"):
        load_directory(tmp_path / "recipients.json")
