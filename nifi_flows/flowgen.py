"""Generate the lakehouse's NiFi 2 flow-definition JSON files from one Python description.

Why generated: six flows share the same landing tail (hash, name by convention, choose the
directory or S3 sink) and the same tagging attributes. Written by hand, every copy would drift;
generated, a fix lands in all of them. The output is ordinary NiFi 2 "Download flow definition"
JSON (``nifi_flows/flows/*.json``, committed), so NiFi, NiFi Stateless and reviewers read the
files, never this module. Identifiers are UUIDv5 of the flow key and the component name, so a
re-generation is byte-identical unless the description changed (a unit test checks that the
committed files are up to date)::

    .venv/bin/python -m nifi_flows.flowgen          # rewrite nifi_flows/flows/*.json

Property names are the names (not display names) of NiFi 2.3.0's components, read from the
2.3.0 jars (standard, dbcp, record-serialization); MQTT and AWS names come from NiFi 2.x
sources because those NARs are not on the Maven mirror reachable here (see docs/nifi_flows.md).

The pre-existing ``cms_edifact_filedrop.json`` is hand-written and not produced here.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "FLOWS",
    "FLOWS_DIR",
    "NIFI_VERSION",
    "PARAMETERS",
    "ParameterSpec",
    "build_all",
    "main",
    "write_all",
]

NIFI_VERSION = "2.3.0"
FLOWS_DIR = Path(__file__).resolve().parent / "flows"
_NAMESPACE = uuid.UUID("5b0c3f2e-8d0e-4c55-9a57-3d6f1f0b7a11")
_PARAM_RE = re.compile(r"#\{([^}]+)\}")


def _bundle(artifact: str) -> dict[str, str]:
    return {"group": "org.apache.nifi", "artifact": artifact, "version": NIFI_VERSION}


STANDARD = _bundle("nifi-standard-nar")
UPDATE_ATTRIBUTE = _bundle("nifi-update-attribute-nar")
DBCP = _bundle("nifi-dbcp-service-nar")
RECORD = _bundle("nifi-record-serialization-services-nar")
SERVICES_API = _bundle("nifi-standard-services-api-nar")
MQTT = _bundle("nifi-mqtt-nar")
AWS = _bundle("nifi-aws-nar")
AWS_SERVICE_API = _bundle("nifi-aws-service-api-nar")
SSL_CONTEXT = _bundle("nifi-ssl-context-service-nar")


@dataclass(frozen=True)
class ParameterSpec:
    """A parameter the flows may reference: description, flow-JSON default, sensitivity."""

    description: str
    default: str | None = None
    sensitive: bool = False


PARAMETERS: dict[str, ParameterSpec] = {
    # Landing sink (shared by every ingestion flow)
    "landing.sink": ParameterSpec("'directory' (PutFile) or 's3' (PutS3Object).", "directory"),
    "landing.directory": ParameterSpec(
        "Absolute path of <lake>/landing (no trailing slash); used when landing.sink=directory.",
        "/data/lake/landing",
    ),
    "landing.s3.bucket": ParameterSpec("S3 bucket of the lake (landing.sink=s3).", "customs-lake"),
    "landing.s3.prefix": ParameterSpec(
        "Key prefix of <lake>/landing inside the bucket, no slashes at the ends.", "prod/landing"
    ),
    "landing.s3.region": ParameterSpec("AWS region of the bucket.", "us-east-1"),
    "landing.s3.endpoint": ParameterSpec(
        "S3 endpoint override (S3-compatible stores); empty for AWS.", ""
    ),
    "landing.s3.access.key": ParameterSpec(
        "S3 access key id (sensitive: from LAKEHOUSE_NIFI_PARAM_LANDING_S3_ACCESS_KEY).",
        sensitive=True,
    ),
    "landing.s3.secret.key": ParameterSpec(
        "S3 secret key (sensitive: from LAKEHOUSE_NIFI_PARAM_LANDING_S3_SECRET_KEY).",
        sensitive=True,
    ),
    # CMS over HTTPS (TLS with client certificates)
    "cms.http.port": ParameterSpec("Port ListenHTTP listens on for CMS posts.", "8081"),
    "cms.http.base.path": ParameterSpec(
        "URL path CMS posts to (https://<nifi>:<port>/<path>).", "cms/declarations"
    ),
    "cms.http.tls.keystore.path": ParameterSpec(
        "Keystore of the listener: its private key and certificate chain.",
        "/etc/customs-lakehouse/tls/cms-listener.p12",
    ),
    "cms.http.tls.keystore.type": ParameterSpec("PKCS12, JKS or BCFKS.", "PKCS12"),
    "cms.http.tls.keystore.password": ParameterSpec(
        "Keystore (and key) password "
        "(sensitive: from LAKEHOUSE_NIFI_PARAM_CMS_HTTP_TLS_KEYSTORE_PASSWORD).",
        sensitive=True,
    ),
    "cms.http.tls.truststore.path": ParameterSpec(
        "Truststore holding only the CA(s) that issue the CMS client certificates.",
        "/etc/customs-lakehouse/tls/cms-clients-ca.p12",
    ),
    "cms.http.tls.truststore.type": ParameterSpec("PKCS12, JKS or BCFKS.", "PKCS12"),
    "cms.http.tls.truststore.password": ParameterSpec(
        "Truststore password "
        "(sensitive: from LAKEHOUSE_NIFI_PARAM_CMS_HTTP_TLS_TRUSTSTORE_PASSWORD).",
        sensitive=True,
    ),
    "cms.http.client.dn.pattern": ParameterSpec(
        "Regex the client certificate's subject DN must match (others get 403): the CMS "
        "senders only, never .* in prod.",
        "CN=cms-sender(,.*)?",
    ),
    # ECTS over MQTT
    "ects.mqtt.broker.uri": ParameterSpec(
        "MQTT broker, e.g. tcp://broker:1883.", "tcp://ects-broker:1883"
    ),
    "ects.mqtt.topic.filter": ParameterSpec("Topic filter of GPS/e-seal events.", "ects/+/events"),
    "ects.mqtt.client.id": ParameterSpec("MQTT client id of this NiFi consumer.", "lakehouse-nifi"),
    "ects.mqtt.username": ParameterSpec("MQTT user name.", "lakehouse"),
    "ects.mqtt.password": ParameterSpec(
        "MQTT password (sensitive: from LAKEHOUSE_NIFI_PARAM_ECTS_MQTT_PASSWORD).", sensitive=True
    ),
    "ects.batch.max.events": ParameterSpec("Most events per landed ECTS file.", "5000"),
    "ects.batch.max.age": ParameterSpec("Longest time an event waits for its file.", "1 min"),
    # ERP database
    "erp.db.url": ParameterSpec(
        "JDBC URL of the ERP database.", "jdbc:postgresql://erp-db:5432/erp"
    ),
    "erp.db.user": ParameterSpec(
        "ERP database user (read-only on the payments table).", "lakehouse_ro"
    ),
    "erp.db.password": ParameterSpec(
        "ERP database password (sensitive: from LAKEHOUSE_NIFI_PARAM_ERP_DB_PASSWORD).",
        sensitive=True,
    ),
    "erp.db.driver.location": ParameterSpec(
        "Path of the PostgreSQL JDBC driver jar on the NiFi hosts.",
        "/opt/nifi/drivers/postgresql-42.7.14.jar",
    ),
    "erp.payments.table": ParameterSpec(
        "Table (or view) with the payments and a monotonically increasing erp_seq column.",
        "payments",
    ),
    "erp.poll.interval": ParameterSpec("How often the payments table is polled.", "5 min"),
    # HR export
    "hr.export.directory": ParameterSpec(
        "Directory where HR writes its daily NDJSON export; files are removed once landed.",
        "/data/hr/export",
    ),
    "hr.sync.cron": ParameterSpec(
        "Quartz cron of the daily HR sync (NiFi CRON_DRIVEN).", "0 30 2 * * ?"
    ),
    # Score export
    "scores.outbound.directory": ParameterSpec(
        "<lake>/outbound/scores: the nightly risk-score files, manifest and checksums.",
        "/data/lake/outbound/scores",
    ),
    "scores.sent.directory": ParameterSpec(
        "Where exported score files are moved after the copy (the outbound archive).",
        "/data/lake/outbound/scores-sent",
    ),
    "scores.cms.drop.directory": ParameterSpec(
        "CMS inbound file drop for risk scores.", "/data/cms/inbound/scores"
    ),
    "scores.export.cron": ParameterSpec("Quartz cron of the nightly export.", "0 0 4 * * ?"),
}


def _uuid(*parts: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, "/".join(parts)))


_PROCESSOR_DEFAULTS: dict[str, Any] = {
    "propertyDescriptors": {},
    "style": {},
    "schedulingPeriod": "0 sec",
    "schedulingStrategy": "TIMER_DRIVEN",
    "executionNode": "ALL",
    "penaltyDuration": "30 sec",
    "yieldDuration": "1 sec",
    "bulletinLevel": "WARN",
    "runDurationMillis": 0,
    "concurrentlySchedulableTaskCount": 1,
    "scheduledState": "ENABLED",
    "retryCount": 10,
    "retriedRelationships": [],
    "backoffMechanism": "PENALIZE_FLOWFILE",
    "maxBackoffPeriod": "10 mins",
    "componentType": "PROCESSOR",
}


@dataclass
class _Flow:
    key: str
    name: str
    comments: str
    processors: list[dict[str, Any]] = field(default_factory=list)
    services: list[dict[str, Any]] = field(default_factory=list)
    connections: list[dict[str, Any]] = field(default_factory=list)
    ports: list[dict[str, Any]] = field(default_factory=list)
    _y: int = 0

    @property
    def group_id(self) -> str:
        return _uuid(self.key, "group")

    def processor(
        self,
        name: str,
        type_: str,
        bundle: Mapping[str, str],
        properties: Mapping[str, str],
        *,
        comments: str = "",
        auto_terminate: Iterable[str] = (),
        scheduling: tuple[str, str] | None = None,
        services: Mapping[str, str] | None = None,
        sensitive: Iterable[str] = (),
        x: int = 0,
    ) -> str:
        ident = _uuid(self.key, "processor", name)
        descriptors: dict[str, Any] = {}
        for prop in services or {}:
            descriptors[prop] = {
                "name": prop,
                "displayName": prop,
                "identifiesControllerService": True,
                "sensitive": False,
                "dynamic": False,
            }
        for prop in sensitive:
            descriptors[prop] = {
                "name": prop,
                "displayName": prop,
                "identifiesControllerService": False,
                "sensitive": True,
                "dynamic": False,
            }
        props = dict(properties)
        props.update(services or {})
        proc = {
            "identifier": ident,
            "instanceIdentifier": _uuid(self.key, "processor", name, "instance"),
            "name": name,
            "comments": comments,
            "position": {"x": x, "y": self._y},
            "type": type_,
            "bundle": dict(bundle),
            "properties": props,
            **_PROCESSOR_DEFAULTS,
            "propertyDescriptors": descriptors,
            "autoTerminatedRelationships": sorted(auto_terminate),
            "groupIdentifier": self.group_id,
        }
        if scheduling is not None:
            proc["schedulingStrategy"], proc["schedulingPeriod"] = scheduling
        self._y += 200
        self.processors.append(proc)
        return ident

    def service(
        self,
        name: str,
        type_: str,
        bundle: Mapping[str, str],
        api: tuple[str, Mapping[str, str]],
        properties: Mapping[str, str],
        *,
        sensitive: Iterable[str] = (),
        comments: str = "",
        extra_apis: Iterable[tuple[str, Mapping[str, str]]] = (),
    ) -> str:
        ident = _uuid(self.key, "service", name)
        self.services.append(
            {
                "identifier": ident,
                "instanceIdentifier": _uuid(self.key, "service", name, "instance"),
                "name": name,
                "comments": comments,
                "type": type_,
                "bundle": dict(bundle),
                "properties": dict(properties),
                "propertyDescriptors": {
                    p: {
                        "name": p,
                        "displayName": p,
                        "identifiesControllerService": False,
                        "sensitive": True,
                        "dynamic": False,
                    }
                    for p in sensitive
                },
                "controllerServiceApis": [
                    {"type": t, "bundle": dict(b)} for t, b in (api, *extra_apis)
                ],
                "scheduledState": "ENABLED",
                "bulletinLevel": "WARN",
                "componentType": "CONTROLLER_SERVICE",
                "groupIdentifier": self.group_id,
            }
        )
        return ident

    def failure_port(self) -> str:
        ident = _uuid(self.key, "port", "failure")
        if not any(p["identifier"] == ident for p in self.ports):
            self.ports.append(
                {
                    "identifier": ident,
                    "instanceIdentifier": _uuid(self.key, "port", "failure", "instance"),
                    "name": "failure",
                    "comments": (
                        "Failure port: under Stateless anything routed here fails and rolls back "
                        "the whole invocation (sources stay untouched). In a full NiFi the queue "
                        "in front of it is the dead letter: connect it to alerting."
                    ),
                    "position": {"x": 700, "y": 600},
                    "type": "OUTPUT_PORT",
                    "concurrentlySchedulableTaskCount": 1,
                    "scheduledState": "ENABLED",
                    "allowRemoteAccess": False,
                    "portFunction": "FAILURE",
                    "componentType": "OUTPUT_PORT",
                    "groupIdentifier": self.group_id,
                }
            )
        return ident

    def _ref(self, ident: str) -> dict[str, str]:
        for proc in self.processors:
            if proc["identifier"] == ident:
                return {
                    "id": ident,
                    "type": "PROCESSOR",
                    "groupId": self.group_id,
                    "name": proc["name"],
                }
        for port in self.ports:
            if port["identifier"] == ident:
                return {
                    "id": ident,
                    "type": "OUTPUT_PORT",
                    "groupId": self.group_id,
                    "name": port["name"],
                }
        raise KeyError(ident)

    def connect(self, source: str, destination: str, *relationships: str) -> None:
        src, dst = self._ref(source), self._ref(destination)
        key = f"{src['name']}->{dst['name']}:{','.join(relationships)}"
        self.connections.append(
            {
                "identifier": _uuid(self.key, "connection", key),
                "instanceIdentifier": _uuid(self.key, "connection", key, "instance"),
                "name": "",
                "source": src,
                "destination": dst,
                "labelIndex": 1,
                "zIndex": 0,
                "selectedRelationships": sorted(relationships),
                "backPressureObjectThreshold": 10000,
                "backPressureDataSizeThreshold": "1 GB",
                "flowFileExpiration": "0 sec",
                "prioritizers": [],
                "bends": [],
                "loadBalanceStrategy": "DO_NOT_LOAD_BALANCE",
                "partitioningAttribute": "",
                "loadBalanceCompression": "DO_NOT_COMPRESS",
                "componentType": "CONNECTION",
                "groupIdentifier": self.group_id,
            }
        )

    def to_failure(self, source: str, *relationships: str) -> None:
        self.connect(source, self.failure_port(), *relationships)

    def definition(self) -> dict[str, Any]:
        refs: set[str] = set()
        for comp in [*self.processors, *self.services]:
            for value in [*comp["properties"].values(), comp.get("schedulingPeriod")]:
                refs.update(_PARAM_RE.findall(value or ""))
        unknown = sorted(refs - set(PARAMETERS))
        if unknown:
            raise ValueError(f"{self.key}: parameters without a PARAMETERS entry: {unknown}")
        params = []
        for name in sorted(refs):
            spec = PARAMETERS[name]
            param: dict[str, Any] = {
                "name": name,
                "description": spec.description,
                "sensitive": spec.sensitive,
                "provided": False,
            }
            if not spec.sensitive:  # NiFi never exports sensitive values
                param["value"] = spec.default
            params.append(param)
        return {
            "flowContents": {
                "identifier": self.group_id,
                "instanceIdentifier": _uuid(self.key, "group", "instance"),
                "name": self.name,
                "comments": self.comments,
                "position": {"x": 0, "y": 0},
                "processGroups": [],
                "remoteProcessGroups": [],
                "processors": self.processors,
                "inputPorts": [],
                "outputPorts": self.ports,
                "connections": self.connections,
                "labels": [],
                "funnels": [],
                "controllerServices": self.services,
                "parameterContextName": self.name,
                "defaultFlowFileExpiration": "0 sec",
                "defaultBackPressureObjectThreshold": 10000,
                "defaultBackPressureDataSizeThreshold": "1 GB",
                "scheduledState": "ENABLED",
                "executionEngine": "INHERITED",
                "maxConcurrentTasks": 1,
                "statelessFlowTimeout": "1 min",
                "flowFileConcurrency": "UNBOUNDED",
                "flowFileOutboundPolicy": "STREAM_WHEN_AVAILABLE",
                "componentType": "PROCESS_GROUP",
            },
            "externalControllerServices": {},
            "parameterContexts": {
                self.name: {
                    "name": self.name,
                    "description": f"Parameters of the '{self.name}' flow (lakehouse).",
                    "parameters": params,
                    "inheritedParameterContexts": [],
                    "componentType": "PARAMETER_CONTEXT",
                }
            },
            "parameterProviders": {},
            "flowEncodingVersion": "1.0",
            "latest": False,
        }


# ---------------------------------------------------------------------------------------------
# Building blocks
# ---------------------------------------------------------------------------------------------

RECEIVED_AT = '${now():format("yyyyMMdd\'T\'HHmmss", "GMT")}'
LANDING_DAY = (
    '${lakehouse.received_at:toDate("yyyyMMdd\'T\'HHmmss", "GMT"):format("yyyy-MM-dd", "GMT")}'
)


def _tag(flow: _Flow, name: str, system: str, feed: str, fmt: str, ext: str, source: str) -> str:
    """UpdateAttribute: source system, feed, format, extension, received time, source detail."""
    return flow.processor(
        name,
        "org.apache.nifi.processors.attributes.UpdateAttribute",
        UPDATE_ATTRIBUTE,
        {
            "Store State": "Do not store state",
            "canonical-value-lookup-cache-size": "100",
            "lakehouse.system": system,
            "lakehouse.feed": feed,
            "lakehouse.format": fmt,
            "lakehouse.ext": ext,
            "lakehouse.received_at": RECEIVED_AT,
            "lakehouse.source": source,
        },
        comments=(
            "received_at is the single clock reading of a file: its landing name and landing "
            "day both derive from it, so they cannot disagree across midnight."
        ),
    )


def _landing_tail(flow: _Flow, upstream: Iterable[tuple[str, str]]) -> None:
    """hash -> name by convention -> route on #{landing.sink} -> PutFile | PutS3Object."""
    hash_ = flow.processor(
        "SHA-256 of content",
        "org.apache.nifi.processors.standard.CryptographicHashContent",
        STANDARD,
        {"hash_algorithm": "SHA-256", "fail_when_empty": "false"},
        comments="Writes content_SHA-256. Empty content is landed as-is (bronze judges content).",
    )
    for source, relationship in upstream:
        flow.connect(source, hash_, relationship)
    flow.to_failure(hash_, "failure")
    name = flow.processor(
        "Name per landing convention",
        "org.apache.nifi.processors.attributes.UpdateAttribute",
        UPDATE_ATTRIBUTE,
        {
            "Store State": "Do not store state",
            "canonical-value-lookup-cache-size": "100",
            "lakehouse.sha256": "${'content_SHA-256'}",
            "filename": (
                "${lakehouse.system}_${lakehouse.feed}_${lakehouse.received_at}_"
                "${'content_SHA-256':substring(0, 12)}.${lakehouse.ext}"
            ),
            "lakehouse.sink": "#{landing.sink}",
            "lakehouse.landing_key": (f"${{lakehouse.system}}/${{lakehouse.feed}}/{LANDING_DAY}"),
        },
        comments=(
            "lakehouse/landing.py: <landing>/<system>/<feed>/<yyyy-mm-dd>/"
            "<system>_<feed>_<yyyymmddThhmmss>_<sha256[:12]>.<ext>"
        ),
    )
    flow.connect(hash_, name, "success")
    route = flow.processor(
        "Choose landing sink",
        "org.apache.nifi.processors.standard.RouteOnAttribute",
        STANDARD,
        {
            "Routing Strategy": "Route to Property name",
            "directory": "${lakehouse.sink:equals('directory')}",
            "s3": "${lakehouse.sink:equals('s3')}",
        },
        comments="landing.sink picks the sink per environment; an unknown value fails the run.",
    )
    flow.connect(name, route, "success")
    flow.to_failure(route, "unmatched")
    put_file = flow.processor(
        "Write to landing directory",
        "org.apache.nifi.processors.standard.PutFile",
        STANDARD,
        {
            "Directory": "#{landing.directory}/${lakehouse.landing_key}",
            "Conflict Resolution Strategy": "ignore",
            "Create Missing Directories": "true",
        },
        comments=(
            "Landed files are immutable: a name clash means same second and same SHA-256 "
            "prefix, i.e. the same bytes, so it is ignored. PutFile writes a dot-file and "
            "renames it, and bronze skips dot-files, so readers never see half a file."
        ),
        auto_terminate=["success"],
        x=-350,
    )
    flow.connect(route, put_file, "directory")
    flow.to_failure(put_file, "failure")
    credentials = flow.service(
        "Landing S3 credentials",
        "org.apache.nifi.processors.aws.credentials.provider.service.AWSCredentialsProviderControllerService",
        AWS,
        (
            "org.apache.nifi.processors.aws.credentials.provider.AwsCredentialsProviderService",
            AWS_SERVICE_API,
        ),
        {
            "Access Key": "#{landing.s3.access.key}",
            "Secret Key": "#{landing.s3.secret.key}",
        },
        sensitive=["Access Key", "Secret Key"],
        comments="Keys come from sensitive parameters, set at deploy time from the environment.",
    )
    put_s3 = flow.processor(
        "Write to landing S3",
        "org.apache.nifi.processors.aws.s3.PutS3Object",
        AWS,
        {
            "Bucket": "#{landing.s3.bucket}",
            "Object Key": "#{landing.s3.prefix}/${lakehouse.landing_key}/${filename}",
            "Region": "#{landing.s3.region}",
            "Endpoint Override URL": "#{landing.s3.endpoint}",
            "use-path-style-access": "true",
            "Content Type": "application/octet-stream",
            "Storage Class": "Standard",
        },
        services={"AWS Credentials Provider service": credentials},
        comments=(
            "Production sink (landing.sink=s3). Needs nifi-aws-nar 2.3.0, which the Maven mirror "
            "used in development lacks: validated structurally, never run here."
        ),
        auto_terminate=["success"],
        x=350,
    )
    flow.connect(route, put_s3, "s3")
    flow.to_failure(put_s3, "failure")


# ---------------------------------------------------------------------------------------------
# The flows
# ---------------------------------------------------------------------------------------------


def _content_type_contains(word: str) -> str:
    """EL: true when the posted content type (mime.type or the Content-Type header) has word."""
    header = "${'Content-Type':toLower():contains('" + word + "')}"
    return "${mime.type:toLower():contains('" + word + "'):or(" + header + ")}"


def _listener_tls(flow: _Flow) -> str:
    """The TLS context of an HTTP listener: server keystore plus the client CAs' truststore.

    Why the restricted service: it offers only TLS 1.2/1.3, so no older protocol can be
    configured by mistake. The service reference cannot be a parameter in NiFi, hence TLS in
    every environment (tests and developers use throw-away certificates).
    """
    return flow.service(
        "CMS listener TLS",
        "org.apache.nifi.ssl.StandardRestrictedSSLContextService",
        SSL_CONTEXT,
        ("org.apache.nifi.ssl.RestrictedSSLContextService", SERVICES_API),
        {
            "Keystore Filename": "#{cms.http.tls.keystore.path}",
            "Keystore Type": "#{cms.http.tls.keystore.type}",
            "Keystore Password": "#{cms.http.tls.keystore.password}",
            "Truststore Filename": "#{cms.http.tls.truststore.path}",
            "Truststore Type": "#{cms.http.tls.truststore.type}",
            "Truststore Password": "#{cms.http.tls.truststore.password}",
            "SSL Protocol": "TLS",
        },
        sensitive=["Keystore Password", "Truststore Password"],
        extra_apis=[
            ("org.apache.nifi.ssl.SSLContextService", SERVICES_API),
            ("org.apache.nifi.ssl.SSLContextProvider", SERVICES_API),
        ],
        comments="Passwords come from sensitive parameters, set from the environment.",
    )


def cms_http() -> dict[str, Any]:
    """CMS declarations/responses posted over HTTP as WCO XML or NDJSON."""
    flow = _Flow(
        "cms_http_ingest",
        "CMS HTTP declarations",
        "Lands WCO XML declarations (Content-Type */xml) and NDJSON declarations "
        "(Content-Type application/json or application/x-ndjson) that CMS POSTs to "
        "https://<nifi>:#{cms.http.port}/#{cms.http.base.path}. TLS with client certificates "
        "is required: only clients whose certificate chains to the truststore and whose subject "
        "DN matches #{cms.http.client.dn.pattern} get in. ListenHTTP answers 200 only after "
        "the FlowFile is committed. Other content types fail to the failure port.",
    )
    tls = _listener_tls(flow)
    listen = flow.processor(
        "Receive CMS posts",
        "org.apache.nifi.processors.standard.ListenHTTP",
        STANDARD,
        {
            "Base Path": "#{cms.http.base.path}",
            "Listening Port": "#{cms.http.port}",
            "Return Code": "200",
            "HTTP Headers to receive as Attributes (Regex)": "(?i)X-Lakehouse-.*|Content-Type",
            "Max Unconfirmed Flowfile Time": "60 secs",
            "client-authentication": "REQUIRED",
            "Authorized DN Pattern": "#{cms.http.client.dn.pattern}",
        },
        services={"SSL Context Service": tls},
        comments=(
            "HTTPS only, client certificate REQUIRED. Listens while the flow runs: on a full NiFi "
            "always; under NiFi Stateless only in the launcher's keep-triggering mode (see "
            "docs/nifi_flows.md)."
        ),
    )
    route = flow.processor(
        "Route by content type",
        "org.apache.nifi.processors.standard.RouteOnAttribute",
        STANDARD,
        {
            "Routing Strategy": "Route to Property name",
            # ListenHTTP passes the Content-Type header as an attribute of that name; other
            # sources set mime.type. Either decides.
            "xml": _content_type_contains("xml"),
            "json": _content_type_contains("json"),
        },
    )
    flow.connect(listen, route, "success")
    flow.to_failure(route, "unmatched")
    xml = _tag(flow, "Tag CMS XML", "cms", "xml", "xml", "xml", "http:${mime.type}")
    js = _tag(flow, "Tag CMS JSON", "cms", "json", "json", "ndjson", "http:${mime.type}")
    flow.connect(route, xml, "xml")
    flow.connect(route, js, "json")
    _landing_tail(flow, [(xml, "success"), (js, "success")])
    return flow.definition()


def ects_mqtt() -> dict[str, Any]:
    """ECTS GPS and e-seal events from MQTT, batched into NDJSON files."""
    flow = _Flow(
        "ects_mqtt_events",
        "ECTS MQTT events",
        "Consumes ECTS GPS/e-seal events (one JSON object per MQTT message) and batches them "
        "into NDJSON files of at most #{ects.batch.max.events} events or #{ects.batch.max.age} "
        "of waiting. Needs nifi-mqtt-nar 2.3.0 (not on the development mirror: never run here).",
    )
    consume = flow.processor(
        "Consume ECTS events",
        "org.apache.nifi.processors.mqtt.ConsumeMQTT",
        MQTT,
        {
            "Broker URI": "#{ects.mqtt.broker.uri}",
            "Client ID": "#{ects.mqtt.client.id}",
            "Topic Filter": "#{ects.mqtt.topic.filter}",
            "Quality of Service(QoS)": "1",
            "Max Queue Size": "10000",
            "Username": "#{ects.mqtt.username}",
            "Password": "#{ects.mqtt.password}",
        },
        sensitive=["Password"],
        comments="QoS 1: at least once; bronze drops duplicate event ids downstream.",
    )
    merge = flow.processor(
        "Batch events into NDJSON",
        "org.apache.nifi.processors.standard.MergeContent",
        STANDARD,
        {
            "Merge Strategy": "Bin-Packing Algorithm",
            "Merge Format": "Binary Concatenation",
            "Attribute Strategy": "Keep Only Common Attributes",
            "Minimum Number of Entries": "1",
            "Maximum Number of Entries": "#{ects.batch.max.events}",
            "Max Bin Age": "#{ects.batch.max.age}",
            "Maximum number of Bins": "5",
            "Delimiter Strategy": "Text",
            "Demarcator File": "\n",
            "Footer File": "\n",
        },
        auto_terminate=["original"],
        comments="Newline between and after events: the landed file is NDJSON.",
    )
    flow.connect(consume, merge, "Message")
    flow.to_failure(merge, "failure")
    tag = _tag(
        flow,
        "Tag ECTS events",
        "ects",
        "events",
        "json",
        "ndjson",
        "mqtt:#{ects.mqtt.topic.filter}",
    )
    flow.connect(merge, tag, "merged")
    _landing_tail(flow, [(tag, "success")])
    return flow.definition()


ERP_QUERY = (
    "SELECT erp_seq, payment_id, kind, declaration_ref, tax_type, amount::text AS amount, "
    "currency, method, payment_reference, to_char(value_date, 'YYYY-MM-DD') AS value_date, "
    "to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') AS recorded_at "
    "FROM #{erp.payments.table}"
)


def erp_payments() -> dict[str, Any]:
    """ERP payments read incrementally (erp_seq watermark) into NDJSON."""
    flow = _Flow(
        "erp_payments_db",
        "ERP payments",
        "Reads new rows of the ERP payments table every #{erp.poll.interval} "
        "(QueryDatabaseTableRecord, maximum-value column erp_seq, kept in NiFi state) and lands "
        "them as NDJSON with the field names of bronze.erp_payments. amount and the dates are "
        "rendered as strings in SQL so no binary rounding or time-zone shift can occur.",
    )
    pool = flow.service(
        "ERP database",
        "org.apache.nifi.dbcp.DBCPConnectionPool",
        DBCP,
        ("org.apache.nifi.dbcp.DBCPService", SERVICES_API),
        {
            "Database Connection URL": "#{erp.db.url}",
            "Database Driver Class Name": "org.postgresql.Driver",
            "database-driver-locations": "#{erp.db.driver.location}",
            "Database User": "#{erp.db.user}",
            "Password": "#{erp.db.password}",
            "Max Total Connections": "2",
            "Validation-query": "SELECT 1",
        },
        sensitive=["Password"],
    )
    writer = flow.service(
        "NDJSON writer",
        "org.apache.nifi.json.JsonRecordSetWriter",
        RECORD,
        ("org.apache.nifi.serialization.RecordSetWriterFactory", SERVICES_API),
        {
            "Schema Write Strategy": "no-schema",
            "schema-access-strategy": "inherit-record-schema",
            "Pretty Print JSON": "false",
            "suppress-nulls": "never-suppress",
            "output-grouping": "output-oneline",
            "compression-format": "none",
        },
    )
    query = flow.processor(
        "Query new payments",
        "org.apache.nifi.processors.standard.QueryDatabaseTableRecord",
        STANDARD,
        {
            "db-fetch-db-type": "PostgreSQL",
            "Table Name": "erp_payments",
            "db-fetch-sql-query": ERP_QUERY,
            "Maximum-value Columns": "erp_seq",
            "initial-load-strategy": "Start at Beginning",
            "qdbt-max-rows": "0",
            "qdbt-output-batch-size": "0",
            "Fetch Size": "1000",
            "Set Auto Commit": "false",
            "qdbtr-normalize": "false",
        },
        services={
            "Database Connection Pooling Service": pool,
            "qdbtr-record-writer": writer,
        },
        scheduling=("TIMER_DRIVEN", "#{erp.poll.interval}"),
        comments=(
            "erp_seq (bigserial in the ERP) is the watermark: timestamps tie and commit late. "
            "Rows land with erp_seq as an extra field, which bronze ignores."
        ),
    )
    tag = _tag(
        flow, "Tag ERP payments", "erp", "payments", "json", "ndjson", "jdbc:#{erp.payments.table}"
    )
    flow.connect(query, tag, "success")
    _landing_tail(flow, [(tag, "success")])
    return flow.definition()


def hr_daily() -> dict[str, Any]:
    """HR daily sync: the NDJSON export directory, polled by a CRON_DRIVEN ListFile."""
    flow = _Flow(
        "hr_daily_sync",
        "HR daily sync",
        "Once a day (#{hr.sync.cron}) lands every NDJSON file of the HR export directory "
        "(officers, postings, shifts; record_type picks the bronze table) and removes it from "
        "the export once the run has committed.",
    )
    listing = flow.processor(
        "List HR export",
        "org.apache.nifi.processors.standard.ListFile",
        STANDARD,
        {
            "Input Directory": "#{hr.export.directory}",
            "listing-strategy": "timestamps",
            "Recurse Subdirectories": "false",
            "Input Directory Location": "Local",
            "File Filter": "[^\\.].*\\.ndjson",
            "Include File Attributes": "false",
            "Minimum File Age": "0 sec",
            "Minimum File Size": "0 B",
            "Ignore Hidden Files": "true",
        },
        scheduling=("CRON_DRIVEN", "#{hr.sync.cron}"),
        comments="Daily, CRON_DRIVEN. FetchFile deletes each file only when the run commits.",
    )
    fetch = flow.processor(
        "Fetch and remove from export",
        "org.apache.nifi.processors.standard.FetchFile",
        STANDARD,
        {
            "File to Fetch": "${absolute.path}/${filename}",
            "Completion Strategy": "Delete File",
            "Move Conflict Strategy": "Rename",
            "Log level when file not found": "ERROR",
            "Log level when permission denied": "ERROR",
        },
    )
    flow.connect(listing, fetch, "success")
    flow.to_failure(fetch, "failure", "not.found", "permission.denied")
    tag = _tag(flow, "Tag HR records", "hr", "records", "json", "ndjson", "file:${filename}")
    flow.connect(fetch, tag, "success")
    _landing_tail(flow, [(tag, "success")])
    return flow.definition()


def scores_export() -> dict[str, Any]:
    """Nightly risk-score export from <lake>/outbound/scores to the CMS drop."""
    flow = _Flow(
        "scores_export",
        "Score export to CMS",
        "Nightly (#{scores.export.cron}) copies every file of <lake>/outbound/scores (score "
        "files, their manifest and .sha256 checksum files, byte for byte) into the CMS drop, "
        "then moves the originals to #{scores.sent.directory}. CMS must read the manifest and "
        "verify the checksums before it loads.",
    )
    listing = flow.processor(
        "List outbound scores",
        "org.apache.nifi.processors.standard.ListFile",
        STANDARD,
        {
            "Input Directory": "#{scores.outbound.directory}",
            "listing-strategy": "timestamps",
            "Recurse Subdirectories": "false",
            "Input Directory Location": "Local",
            "File Filter": "[^\\.].*",
            "Include File Attributes": "false",
            "Minimum File Age": "0 sec",
            "Minimum File Size": "0 B",
            "Ignore Hidden Files": "true",
        },
        scheduling=("CRON_DRIVEN", "#{scores.export.cron}"),
    )
    fetch = flow.processor(
        "Fetch and archive",
        "org.apache.nifi.processors.standard.FetchFile",
        STANDARD,
        {
            "File to Fetch": "${absolute.path}/${filename}",
            "Completion Strategy": "Move File",
            "Move Destination Directory": "#{scores.sent.directory}",
            "Move Conflict Strategy": "Replace File",
            "Log level when file not found": "ERROR",
            "Log level when permission denied": "ERROR",
        },
        comments="The move happens only when the run commits, so a failed copy is retried.",
    )
    flow.connect(listing, fetch, "success")
    flow.to_failure(fetch, "failure", "not.found", "permission.denied")
    tag = flow.processor(
        "Tag export",
        "org.apache.nifi.processors.attributes.UpdateAttribute",
        UPDATE_ATTRIBUTE,
        {
            "Store State": "Do not store state",
            "canonical-value-lookup-cache-size": "100",
            "lakehouse.system": "lakehouse",
            "lakehouse.feed": "scores",
            "lakehouse.exported_at": RECEIVED_AT,
        },
    )
    flow.connect(fetch, tag, "success")
    put = flow.processor(
        "Write to CMS drop",
        "org.apache.nifi.processors.standard.PutFile",
        STANDARD,
        {
            "Directory": "#{scores.cms.drop.directory}",
            "Conflict Resolution Strategy": "fail",
            "Create Missing Directories": "true",
        },
        auto_terminate=["success"],
        comments=(
            "Never overwrites a file CMS has not consumed yet: a clash fails the run, which "
            "rolls back and leaves the outbound files in place."
        ),
    )
    flow.connect(tag, put, "success")
    flow.to_failure(put, "failure")
    return flow.definition()


FLOWS: dict[str, Callable[[], dict[str, Any]]] = {
    "cms_http_ingest": cms_http,
    "ects_mqtt_events": ects_mqtt,
    "erp_payments_db": erp_payments,
    "hr_daily_sync": hr_daily,
    "scores_export": scores_export,
}
"""Generated flows by file stem (``nifi_flows/flows/<stem>.json``)."""


def render(definition: Mapping[str, Any]) -> str:
    """The JSON text as committed: 2-space indent, trailing newline."""
    return json.dumps(definition, indent=2, ensure_ascii=False) + "\n"


def build_all() -> dict[str, str]:
    """Every generated flow as its committed JSON text, by file stem."""
    return {stem: render(build()) for stem, build in FLOWS.items()}


def write_all(directory: Path = FLOWS_DIR) -> list[Path]:
    """Write the generated flows; returns the paths whose content changed."""
    changed = []
    for stem, text in build_all().items():
        path = directory / f"{stem}.json"
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            changed.append(path)
    return changed


def main() -> int:
    """Regenerate nifi_flows/flows/*.json and print what changed."""
    changed = write_all()
    for path in changed:
        print(f"wrote {path}")
    if not changed:
        print("flows are up to date")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
