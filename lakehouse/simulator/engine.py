"""Drives a simulated day: declarations in time order, streamed into landed files.

Memory stays flat whatever the volume: a declaration lives only until the file batches that
reference it are written (at most ``messages_per_interchange`` declarations per open batch),
and the ground truth goes out in Parquet row groups. Later messages about a declaration
(amendments, resent duplicates) are queued on the batch that carries the original and only
released once that batch has landed, so they always land in a later file.

Every random draw comes from ``random.Random`` streams seeded from ``seed`` and a fixed
label, and every timestamp from the simulated day, so two runs with the same parameters write
byte-identical files.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from lakehouse.landing import FEEDS, landed_name, landed_path
from lakehouse.simulator import edifact, ndjson, quirks
from lakehouse.simulator.ects import trip_events
from lakehouse.simulator.model import DAY_SECONDS, Clock, Declaration, DeclarationFactory
from lakehouse.simulator.reference import Picker, ReferenceData, build_reference
from lakehouse.simulator.wco_xml import XML_MALFORMATIONS, declaration_xml
from lakehouse.simulator.writer import LocalWriter, Writer

DEFAULT_DAY = date(2026, 11, 24)
JSON_BATCH = 500
INSPECTION_BATCH = 1000
PAYMENT_BATCH = 2000
ECTS_BATCH = 20_000
CARGO_SHARE = 0.05  # of sea declarations that appear in a CUSCAR consignment
CONSIGNMENTS_PER_CUSCAR = 25
CUSCAR_PER_INTERCHANGE = 10
GROUND_TRUTH_ROW_GROUP = 20_000
# Malformations that a lenient parser loads (with control_issues) instead of quarantining.
FLAGGED_NOT_QUARANTINED = {"wrong_unt_count"}
# A UTF-8 curly quote in a UNOC interchange is only a defect when the interchange is not UTF-8
# as a whole; when it is, the parser reads it as UTF-8 (a deviation real senders make) and
# flags it in control_issues in every mode. The simulator re-labels such plants (_flush_edi).
UTF8_IN_UNOC = "utf8_interchange_declared_unoc"
NEVER_QUARANTINED = {UTF8_IN_UNOC}
_METHODS = (
    ("RTGS", 0.35),
    ("EFT", 0.25),
    ("MPESA", 0.25),
    ("BANK_DEPOSIT", 0.10),
    ("PREPAYMENT", 0.05),
)
_ALNUM = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"

_GT_SCHEMA = pa.schema(
    [
        ("lrn", pa.string()),
        ("mrn", pa.string()),
        ("format", pa.string()),
        ("issue_datetime", pa.timestamp("s", tz="UTC")),
        ("office_code", pa.string()),
        ("importer_id", pa.string()),
        ("declarant_id", pa.string()),
        ("channel", pa.string()),
        ("is_fraud", pa.bool_()),
        ("fraud_types", pa.string()),
        ("true_hs_code", pa.string()),
        ("declared_hs_code", pa.string()),
        ("true_value", pa.float64()),
        ("declared_value", pa.float64()),
        ("true_origin", pa.string()),
        ("declared_origin", pa.string()),
        ("inspected", pa.bool_()),
        ("inspection_result", pa.string()),
        ("additional_duty", pa.float64()),
        ("duty_evaded", pa.float64()),
        ("declared_duty", pa.float64()),
        ("n_items", pa.int32()),
        ("older_hs_version", pa.bool_()),
        ("transit", pa.bool_()),
        ("route_id", pa.string()),
        ("amendment_function", pa.string()),
        ("amended_value", pa.float64()),
        ("duplicated", pa.bool_()),
        ("malformed", pa.string()),
    ]
)


@dataclass
class SimulationSummary:
    """What a run wrote, and what ingestion should make of it.

    ``malformed[feed][kind]`` counts the defects planted per feed; ``expected_quarantine``
    is what a lenient parser should quarantine per feed (wrong UNT counts are loaded and
    flagged instead, see ``expected_control_issues``); ``expected_quarantine_strict`` adds them.
    Values in ``records`` are per feed and per message/record kind, malformed ones included.
    ``quirks[feed][kind]`` counts the real senders' quirks planted (valid input that bronze
    must load, see ``quirks.py``).
    """

    lake_root: str
    day: date
    seed: int
    declarations: int
    ground_truth_path: str
    files: dict[str, int] = field(default_factory=dict)
    records: dict[str, dict[str, int]] = field(default_factory=dict)
    malformed: dict[str, dict[str, int]] = field(default_factory=dict)
    expected_quarantine: dict[str, int] = field(default_factory=dict)
    expected_quarantine_strict: dict[str, int] = field(default_factory=dict)
    expected_control_issues: dict[str, int] = field(default_factory=dict)
    quirks: dict[str, dict[str, int]] = field(default_factory=dict)
    formats: dict[str, int] = field(default_factory=dict)
    fraud: dict[str, int] = field(default_factory=dict)
    amendments: int = 0
    duplicates: int = 0
    inspections: int = 0
    transit_trips: int = 0
    bytes_written: int = 0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (the day as ISO text)."""
        out = asdict(self)
        out["day"] = self.day.isoformat()
        return out


class _Batch:
    """An open file: its parts, latest content time and follow-ups waiting for it to land."""

    __slots__ = ("after", "deferred", "parts", "t_max", "truncated")

    def __init__(self) -> None:
        self.parts: list[Any] = []
        self.t_max = 0
        self.after = 0  # lands no earlier than this (originals of late messages)
        self.deferred: list[tuple[str, Declaration, Any]] = []
        self.truncated = False

    def add(self, part: Any, t: int) -> None:
        self.parts.append(part)
        if t > self.t_max:
            self.t_max = t


def _count(table: dict[str, dict[str, int]], feed: str, kind: str, n: int = 1) -> None:
    inner = table.setdefault(feed, {})
    inner[kind] = inner.get(kind, 0) + n


class _Run:
    """One simulated day (see :func:`generate`)."""

    def __init__(
        self,
        lake_root: str,
        writer: Writer,
        *,
        declarations: int,
        seed: int,
        day: date,
        malformed_rate: float,
        messages_per_interchange: int,
        progress: Callable[[int], None] | None,
        quirk_rate: float = 0.0,
    ) -> None:
        self.writer = writer
        self.n = declarations
        self.seed = seed
        self.day = day
        self.rate = malformed_rate
        self.mpi = messages_per_interchange
        self.progress = progress
        self.clock = Clock(day)
        self.ref: ReferenceData = build_reference(seed)
        self.rnd_model = random.Random(f"{seed}/declarations")
        self.rnd_render = random.Random(f"{seed}/render")
        self.rnd_files = random.Random(f"{seed}/files")
        self.rnd_ects = random.Random(f"{seed}/ects")
        self.rnd_erp = random.Random(f"{seed}/erp")
        self.quirk_rate = quirk_rate
        self.rnd_quirk = random.Random(f"{seed}/quirks")  # its own stream: rate 0 changes nothing
        self.factory = DeclarationFactory(
            self.ref, self.rnd_model, day, max(1, declarations), malformed_rate
        )
        self.edi_kinds = Picker(
            [k for k, _ in edifact.EDI_MALFORMATIONS], [w for _, w in edifact.EDI_MALFORMATIONS]
        )
        self.xml_kinds = Picker(
            [k for k, _ in XML_MALFORMATIONS], [w for _, w in XML_MALFORMATIONS]
        )
        self.json_kinds = Picker(
            [k for k, _ in ndjson.JSON_MALFORMATIONS], [w for _, w in ndjson.JSON_MALFORMATIONS]
        )
        self.methods = Picker([m for m, _ in _METHODS], [w for _, w in _METHODS])
        gt_rel = f"simulator/ground_truth/{day.isoformat()}/declarations.parquet"
        self.gt_rel = gt_rel
        self.summary = SimulationSummary(
            lake_root=lake_root,
            day=day,
            seed=seed,
            declarations=declarations,
            ground_truth_path=f"{lake_root.rstrip('/')}/{gt_rel}",
        )
        self.interchange_seq = 0
        self.payment_seq = 0
        self.cuscar_seq = 0
        # Open batches.
        self.edi_decl = _Batch()
        self.edi_late = _Batch()
        self.edi_res = _Batch()
        self.edi_cargo = _Batch()
        self.json_decl = _Batch()
        self.json_late = _Batch()
        self.inspections = _Batch()
        self.payments = _Batch()
        self.ects = _Batch()
        self.consignments: list[tuple] = []
        self.consignment_t = 0
        self.gt: dict[str, list[Any]] = {name: [] for name in _GT_SCHEMA.names}
        self.gt_sink = pa.BufferOutputStream()
        self.gt_writer = pq.ParquetWriter(self.gt_sink, _GT_SCHEMA, compression="zstd")

    # -- landing ---------------------------------------------------------------------------
    def land(self, feed_key: str, data: bytes, received: int) -> None:
        """Write one file at its landing-zone path, named after its content hash."""
        feed = FEEDS[feed_key]
        when = self.clock.datetime(received)
        name = landed_name(feed, when, hashlib.sha256(data).hexdigest())
        self.writer.write(landed_path("", feed, when, name).lstrip("/"), data)
        s = self.summary
        s.files[feed_key] = s.files.get(feed_key, 0) + 1
        s.bytes_written += len(data)

    def _quirk(self, feed_key: str, kinds: tuple[str, ...]) -> str | None:
        """Maybe pick a real senders' quirk to plant in the next message of ``feed_key``."""
        if self.quirk_rate <= 0 or self.rnd_quirk.random() >= self.quirk_rate:
            return None
        kind = kinds[self.rnd_quirk.randrange(len(kinds))]
        _count(self.summary.quirks, feed_key, kind)
        return kind

    def _received(self, batch: _Batch) -> int:
        return max(batch.t_max, batch.after) + self.rnd_files.randrange(5, 180)

    def _interchange_ref(self) -> str:
        self.interchange_seq += 1
        return f"{self.day:%y%m%d}{self.interchange_seq:08d}"

    def _flush_edi(self, batch: _Batch, sender: str, recipient: str) -> int:
        received = self._received(batch)
        data = edifact.interchange(
            self.clock,
            sender,
            recipient,
            received - 2,
            self._interchange_ref(),
            batch.parts,
            batch.truncated,
        )
        self._relabel_utf8_interchange(batch, data)
        self.land("cms/edifact", data, received)
        return received

    def _relabel_utf8_interchange(self, batch: _Batch, data: bytes) -> None:
        """UTF-8 bytes planted in an interchange that is valid UTF-8 as a whole are read as
        UTF-8 and flagged, not quarantined: count them as such (see ``UTF8_IN_UNOC``)."""
        planted = sum(isinstance(part, bytes) for part in batch.parts)
        if not planted:
            return
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return
        kinds = self.summary.malformed["cms/edifact"]
        kinds["bad_charset_bytes"] -= planted
        if not kinds["bad_charset_bytes"]:
            del kinds["bad_charset_bytes"]
        kinds[UTF8_IN_UNOC] = kinds.get(UTF8_IN_UNOC, 0) + planted

    def _flush_ndjson(self, feed_key: str, batch: _Batch) -> int:
        received = self._received(batch)
        self.land(feed_key, ("\n".join(batch.parts) + "\n").encode("utf-8"), received)
        return received

    # -- declarations ----------------------------------------------------------------------
    def _edi_declaration(self, d: Declaration) -> None:
        batch = self.edi_decl
        kind = None
        if d.malformed:
            kind = self.edi_kinds.pick(self.rnd_render)
            d.malformed = kind
            _count(self.summary.malformed, "cms/edifact", kind)
        msg = edifact.cusdec(d, self.clock, str(len(batch.parts) + 1), "9", kind, self.rnd_render)
        # A resent duplicate repeats its message as is, so quirks go to unique messages only.
        if (
            kind is None
            and not d.duplicate
            and self._quirk("cms/edifact", quirks.EDIFACT_DECLARATION_QUIRKS)
        ):
            msg = quirks.edifact_long_decimals(str(msg))
        batch.add(msg, d.t)
        if d.amend_function:
            batch.deferred.append(("amend", d, None))
        elif d.duplicate:
            batch.deferred.append(("dup", d, msg))
        if kind == "truncated_interchange":
            batch.truncated = True
            self._close_edi_decl()
        elif len(batch.parts) >= self.mpi:
            self._close_edi_decl()

    def _close_edi_decl(self) -> None:
        batch = self.edi_decl
        if not batch.parts:
            return
        received = self._flush_edi(batch, "KENTRADE", edifact.CMS_ID)
        self.edi_decl = _Batch()
        late = self.edi_late
        for what, d, msg in batch.deferred:
            late.after = max(late.after, received)
            if what == "amend":
                a = self.factory.amended(d)
                late.add(
                    edifact.cusdec(
                        a, self.clock, str(len(late.parts) + 1), d.amend_function or "4"
                    ),
                    a.t,
                )
            else:
                late.add(msg, received + 600)
            if len(late.parts) >= self.mpi:
                self._close_edi_late()

    def _close_edi_late(self) -> None:
        if self.edi_late.parts:
            self._flush_edi(self.edi_late, "KENTRADE", edifact.CMS_ID)
        self.edi_late = _Batch()

    def _xml_declaration(self, d: Declaration) -> None:
        kind = None
        if d.malformed:
            kind = self.xml_kinds.pick(self.rnd_render)
            d.malformed = kind
            _count(self.summary.malformed, "cms/xml", kind)
        data = declaration_xml(d, self.clock, "9", kind, self.rnd_render)
        quirk = None
        if kind is None and not d.duplicate:
            quirk = self._quirk("cms/xml", quirks.XML_DECLARATION_QUIRKS)
        if quirk == "long_decimals":
            data = quirks.xml_long_decimals(data)
        elif quirk == "wrapped":
            data = quirks.xml_wrapped(data)
        received = d.t + self.rnd_files.randrange(5, 180)
        self.land("cms/xml", data, received)
        if d.amend_function:
            a = self.factory.amended(d)
            self.land(
                "cms/xml",
                declaration_xml(a, self.clock, d.amend_function),
                a.t + self.rnd_files.randrange(5, 180),
            )
        elif d.duplicate:
            self.land("cms/xml", data, received + self.rnd_files.randrange(600, 7200))

    def _json_declaration(self, d: Declaration) -> None:
        batch = self.json_decl
        record = ndjson.declaration_record(d, self.clock, "9")
        if d.malformed:
            kind = self.json_kinds.pick(self.rnd_render)
            d.malformed = kind
            _count(self.summary.malformed, "cms/json", kind)
            line = ndjson.broken_line(record, kind, "lrn", "invoice_amount", self.rnd_render)
        else:
            if not d.duplicate and self._quirk("cms/json", quirks.JSON_DECLARATION_QUIRKS):
                record = quirks.json_long_decimals(record)
            line = ndjson.dumps(record)
        batch.add(line, d.t)
        if d.amend_function:
            batch.deferred.append(("amend", d, None))
        elif d.duplicate:
            batch.deferred.append(("dup", d, line))
        if len(batch.parts) >= JSON_BATCH:
            self._close_json_decl()

    def _close_json_decl(self) -> None:
        batch = self.json_decl
        if not batch.parts:
            return
        received = self._flush_ndjson("cms/json", batch)
        self.json_decl = _Batch()
        late = self.json_late
        for what, d, line in batch.deferred:
            late.after = max(late.after, received)
            if what == "amend":
                a = self.factory.amended(d)
                late.add(
                    ndjson.dumps(ndjson.declaration_record(a, self.clock, d.amend_function or "4")),
                    a.t,
                )
            else:
                late.add(line, received + 600)
            if len(late.parts) >= JSON_BATCH:
                self._flush_ndjson("cms/json", late)
                self.json_late = late = _Batch()

    # -- follow-up traffic -----------------------------------------------------------------
    def _respond(self, d: Declaration) -> None:
        batch = self.edi_res
        clock = self.clock
        responses: list[tuple[int, str, float, float, tuple[str, str] | None]] = []
        if d.inspected:
            responses.append((d.t + 120 + d.idx % 600, "4", d.total_duty, d.total_vat, None))
            responses.append((d.t_release, "3", d.total_duty + d.additional, d.total_vat, None))
        else:
            responses.append((d.t_release, "3", d.total_duty, d.total_vat, None))
        if d.amend_function:
            a = self.factory.amended(d)
            responses.append((d.amend_t + 180, "1", a.total_duty, a.total_vat, None))
        if d.duplicate:
            responses.append(
                (
                    d.t + 3600,
                    "2",
                    0.0,
                    0.0,
                    ("DUP", "Duplicate LRN?: declaration already registered"),
                )
            )
        for t, status, duty, vat, error in responses:
            if self._quirk("cms/xml", ("xml_notification",)):
                data = quirks.notification_xml(clock, d, t, status, duty, vat, error)
                self.land("cms/xml", data, t + self.rnd_quirk.randrange(5, 180))
                _count(self.summary.records, "cms/xml", "notification")
                continue
            batch.add(
                edifact.cusres(clock, str(len(batch.parts) + 1), d, t, status, duty, vat, error), t
            )
            _count(self.summary.records, "cms/edifact", "CUSRES")
            if len(batch.parts) >= self.mpi:
                self._flush_edi(batch, edifact.CMS_ID, "KENTRADE")
                self.edi_res = batch = _Batch()

    def _cargo(self, d: Declaration) -> None:
        if d.mode != "1" or d.route is not None or self.rnd_render.random() >= CARGO_SHARE:
            return
        rnd = self.rnd_render
        carrier = self.ref.carriers[rnd.randrange(len(self.ref.carriers))]
        goods = [
            (it.code[:6], it.packages or 1, it.gross or it.net, it.tariff.description_edi)
            for it in d.items[:3]
        ]
        self.consignments.append(
            (
                f"{carrier[0]}{rnd.randrange(10**8, 10**9)}",
                edifact.container_id(carrier[0], rnd.randrange(10**6)),
                f"SL{rnd.randrange(10**7, 10**8)}",
                d.exporter,
                d.importer,
                goods,
            )
        )
        if len(self.consignments) == 1:
            self.consignment_t = d.t
        if len(self.consignments) >= CONSIGNMENTS_PER_CUSCAR:
            self._close_cuscar()

    def _close_cuscar(self) -> None:
        if not self.consignments:
            return
        rnd = self.rnd_render
        self.cuscar_seq += 1
        carrier_code = self.ref.carriers[rnd.randrange(len(self.ref.carriers))][0]
        vessel = self.ref.vessels[rnd.randrange(len(self.ref.vessels))]
        country = self.consignments[0][3].country
        loading = self.ref.loading_ports.get(country, "AEJEA")
        t = max(0, self.consignment_t - rnd.randrange(2 * 3600, 5 * 3600))
        batch = self.edi_cargo
        message = edifact.cuscar(
            self.clock,
            str(len(batch.parts) + 1),
            f"{self.day:%y}MBA{self.cuscar_seq:06d}",
            t,
            f"{vessel.split()[0][:4]}{rnd.randrange(100, 999)}W",
            carrier_code,
            loading,
            self.consignments,
        )
        if self._quirk("cms/edifact", ("empty_message_type",)):
            message = quirks.edifact_empty_message_type(message)
        batch.add(message, t)
        _count(self.summary.records, "cms/edifact", "CUSCAR")
        self.consignments = []
        if len(batch.parts) >= CUSCAR_PER_INTERCHANGE:
            self._flush_edi(batch, f"{carrier_code}KE", edifact.CMS_ID)
            self.edi_cargo = _Batch()

    def _ndjson_line(
        self,
        feed_key: str,
        batch: _Batch,
        record: dict[str, Any],
        t: int,
        key: str,
        decimal_key: str | None,
        kind_label: str,
    ) -> None:
        _count(self.summary.records, feed_key, kind_label)
        if self.rate and self.rnd_render.random() < self.rate:
            kind = self.json_kinds.pick(self.rnd_render)
            _count(self.summary.malformed, feed_key, kind)
            batch.add(ndjson.broken_line(record, kind, key, decimal_key, self.rnd_render), t)
        else:
            batch.add(ndjson.dumps(record), t)

    def _inspection(self, d: Declaration) -> None:
        if not d.inspected:
            return
        self.summary.inspections += 1
        self._ndjson_line(
            "cms/inspections",
            self.inspections,
            ndjson.inspection_record(d, self.clock),
            d.t_inspect,
            "inspection_id",
            "additional_duty",
            "inspection",
        )
        if len(self.inspections.parts) >= INSPECTION_BATCH:
            self._flush_ndjson("cms/inspections", self.inspections)
            self.inspections = _Batch()

    def _pay(
        self,
        d: Declaration,
        kind: str,
        tax: str,
        amount: float,
        t: int,
        method: str,
        reference: str | None,
    ) -> None:
        self.payment_seq += 1
        clock = self.clock
        record = ndjson.payment_record(
            f"PAY{self.day:%y%m%d}{self.payment_seq:09d}",
            kind,
            d.lrn,
            tax,
            amount,
            method,
            reference,
            clock.date(t),
            clock.iso(t),
        )
        self._ndjson_line("erp/payments", self.payments, record, t, "payment_id", "amount", kind)

    def _reference(self, method: str) -> str | None:
        rnd = self.rnd_erp
        if rnd.random() < 0.02:
            return None
        if method == "MPESA":
            return "".join(rnd.choice(_ALNUM) for _ in range(10))
        return f"{method[:4]}{self.day:%y%m%d}{rnd.randrange(10**7, 10**8)}"

    def _payments(self, d: Declaration) -> None:
        if d.route is not None:
            return  # transit: duties are secured by a bond, not paid
        rnd = self.rnd_erp
        method = self.methods.pick(rnd)
        ref = self._reference(method)
        t = d.t_release + rnd.randrange(300, 5400)
        for tax, amount in (("CUD", d.total_duty), ("VAT", d.total_vat)):
            if amount > 0:
                self._pay(d, "payment", tax, amount, t, method, ref)
                if rnd.random() < 0.3:
                    self._pay(d, "receipt", tax, amount, t + rnd.randrange(60, 900), method, ref)
        if d.additional > 0:
            self._pay(
                d,
                "payment",
                "CUD",
                d.additional,
                t + rnd.randrange(600, 3600),
                method,
                self._reference(method),
            )
        if d.amend_function:
            a = self.factory.amended(d)
            delta = round((a.total_duty + a.total_vat) - (d.total_duty + d.total_vat), 2)
            ta = d.amend_t + rnd.randrange(600, 3600)
            if delta < 0 and rnd.random() < 0.6:
                self._pay(d, "refund", "CUD", -delta, ta, "EFT", self._reference("EFT"))
            elif delta > 0:
                self._pay(d, "payment", "CUD", delta, ta, method, self._reference(method))
        if len(self.payments.parts) >= PAYMENT_BATCH:
            self._flush_ndjson("erp/payments", self.payments)
            self.payments = _Batch()

    def _trip(self, d: Declaration) -> None:
        if d.route is None:
            return
        rnd = self.rnd_ects
        self.summary.transit_trips += 1
        start = d.t_release + rnd.randrange(1800, 3 * 3600)
        events = trip_events(
            d,
            self.clock,
            rnd,
            start,
            f"ECTS-{rnd.randrange(10000, 13000)}",
            f"KRA-ES-{rnd.randrange(10**6, 10**7)}",
        )
        batch = self.ects
        s = self.summary
        rate = self.rate
        rr = self.rnd_render
        for t, line in events:
            if rate and rr.random() < rate:
                kind = self.json_kinds.pick(rr)
                _count(s.malformed, "ects/events", kind)
                if kind == "invalid_json":
                    line = line[: rr.randrange(len(line) // 3, len(line) - 1)]
                else:  # drop the key, and a number becomes a string
                    line = line.replace(f'"event_id":"{line[13 : line.index(chr(34), 13)]}",', "")
                    line = line.replace('"latitude":', '"latitude":"', 1).replace(
                        ',"longitude"', '","longitude"', 1
                    )
            batch.add((t, line), t)
        _count(s.records, "ects/events", "event", len(events))
        if len(batch.parts) >= ECTS_BATCH:
            self._flush_ects()

    def _flush_ects(self) -> None:
        """Land the buffered trips, one file per event day (a file never predates its events)."""
        batch = self.ects
        self.ects = _Batch()
        if not batch.parts:
            return
        by_day: dict[int, _Batch] = {}
        for t, line in batch.parts:
            part = by_day.get(t // DAY_SECONDS)
            if part is None:
                part = by_day[t // DAY_SECONDS] = _Batch()
            part.add(line, t)
        for day_index in sorted(by_day):
            self._flush_ndjson("ects/events", by_day[day_index])

    # -- HR --------------------------------------------------------------------------------
    def _hr(self) -> None:
        batch = _Batch()
        rnd = random.Random(f"{self.seed}/hr")
        shifts = ((6, 14), (14, 22), (22, 30))
        for officer in self.ref.officers:
            for record in ndjson.officer_records(officer):
                self._ndjson_line(
                    "hr/records", batch, record, 2 * 3600, "officer_id", None, record["record_type"]
                )
        for officer in self.ref.officers:
            if not officer.active or rnd.random() > 0.75:
                continue
            start_h, end_h = shifts[rnd.randrange(3)]
            record = {
                "record_type": "shift",
                "shift_id": f"SH{self.day:%y%m%d}-{officer.id}",
                "officer_id": officer.id,
                "office_code": officer.office,
                "shift_start": self.clock.iso_eat((start_h - 3) * 3600),
                "shift_end": self.clock.iso_eat((end_h - 3) * 3600),
            }
            self._ndjson_line("hr/records", batch, record, 2 * 3600, "officer_id", None, "shift")
        self._flush_ndjson("hr/records", batch)

    # -- ground truth ----------------------------------------------------------------------
    def _truth(self, d: Declaration) -> None:
        gt = self.gt
        primary = None
        for it in d.items:
            if it.declared is not it.tariff or it.origin != it.origin_true:
                primary = it
                break
        if primary is None:
            if "undervaluation" in d.fraud_types:
                primary = min(
                    d.items, key=lambda x: x.value / x.value_true if x.value_true else 1.0
                )
            else:
                primary = max(d.items, key=lambda x: x.value_true)
        rate = d.rate
        true_value = sum(it.value_true for it in d.items) * rate
        gt["lrn"].append(d.lrn)
        gt["mrn"].append(d.mrn)
        gt["format"].append(d.fmt)
        gt["issue_datetime"].append(self.clock.datetime(d.t))
        gt["office_code"].append(d.office)
        gt["importer_id"].append(d.importer.id)
        gt["declarant_id"].append(d.declarant.id)
        gt["channel"].append(d.channel)
        gt["is_fraud"].append(bool(d.fraud_types))
        gt["fraud_types"].append(";".join(d.fraud_types))
        gt["true_hs_code"].append(primary.tariff.code)
        gt["declared_hs_code"].append(primary.code)
        gt["true_value"].append(round(true_value, 2))
        gt["declared_value"].append(round(d.invoice_total * rate, 2))
        gt["true_origin"].append(primary.origin_true)
        gt["declared_origin"].append(primary.origin)
        gt["inspected"].append(d.inspected)
        gt["inspection_result"].append(d.result)
        gt["additional_duty"].append(d.additional)
        gt["duty_evaded"].append(d.evaded)
        gt["declared_duty"].append(d.total_duty)
        gt["n_items"].append(len(d.items))
        gt["older_hs_version"].append(d.hs_old)
        gt["transit"].append(d.route is not None)
        gt["route_id"].append(d.route.id if d.route is not None else None)
        gt["amendment_function"].append(d.amend_function)
        gt["amended_value"].append(
            round(d.invoice_total * d.amend_factor * rate, 2) if d.amend_function else None
        )
        gt["duplicated"].append(d.duplicate)
        gt["malformed"].append(d.malformed)
        if len(gt["lrn"]) >= GROUND_TRUTH_ROW_GROUP:
            self._flush_truth()

    def _flush_truth(self) -> None:
        if self.gt["lrn"]:
            self.gt_writer.write_table(pa.table(self.gt, schema=_GT_SCHEMA))
            self.gt = {name: [] for name in _GT_SCHEMA.names}

    # -- the day ---------------------------------------------------------------------------
    def run(self) -> SimulationSummary:
        s = self.summary
        self._hr()
        step = max(1, self.n // 100)
        make = self.factory.make
        for i in range(self.n):
            d = make(i)
            s.formats[d.fmt] = s.formats.get(d.fmt, 0) + 1
            if d.fmt == "edifact":
                self._edi_declaration(d)
                _count(s.records, "cms/edifact", "CUSDEC")
            elif d.fmt == "xml":
                self._xml_declaration(d)
                _count(s.records, "cms/xml", "declaration")
            else:
                self._json_declaration(d)
                _count(s.records, "cms/json", "declaration")
            if d.amend_function:
                s.amendments += 1
                _count(s.records, f"cms/{d.fmt}", "CUSDEC" if d.fmt == "edifact" else "declaration")
            if d.duplicate:
                s.duplicates += 1
                _count(s.records, f"cms/{d.fmt}", "CUSDEC" if d.fmt == "edifact" else "declaration")
            for kind in d.fraud_types:
                s.fraud[kind] = s.fraud.get(kind, 0) + 1
            if d.fraud_types:
                s.fraud["declarations"] = s.fraud.get("declarations", 0) + 1
            self._respond(d)
            self._cargo(d)
            self._inspection(d)
            self._payments(d)
            self._trip(d)
            self._truth(d)
            if self.progress is not None and ((i + 1) % step == 0 or i + 1 == self.n):
                self.progress(i + 1)
        self._finish()
        return s

    def _finish(self) -> None:
        self._close_edi_decl()
        self._close_edi_late()
        self._close_json_decl()
        if self.json_late.parts:
            self._flush_ndjson("cms/json", self.json_late)
        if self.edi_res.parts:
            self._flush_edi(self.edi_res, edifact.CMS_ID, "KENTRADE")
        self._close_cuscar()
        if self.edi_cargo.parts:
            self._flush_edi(self.edi_cargo, "MSCUKE", edifact.CMS_ID)
        self._flush_ects()
        for feed_key, batch in (
            ("cms/inspections", self.inspections),
            ("erp/payments", self.payments),
        ):
            if batch.parts:
                self._flush_ndjson(feed_key, batch)
        self._flush_truth()
        self.gt_writer.close()
        self.writer.write(self.gt_rel, self.gt_sink.getvalue().to_pybytes())

        s = self.summary
        for feed_key in FEEDS:
            kinds = s.malformed.get(feed_key, {})
            strict = sum(v for k, v in kinds.items() if k not in NEVER_QUARANTINED)
            flagged = sum(v for k, v in kinds.items() if k in FLAGGED_NOT_QUARANTINED)
            loaded = sum(v for k, v in kinds.items() if k in NEVER_QUARANTINED)
            s.expected_quarantine[feed_key] = strict - flagged
            s.expected_quarantine_strict[feed_key] = strict
            s.expected_control_issues[feed_key] = flagged + loaded
            s.files.setdefault(feed_key, 0)
        s.files = dict(sorted(s.files.items()))
        summary_rel = f"simulator/ground_truth/{self.day.isoformat()}/summary.json"
        # Location-independent, so the same run into two roots gives identical bytes.
        stored = s.to_dict()
        stored.pop("lake_root")
        stored["ground_truth_path"] = self.gt_rel
        self.writer.write(
            summary_rel, (json.dumps(stored, indent=2, sort_keys=True) + "\n").encode("utf-8")
        )


def generate(
    lake_root: str,
    *,
    declarations: int,
    seed: int = 42,
    day: date = DEFAULT_DAY,
    malformed_rate: float = 0.01,
    messages_per_interchange: int = 200,
    progress: Callable[[int], None] | None = None,
    writer: Writer | None = None,
    quirk_rate: float = 0.0,
) -> SimulationSummary:
    """Simulate one day of customs traffic into the landing zone of ``lake_root``.

    ``lake_root`` is a local path or ``file://`` URI unless a ``writer`` for another store is
    given. Writes the landed files, the ground truth
    (``<lake_root>/simulator/ground_truth/<day>/declarations.parquet``) and a
    ``summary.json`` beside it; returns the same summary. Same arguments, same bytes.
    ``quirk_rate`` is the share of messages that carry a real senders' quirk (``quirks.py``).
    """
    if not isinstance(declarations, int) or declarations < 0:
        raise ValueError(f"declarations must be a non-negative integer, got {declarations!r}")
    if not 0.0 <= malformed_rate <= 1.0:
        raise ValueError(f"malformed_rate must be between 0 and 1, got {malformed_rate!r}")
    if not 0.0 <= quirk_rate <= 1.0:
        raise ValueError(f"quirk_rate must be between 0 and 1, got {quirk_rate!r}")
    if messages_per_interchange < 1:
        raise ValueError(
            f"messages_per_interchange must be at least 1, got {messages_per_interchange!r}"
        )
    own = LocalWriter(lake_root) if writer is None else None
    try:
        run = _Run(
            lake_root,
            writer if writer is not None else own,  # type: ignore[arg-type]
            declarations=declarations,
            seed=seed,
            day=day,
            malformed_rate=malformed_rate,
            messages_per_interchange=messages_per_interchange,
            progress=progress,
            quirk_rate=quirk_rate,
        )
        return run.run()
    finally:
        if own is not None:
            own.close()
