"""nifi_flows/deploy.py against a fake NiFi 2 REST API: the right calls, and idempotency.

A real NiFi 2 cannot be assembled here (docs/nifi_flows.md), so these tests pin the requests
to NiFi's documented endpoints and payloads through nipyapi's own client, and prove that a
second deploy of unchanged flows makes no write call at all.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from nifi_flows.deploy import (
    DeployError,
    NiFiTarget,
    deploy,
    flow_status,
    stop_flows,
    target_from_env,
)
from nifi_flows.validate import FLOWS_DIR, PARAMETERS_DIR
from tests.unit.nifi.fake_nifi import FakeNiFi

pytestmark = pytest.mark.unit

SECRETS = {
    "LAKEHOUSE_NIFI_PARAM_ERP_DB_PASSWORD": "erp-pw",
    "LAKEHOUSE_NIFI_PARAM_ECTS_MQTT_PASSWORD": "mqtt-pw",
    "LAKEHOUSE_NIFI_PARAM_LANDING_S3_ACCESS_KEY": "access",
    "LAKEHOUSE_NIFI_PARAM_LANDING_S3_SECRET_KEY": "secret",
    "LAKEHOUSE_NIFI_PARAM_CMS_HTTP_TLS_KEYSTORE_PASSWORD": "keystore-pw",
    "LAKEHOUSE_NIFI_PARAM_CMS_HTTP_TLS_TRUSTSTORE_PASSWORD": "truststore-pw",
}


@pytest.fixture()
def nifi() -> Iterator[FakeNiFi]:
    fake = FakeNiFi().start()
    yield fake
    fake.stop()


@pytest.fixture()
def flows_dir(tmp_path: Path) -> Path:
    target = tmp_path / "flows"
    shutil.copytree(FLOWS_DIR, target)
    return target


def test_deploy_imports_enables_starts_then_is_idempotent(nifi: FakeNiFi, flows_dir: Path) -> None:
    target = NiFiTarget(nifi.url)
    first = deploy(target, "prod", flows_dir=flows_dir, env=SECRETS)
    n = len(list(flows_dir.glob("*.json")))
    assert len(first) == n
    assert {r["flow_action"] for r in first} == {"imported"}
    assert {r["parameters_action"] for r in first} == {"created"}
    assert {r["start_action"] for r in first} == {"started"}
    erp = next(r for r in first if r["flow"] == "erp_payments_db")
    assert erp["services_action"] == "enabled"
    assert all(pg["running"] and not pg["stopped"] for pg in nifi.groups.values())
    assert all(st == "ENABLED" for pg in nifi.groups.values() for st in pg["services"].values())

    # Secrets came from the environment, as sensitive parameters; no secret in any flow upload.
    ctx = next(c for c in nifi.contexts.values() if c["name"] == "ERP payments")
    assert ctx["parameters"]["erp.db.password"] == {
        "name": "erp.db.password",
        "value": "erp-pw",
        "sensitive": True,
        "description": ctx["parameters"]["erp.db.password"]["description"],
    }
    assert ctx["parameters"]["landing.sink"]["value"] == "s3"
    uploads = [b for m, p, b in nifi.bodies if p.endswith("/process-groups/upload")]
    assert len(uploads) == n and all(b"erp-pw" not in u["file"] for u in uploads)

    before = len(nifi.writes())
    second = deploy(target, "prod", flows_dir=flows_dir, env=SECRETS)
    assert nifi.writes()[before:] == [], "a second deploy of unchanged flows must not write"
    assert {r["flow_action"] for r in second} == {"unchanged"}
    assert {r["parameters_action"] for r in second} == {"unchanged"}
    assert {r["start_action"] for r in second} == {"unchanged"}


def test_changed_flow_is_replaced_in_place_and_hash_recorded(
    nifi: FakeNiFi, flows_dir: Path
) -> None:
    target = NiFiTarget(nifi.url)
    deploy(target, "test", flows_dir=flows_dir, env=SECRETS, start=False)
    path = flows_dir / "hr_daily_sync.json"
    flow = json.loads(path.read_text())
    flow["flowContents"]["processors"][0]["comments"] = "changed"
    path.write_text(json.dumps(flow))

    before = len(nifi.writes())
    result = deploy(target, "test", flows_dir=flows_dir, env=SECRETS, start=False)
    actions = {r["flow"]: r["flow_action"] for r in result}
    assert actions.pop("hr_daily_sync") == "upgraded"
    assert set(actions.values()) == {"unchanged"}
    pg_id = next(r["process_group_id"] for r in result if r["flow"] == "hr_daily_sync")
    assert [w for w in nifi.writes()[before:]] == [
        ("POST", f"/process-groups/{pg_id}/replace-requests"),
        ("DELETE", "/process-groups/replace-requests/repl-1"),
        ("PUT", f"/process-groups/{pg_id}"),
    ]
    # The recorded hash makes the next deploy a no-op again.
    before = len(nifi.writes())
    deploy(target, "test", flows_dir=flows_dir, env=SECRETS, start=False)
    assert nifi.writes()[before:] == []


def test_parameter_change_updates_context_through_update_request(
    nifi: FakeNiFi, flows_dir: Path, tmp_path: Path
) -> None:
    params = tmp_path / "parameters"
    shutil.copytree(PARAMETERS_DIR, params)
    target = NiFiTarget(nifi.url)
    deploy(
        target,
        "local",
        flows_dir=flows_dir,
        parameters_dir=params,
        env=SECRETS,
        flows=["erp_payments_db"],
    )
    doc = json.loads((params / "local.json").read_text())
    doc["parameters"]["erp.poll.interval"] = "2 min"
    (params / "local.json").write_text(json.dumps(doc))
    before = len(nifi.writes())
    result = deploy(
        target,
        "local",
        flows_dir=flows_dir,
        parameters_dir=params,
        env=SECRETS,
        flows=["erp_payments_db"],
    )
    assert result[0]["parameters_action"] == "updated"
    cid = next(iter(nifi.contexts))
    assert nifi.writes()[before:] == [
        ("POST", f"/parameter-contexts/{cid}/update-requests"),
        ("DELETE", f"/parameter-contexts/{cid}/update-requests/upd-1"),
    ]
    assert nifi.contexts[cid]["parameters"]["erp.poll.interval"]["value"] == "2 min"


def test_status_and_stop(nifi: FakeNiFi, flows_dir: Path) -> None:
    target = NiFiTarget(nifi.url)
    assert {s["deployed"] for s in flow_status(target, flows_dir=flows_dir)} == {False}
    deploy(target, "local", flows_dir=flows_dir, env=SECRETS, flows=["hr_daily_sync"])
    status = {s["flow"]: s for s in flow_status(target, flows_dir=flows_dir)}
    assert status["hr_daily_sync"]["deployed"] and status["hr_daily_sync"]["up_to_date"]
    assert status["hr_daily_sync"]["running"] > 0
    stopped = stop_flows(target, flows_dir=flows_dir, flows=["hr_daily_sync"])
    assert stopped[0]["action"] == "stopped"
    assert (
        stop_flows(target, flows_dir=flows_dir, flows=["hr_daily_sync"])[0]["action"] == "unchanged"
    )


def test_inputs_are_checked_before_any_call(nifi: FakeNiFi, flows_dir: Path) -> None:
    with pytest.raises(DeployError, match="NiFi URL is required: set LAKEHOUSE_NIFI_URL"):
        target_from_env({})
    with pytest.raises(DeployError, match="LAKEHOUSE_NIFI_PASSWORD"):
        target_from_env({"LAKEHOUSE_NIFI_URL": "https://nifi:8443", "LAKEHOUSE_NIFI_USERNAME": "u"})
    assert (
        target_from_env({"LAKEHOUSE_NIFI_URL": "https://nifi:8443/"}).url
        == "https://nifi:8443/nifi-api"
    )
    target = NiFiTarget(nifi.url)
    with pytest.raises(DeployError, match="set LAKEHOUSE_NIFI_PARAM_ERP_DB_PASSWORD"):
        deploy(target, "prod", flows_dir=flows_dir, env={})
    with pytest.raises(
        DeployError, match="unknown environment 'staging': use one of local, prod, test"
    ):
        deploy(target, "staging", flows_dir=flows_dir, env=SECRETS)
    with pytest.raises(DeployError, match="unknown flow 'nope'"):
        deploy(target, "prod", flows_dir=flows_dir, env=SECRETS, flows=["nope"])
    assert nifi.requests == []


def test_unreachable_nifi_is_one_line_naming_the_url_and_the_fix(flows_dir: Path) -> None:
    from tests.services import free_port

    url = f"http://127.0.0.1:{free_port()}/nifi-api"  # nothing listens there
    with pytest.raises(DeployError) as err:
        flow_status(NiFiTarget(url), flows_dir=flows_dir)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(f"cannot reach NiFi at {url} to read the root process group:")
    assert "check LAKEHOUSE_NIFI_URL" in message


def test_cli_flows_status_unreachable_exits_2_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    from lakehouse.cli.main import main
    from tests.services import free_port

    monkeypatch.setenv("LAKEHOUSE_NIFI_URL", f"http://127.0.0.1:{free_port()}")
    assert main(["flows", "status"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert "cannot reach NiFi at http://127.0.0.1:" in err


def test_refused_request_is_one_line_with_status(nifi: FakeNiFi, flows_dir: Path) -> None:
    # The fake answers 404 for anything it does not know, like a URL that is no NiFi API.
    target = NiFiTarget(nifi.url.replace("/nifi-api", "/not-nifi/nifi-api"))
    with pytest.raises(DeployError, match=r"^NiFi at .* refused to read the root process group: "):
        flow_status(target, flows_dir=flows_dir)
