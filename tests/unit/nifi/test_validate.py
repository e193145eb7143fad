"""nifi_flows/validate.py: every shipped flow passes; broken flows fail with the fix named."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import pytest

from nifi_flows import flowgen
from nifi_flows.stateless import prune_bundles
from nifi_flows.validate import (
    FLOWS_DIR,
    FlowValidationError,
    check_flow,
    jdbc_tls_problem,
    load_environments,
    validate_all,
    validate_environment,
    validate_flow,
    validate_tls,
)

pytestmark = pytest.mark.unit

ENVS = load_environments()
SHIPPED = sorted(FLOWS_DIR.glob("*.json"))


def _flow(stem: str) -> dict:
    return json.loads((FLOWS_DIR / f"{stem}.json").read_text())


def _problems(flow: dict) -> str:
    return "\n".join(validate_flow(flow, name="x.json", environments=ENVS))


def _check(flow: dict) -> None:
    check_flow(flow, name="x.json", environments=ENVS)


def _erp_pool(flow: dict) -> dict:
    services = flow["flowContents"]["controllerServices"]
    return next(s for s in services if s["name"] == "ERP database")


def test_environments_are_local_test_prod() -> None:
    assert [e.name for e in ENVS] == ["local", "prod", "test"]


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_every_shipped_flow_is_valid(path: Path) -> None:
    assert validate_flow(json.loads(path.read_text()), name=path.name, environments=ENVS) == []


def test_whole_tree_is_valid() -> None:
    assert validate_all() == []


def test_generated_flows_are_committed_and_current() -> None:
    for stem, text in flowgen.build_all().items():
        assert (FLOWS_DIR / f"{stem}.json").read_text() == text, (
            f"{stem}.json is stale: run .venv/bin/python -m nifi_flows.flowgen"
        )


def test_missing_parameter_is_reported_with_fix() -> None:
    flow = _flow("erp_payments_db")
    ctx = flow["parameterContexts"]["ERP payments"]
    ctx["parameters"] = [p for p in ctx["parameters"] if p["name"] != "erp.db.url"]
    with pytest.raises(
        FlowValidationError, match=r"references parameter #\{erp\.db\.url\}.*add it to the context"
    ):
        _check(flow)


def test_parameter_missing_in_an_environment_file_is_reported() -> None:
    envs = copy.deepcopy(ENVS)
    del envs[1].parameters["erp.db.url"]  # prod
    problems = validate_flow(_flow("erp_payments_db"), name="erp.json", environments=envs)
    assert problems == [
        "erp.json: parameter #{erp.db.url} is not defined in prod.json: "
        'add "erp.db.url" to "parameters"'
    ]


def test_hard_coded_secret_is_reported() -> None:
    flow = _flow("erp_payments_db")
    _erp_pool(flow)["properties"]["Password"] = "Sup3rS3cret!"
    with pytest.raises(
        FlowValidationError,
        match=r"'ERP database' property 'Password' has a hard-coded value.*sensitive parameter",
    ):
        _check(flow)


def test_credential_looking_value_is_reported() -> None:
    flow = _flow("erp_payments_db")
    url = "jdbc:postgresql://db/erp?user=x&password=hunter2"
    _erp_pool(flow)["properties"]["Database Connection URL"] = url
    with pytest.raises(FlowValidationError, match="looks like a password in a URL"):
        _check(flow)


def test_secret_literal_in_environment_file_is_reported() -> None:
    env = copy.deepcopy(ENVS[0])
    env.parameters["erp.db.password"] = "hunter2"
    assert any("looks secret but has a literal value" in p for p in validate_environment(env))


def test_structure_problems_name_the_fix() -> None:
    flow = _flow("hr_daily_sync")
    contents = flow["flowContents"]
    contents["connections"][0]["destination"]["id"] = "nope"
    contents["processors"][1]["identifier"] = contents["processors"][0]["identifier"]
    put = next(p for p in contents["processors"] if p["name"] == "Write to landing directory")
    put["autoTerminatedRelationships"] = []
    contents["processors"][0]["bundle"]["version"] = "2.7.2"
    text = _problems(flow)
    assert "is not a processor, port or funnel of its group" in text
    assert "is used twice" in text
    assert "relationship 'success' is neither connected nor auto-terminated" in text
    assert "set the bundle version to 2.3.0" in text


def test_dangling_controller_service_reference_is_reported() -> None:
    flow = _flow("erp_payments_db")
    flow["flowContents"]["controllerServices"] = [
        s for s in flow["flowContents"]["controllerServices"] if s["name"] != "NDJSON writer"
    ]
    assert "neither in the flow nor in externalControllerServices" in _problems(flow)


def test_pruned_directory_variant_stays_valid() -> None:
    for stem in ("cms_http_ingest", "erp_payments_db", "hr_daily_sync"):
        pruned = prune_bundles(_flow(stem), ["nifi-aws-nar"])
        assert not any(
            p["bundle"]["artifact"] == "nifi-aws-nar" for p in pruned["flowContents"]["processors"]
        )
        assert validate_flow(pruned, name=stem, environments=ENVS) == []


def test_cli_validate_exit_codes(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    import argparse

    import nifi_flows.validate as v
    from lakehouse.cli import flows

    parser = argparse.ArgumentParser(prog="lakehouse")
    flows.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["flows", "validate"])
    assert args.handler(args) == 0
    monkeypatch.setattr(
        v, "validate_all", lambda environment=None: ["x.json: something is wrong: fix it"]
    )
    assert args.handler(args) == 1
    assert "something is wrong" in capsys.readouterr().err


# --- TLS where the environment requires it (prod) --------------------------------------------


def _env(name: str):
    return next(e for e in ENVS if e.name == name)


def _listener(flow: dict) -> dict:
    return next(p for p in flow["flowContents"]["processors"] if p["type"].endswith("ListenHTTP"))


def _plain_http(flow: dict) -> dict:
    """The CMS flow as it was before TLS: no SSL context, no client authentication."""
    listen = _listener(flow)
    for prop in ("SSL Context Service", "client-authentication", "Authorized DN Pattern"):
        listen["properties"].pop(prop)
    contents = flow["flowContents"]
    contents["controllerServices"] = [
        s for s in contents["controllerServices"] if s is not _tls_service(flow)
    ]
    return flow


def _tls_service(flow: dict) -> dict:
    services = flow["flowContents"]["controllerServices"]
    return next(s for s in services if s["type"].endswith("SSLContextService"))


def test_prod_requires_tls_and_the_other_environments_do_not() -> None:
    assert {e.name: e.require_tls for e in ENVS} == {"local": False, "prod": True, "test": False}


def test_shipped_listener_has_tls_with_required_client_certificates() -> None:
    flow = _flow("cms_http_ingest")
    listen = _listener(flow)
    service = _tls_service(flow)
    assert listen["properties"]["SSL Context Service"] == service["identifier"]
    assert listen["properties"]["client-authentication"] == "REQUIRED"
    assert service["type"] == "org.apache.nifi.ssl.StandardRestrictedSSLContextService"
    assert validate_tls(flow, name="cms.json", env=_env("prod")) == []


def test_plain_http_listener_fails_in_prod_with_the_fix_named() -> None:
    flow = _plain_http(_flow("cms_http_ingest"))
    assert validate_tls(flow, name="cms.json", env=_env("prod")) == [
        "cms.json: [prod.json requires TLS] listener 'Receive CMS posts' accepts plain HTTP/TCP: "
        "set 'SSL Context Service' to a StandardRestrictedSSLContextService with a keystore and "
        "a truststore, and 'client-authentication' to REQUIRED"
    ]
    # local and test may run it on plain HTTP (the flow is otherwise valid there)
    local_and_test = [_env("local"), _env("test")]
    assert validate_flow(flow, name="cms.json", environments=local_and_test) == []


@pytest.mark.parametrize("auth", ["AUTO", "WANT", "NONE"])
def test_listener_without_required_client_certificates_fails_in_prod(auth: str) -> None:
    flow = _flow("cms_http_ingest")
    _listener(flow)["properties"]["client-authentication"] = auth
    problems = validate_tls(flow, name="cms.json", env=_env("prod"))
    assert problems == [
        "cms.json: [prod.json requires TLS] listener 'Receive CMS posts' does not require client "
        f"certificates (client-authentication={auth}): set 'client-authentication' to REQUIRED"
    ]


def test_listener_tls_without_truststore_or_dn_pattern_fails_in_prod() -> None:
    flow = _flow("cms_http_ingest")
    service = _tls_service(flow)
    del service["properties"]["Truststore Filename"]
    _listener(flow)["properties"]["Authorized DN Pattern"] = ".*"
    text = "\n".join(validate_tls(flow, name="cms.json", env=_env("prod")))
    assert "has no 'Truststore Filename'" in text
    assert "accepts any certificate its truststore's CAs issued" in text


def test_unknown_listener_type_is_not_waved_through_in_prod() -> None:
    flow = _flow("cms_http_ingest")
    _listener(flow)["type"] = "org.apache.nifi.processors.standard.ListenTCP"
    assert "is unknown to the TLS rule: add" in "\n".join(
        validate_tls(flow, name="cms.json", env=_env("prod"))
    )


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("jdbc:postgresql://db:5432/erp", False),
        ("jdbc:postgresql://db:5432/erp?sslmode=disable", False),
        ("jdbc:postgresql://db:5432/erp?sslmode=prefer&ApplicationName=x", False),
        ("jdbc:postgresql://db:5432/erp?sslmode=require", True),
        ("jdbc:postgresql://db/erp?sslmode=verify-ca&sslrootcert=/ca.crt", True),
        ("jdbc:postgresql://db/erp?sslrootcert=/ca.crt&sslmode=verify-full", True),
        ("jdbc:postgresql://db1,db2/erp?sslmode=VERIFY-FULL", True),
        ("jdbc:oracle:thin:@db:1521/erp", True),  # not PostgreSQL: not this rule's business
    ],
)
def test_jdbc_tls_problem(url: str, ok: bool) -> None:
    assert (jdbc_tls_problem(url) is None) is ok


def test_prod_jdbc_url_without_sslmode_is_reported_and_local_is_not() -> None:
    prod, local = copy.deepcopy(_env("prod")), copy.deepcopy(_env("local"))
    assert "sslmode=verify-full" in prod.parameters["erp.db.url"]
    assert validate_environment(prod) == []
    prod.parameters["erp.db.url"] = "jdbc:postgresql://erp-db.prod.internal:5432/erp"
    assert validate_environment(prod) == [
        "prod.json: [requires TLS] parameter 'erp.db.url' connects to PostgreSQL without TLS "
        "(no sslmode: add sslmode=verify-full&sslrootcert=<CA file of the database server> (or "
        "at least one of require, verify-ca, verify-full))"
    ]
    assert "sslmode" not in local.parameters["erp.db.url"]
    assert validate_environment(local) == []


def test_hard_coded_jdbc_url_without_tls_is_reported_in_prod() -> None:
    flow = _flow("erp_payments_db")
    _erp_pool(flow)["properties"]["Database Connection URL"] = "jdbc:postgresql://db/erp"
    assert "connects to PostgreSQL without TLS (no sslmode" in "\n".join(
        validate_tls(flow, name="erp.json", env=_env("prod"))
    )


def test_cli_validate_env_prod_fails_on_a_plain_listener(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    import argparse
    import functools

    import nifi_flows.validate as v
    from lakehouse.cli import flows

    flows_dir = tmp_path / "flows"
    shutil.copytree(FLOWS_DIR, flows_dir)
    plain = _plain_http(_flow("cms_http_ingest"))
    (flows_dir / "cms_http_ingest.json").write_text(json.dumps(plain))
    monkeypatch.setattr(v, "validate_all", functools.partial(validate_all, flows_dir))
    parser = argparse.ArgumentParser(prog="lakehouse")
    flows.register(parser.add_subparsers(dest="command"))

    prod = parser.parse_args(["flows", "validate", "--env", "prod"])
    assert prod.handler(prod) == 1
    err = capsys.readouterr().err
    assert "listener 'Receive CMS posts' accepts plain HTTP/TCP" in err
    assert len(err.strip().splitlines()) == 1
    local = parser.parse_args(["flows", "validate", "--env", "local"])
    assert local.handler(local) == 0
    unknown = parser.parse_args(["flows", "validate", "--env", "staging"])
    assert unknown.handler(unknown) == 1
    assert "no environment 'staging' (known: local, prod, test)" in capsys.readouterr().err
