"""The life of one simulated declaration: goods, planted fraud, risk channel and outcomes.

Kept apart from the renderers so that what *happened* (the ground truth) is decided once, from
one random stream, whatever format the declaration is later written in and however files are
batched: changing ``messages_per_interchange`` never changes the ground truth.

Fraud is planted so a model can learn it from the messages alone: undervaluation shows as a
unit price far below the tariff line's norm, misclassification as a lower-duty code of the
same chapter, origin misdeclaration as a preferential (EAC) or non-dumped origin, and risky
importers, brokers, offices and transit routes carry higher fraud rates. Inspection results
are noisy labels: P(non-compliant | fraud) = 0.85, P(non-compliant | clean) = 0.03.
"""

from __future__ import annotations

import math
import random
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

from lakehouse.simulator.reference import (
    EAC_PARTNERS,
    ORIGIN_DODGES,
    Officer,
    Party,
    Picker,
    ReferenceData,
    Route,
    Tariff,
)

DAY_SECONDS = 86_400
VAT_RATE = 16
# Probabilities that shape the day (see docs/simulator.md for the full table).
FORMAT_SHARES = (("edifact", 0.80), ("xml", 0.10), ("json", 0.10))
TRANSIT_SHARE = 0.05
AMENDMENT_SHARE = 0.03
DUPLICATE_SHARE = 0.01
OLD_HS_SHARE = 0.25  # of lines that changed in HS 2022
RANDOM_INSPECTION = 0.10
P_NONCOMPLIANT_FRAUD = 0.85
P_NONCOMPLIANT_CLEAN = 0.03
_MASS_UNITS = (("KGM", 1.0), ("KGM", 1.0), ("LBR", 2.20462), ("GRM", 1000.0), ("TNE", 0.001))
_MASS_UNIT_WEIGHTS = (0.45, 0.45, 0.04, 0.03, 0.03)
_INCOTERMS = ("FOB", "CIF", "CFR", "EXW", "FCA", "DAP")
_INCOTERM_WEIGHTS = (0.45, 0.25, 0.12, 0.08, 0.06, 0.04)
_CLEAN_FINDINGS = (
    "packages count differs from declaration",
    "missing commercial invoice",
    "goods description imprecise",
    "net mass differs by more than 5 %",
    "marks and numbers do not match",
)
_NOTES = (
    "examination done at CFS",
    "documents verified",
    "100 % physical examination",
    "scanner image reviewed",
    "samples taken for laboratory",
    None,
)


@lru_cache(maxsize=64)
def rate_text(rate: float) -> str:
    """An exchange rate as a plain decimal string without trailing zeros (``129.25``)."""
    return format(rate, ".6f").rstrip("0").rstrip(".")


def num(x: float) -> str:
    """A quantity without a needless fraction (``3`` not ``3.0``; ``12.5`` stays)."""
    return str(int(x)) if x.is_integer() else f"{x:.1f}"


class Clock:
    """Formats seconds since midnight of the simulated day (UTC) in each system's style.

    Precomputes date prefixes so the hot path is integer arithmetic and string joins.
    """

    def __init__(self, day: date) -> None:
        self.day = day
        self.midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
        self._dates = [(self.day + timedelta(days=k)) for k in range(8)]
        self._compact = [d.strftime("%Y%m%d") for d in self._dates]
        self._iso = [d.isoformat() for d in self._dates]
        self._minutes: dict[int, str] = {}

    def _split(self, sec: int) -> tuple[int, int, int, int]:
        d, s = divmod(int(sec), DAY_SECONDS)
        h, r = divmod(s, 3600)
        m, s = divmod(r, 60)
        return d, h, m, s

    def edi(self, sec: int) -> str:
        """EDIFACT DTM format 203 (CCYYMMDDHHMM), UTC by interchange agreement."""
        d, h, m, _ = self._split(sec)
        return f"{self._compact[d]}{h:02d}{m:02d}"

    def unb(self, sec: int) -> str:
        """UNB date:time (YYMMDD:HHMM, syntax version 3)."""
        d, h, m, _ = self._split(sec)
        return f"{self._compact[d][2:]}:{h:02d}{m:02d}"

    def xml(self, sec: int) -> str:
        """WCO DateTimeString formatCode 304 (CCYYMMDDHHMMSS + zone)."""
        d, h, m, s = self._split(sec)
        return f"{self._compact[d]}{h:02d}{m:02d}{s:02d}Z"

    def iso(self, sec: int) -> str:
        """ISO 8601 in UTC with a ``Z`` (minute prefixes cached: this is the hot path)."""
        minute, s = divmod(int(sec), 60)
        prefix = self._minutes.get(minute)
        if prefix is None:
            d, h, m, _ = self._split(minute * 60)
            prefix = self._minutes[minute] = f"{self._iso[d]}T{h:02d}:{m:02d}:"
        return f"{prefix}{s:02d}Z"

    def iso_eat(self, sec: int) -> str:
        """ISO 8601 in East Africa Time (+03:00), as officers' tablets report."""
        d, h, m, s = self._split(sec + 3 * 3600)
        return f"{self._iso[d]}T{h:02d}:{m:02d}:{s:02d}+03:00"

    def date(self, sec: int) -> str:
        """The UTC calendar date (YYYY-MM-DD) of an instant."""
        return self._iso[int(sec) // DAY_SECONDS]

    def datetime(self, sec: int) -> datetime:
        """The instant as an aware UTC datetime."""
        return self.midnight + timedelta(seconds=int(sec))


class Item:
    """One goods item: what it truly is and what was declared."""

    __slots__ = (
        "base",
        "code",
        "declared",
        "desc",
        "duty",
        "duty_rate",
        "gross",
        "net",
        "no",
        "origin",
        "origin_true",
        "packages",
        "qty",
        "tariff",
        "true_duty",
        "value",
        "value_true",
        "vat",
    )

    def __init__(self) -> None:
        self.no = 0
        self.tariff: Tariff
        self.declared: Tariff
        self.code = ""
        self.desc: bool = True
        self.origin = ""
        self.origin_true = ""
        self.qty = 0.0
        self.net = 0.0
        self.gross: float | None = None
        self.packages: int | None = None
        self.value = 0.0
        self.value_true = 0.0
        self.duty_rate = 0
        self.base = 0.0
        self.duty = 0.0
        self.vat = 0.0
        self.true_duty = 0.0


class Declaration:
    """One import or transit declaration with its planted truth and downstream outcomes."""

    __slots__ = (
        "additional",
        "amend_factor",
        "amend_function",
        "amend_t",
        "amendment",
        "channel",
        "currency",
        "declarant",
        "destination",
        "dispatch",
        "duplicate",
        "evaded",
        "exporter",
        "exporter_country",
        "ext",
        "findings",
        "fmt",
        "fraud_types",
        "hs_old",
        "idx",
        "importer",
        "importer_ref",
        "incoterm",
        "inspected",
        "invoice_total",
        "items",
        "lrn",
        "malformed",
        "mass_factor",
        "mass_unit",
        "mode",
        "mrn",
        "notes",
        "office",
        "officer",
        "procedure",
        "rate",
        "result",
        "route",
        "t",
        "t_inspect",
        "t_release",
        "total_duty",
        "total_vat",
        "transport_id",
        "xml_prefix",
    )

    def __init__(self) -> None:
        self.idx = 0
        self.lrn = ""
        self.mrn = ""
        self.fmt = "edifact"
        self.t = 0
        self.office = ""
        self.mode = ""
        self.transport_id = ""
        self.dispatch = ""
        self.destination = ""
        self.procedure = ""
        self.ext = ""
        self.importer: Party
        self.declarant: Party
        self.exporter: Party
        self.exporter_country: str | None = None
        self.importer_ref = ""
        self.incoterm: str | None = None
        self.currency = ""
        self.rate = 1.0
        self.mass_unit = "KGM"
        self.mass_factor = 1.0
        self.invoice_total = 0.0
        self.total_duty = 0.0
        self.total_vat = 0.0
        self.items: list[Item] = []
        self.fraud_types: list[str] = []
        self.findings: list[str] = []
        self.route: Route | None = None
        self.officer: Officer | None = None
        self.malformed: str | None = None
        self.amend_function: str | None = None
        self.amend_t = 0
        self.amend_factor = 1.0
        self.amendment: Declaration | None = None
        self.duplicate = False
        self.inspected = False
        self.channel = "green"
        self.result: str | None = None
        self.additional = 0.0
        self.evaded = 0.0
        self.notes: str | None = None
        self.t_inspect = 0
        self.t_release = 0
        self.hs_old = False
        self.xml_prefix = False


class DeclarationFactory:
    """Makes declaration ``i`` of ``n`` for the day, drawing only from its own RNG."""

    def __init__(
        self, ref: ReferenceData, rnd: random.Random, day: date, n: int, malformed_rate: float
    ) -> None:
        self.ref = ref
        self.rnd = rnd
        self.n = n
        self.yy = f"{day:%y}"
        # The day of the year leads each sequence number: a run of several days never issues
        # the same LRN or MRN twice (a real MRN is unique for good).
        self.doy = f"{day.timetuple().tm_yday:03d}"
        self.malformed_rate = malformed_rate
        self.fmt_picker = Picker([f for f, _ in FORMAT_SHARES], [w for _, w in FORMAT_SHARES])
        self.mass_picker = Picker(_MASS_UNITS, _MASS_UNIT_WEIGHTS)
        self.incoterm_picker = Picker(_INCOTERMS, _INCOTERM_WEIGHTS)
        self.origin_pickers = {t.index: Picker(t.origins[0], t.origins[1]) for t in ref.tariffs}
        self.neighbours = ref.border_neighbour

    # -- helpers -------------------------------------------------------------------------
    def _time(self, i: int) -> int:
        """Lodgement times 06:00-19:00 UTC, in index order, denser around midday."""
        u = (i + self.rnd.random()) / self.n
        u = u + 0.08 * math.sin(2 * math.pi * u)
        return int(6 * 3600 + u * 13 * 3600)

    def _transport_id(self, mode: str) -> str:
        rnd = self.rnd
        if mode == "1":
            return f"IMO{rnd.randrange(9_100_000, 9_900_000)}"
        if mode == "4":
            return f"{rnd.choice(self.ref.airlines)}{rnd.randrange(100, 999)}"
        return (
            f"K{rnd.choice('ABCD')}{rnd.choice('ABCDEFGHJKLMNPQRSTUVWXYZ')} "
            f"{rnd.randrange(100, 999)}{rnd.choice('ABCDEFGHJKLMNPQRSTUVWXYZ')}"
        )

    # -- the declaration -----------------------------------------------------------------
    def make(self, i: int) -> Declaration:
        """Declaration ``i``: parties, goods, planted fraud, channel and outcomes."""
        ref, rnd = self.ref, self.rnd
        d = Declaration()
        d.idx = i
        d.t = self._time(i)
        d.fmt = self.fmt_picker.pick(rnd)
        d.xml_prefix = d.fmt == "xml" and rnd.random() < 0.2
        transit = rnd.random() < TRANSIT_SHARE
        imp: Party = ref.importer_picker.pick(rnd)
        d.importer = imp
        d.declarant = ref.declarants[
            imp.broker if rnd.random() < 0.7 else rnd.randrange(len(ref.declarants))
        ]
        if transit:
            route: Route = ref.route_picker.pick(rnd)
            d.route = route
            d.office = route.departure
            d.mode = "3"
            d.procedure = "8000"
            d.ext = "T1"
            d.destination = route.country
        else:
            d.office = ref.office_picker.pick(rnd)
            d.mode = ref.offices[d.office][2]
            if rnd.random() < 0.04:
                d.procedure, d.ext = "7100", "IM7"  # entry into a customs warehouse
            else:
                d.procedure, d.ext = "4000", "IM4"
            d.destination = "KE"
        office_code_digits = d.office[2:]
        d.lrn = f"{self.yy}{d.declarant.id}{self.doy}{i + 1:06d}"
        d.mrn = f"{self.yy}KE{office_code_digits}{'T' if transit else 'I'}{self.doy}{i + 1:06d}"
        d.importer_ref = f"PO{rnd.randrange(10**6, 10**7)}"
        d.transport_id = self._transport_id(d.mode) if rnd.random() > 0.02 else ""
        d.incoterm = self.incoterm_picker.pick(rnd) if rnd.random() > 0.05 else None
        d.currency = ref.currency_picker.pick(rnd)
        d.rate = ref.rates[d.currency]
        d.mass_unit, d.mass_factor = self.mass_picker.pick(rnd)

        # Goods: 1 + geometric items, mostly from the importer's usual tariff lines.
        n_items = 1
        while n_items < 40 and rnd.random() < 0.55:
            n_items += 1
        first_tariff = self._pick_tariff(imp)
        main_origin = self.origin_pickers[first_tariff.index].pick(rnd)
        if d.mode == "3" and not transit and rnd.random() < 0.6:
            main_origin = self.neighbours.get(d.office, main_origin)
        exporters = ref.exporters_by_country[main_origin]
        d.exporter = exporters[rnd.randrange(len(exporters))]
        d.exporter_country = main_origin if rnd.random() > 0.03 else None
        d.dispatch = (
            "AE" if (main_origin not in ("AE", "UG", "TZ") and rnd.random() < 0.08) else main_origin
        )
        usd = ref.rates["USD"]
        to_cur = usd / d.rate
        items = d.items
        for k in range(n_items):
            it = Item()
            it.no = k + 1
            tariff = first_tariff if k == 0 else self._pick_tariff(imp)
            it.tariff = it.declared = tariff
            it.code = tariff.code
            if tariff.hs2017 and rnd.random() < OLD_HS_SHARE:
                it.code = tariff.hs2017
                d.hs_old = True
            it.origin = it.origin_true = (
                main_origin
                if k == 0 or rnd.random() < 0.85
                else self.origin_pickers[tariff.index].pick(rnd)
            )
            target_usd = math.exp(rnd.gauss(9.3, 1.2))  # median ~ USD 11,000 per item
            price = math.exp(tariff.price_mu + tariff.price_sigma * rnd.gauss(0.0, 1.0))
            if tariff.qty_unit == "KGM":
                qty = max(1.0, round(target_usd / price, 1))
                net = qty
            else:
                qty = float(max(1, round(target_usd / price)))
                net = qty * tariff.kg_per_unit * rnd.uniform(0.9, 1.1)
            it.qty = qty
            it.net = net
            it.gross = net * rnd.uniform(1.02, 1.15) if rnd.random() > 0.02 else None
            it.packages = (
                max(1, int(net / rnd.choice((15.0, 40.0, 200.0, 900.0))))
                if rnd.random() > 0.03
                else None
            )
            it.desc = rnd.random() > 0.01
            it.value_true = it.value = round(qty * price * to_cur, 2)
            items.append(it)

        self._plant_fraud(d, transit)
        self._assess(d)
        self._outcomes(d, transit)
        return d

    def _pick_tariff(self, imp: Party) -> Tariff:
        rnd = self.rnd
        if rnd.random() < 0.8:
            return self.ref.tariffs[imp.sectors[rnd.randrange(len(imp.sectors))]]
        return self.ref.tariff_picker.pick(rnd)

    def _plant_fraud(self, d: Declaration, transit: bool) -> None:
        ref, rnd = self.ref, self.rnd
        risk = d.importer.risk * d.declarant.risk
        risk *= d.route.risk if d.route is not None else ref.offices[d.office][4]
        p = min(0.85, ref.fraud_base * risk)
        if rnd.random() >= p:
            return
        if transit:
            d.fraud_types.append("seal_tampering" if rnd.random() < 0.6 else "route_deviation")
            return
        kinds = ["undervaluation"]
        r = rnd.random()
        if r < 0.25:
            kinds = ["misclassification"]
        elif r < 0.45:
            kinds = ["origin"]
        if rnd.random() < 0.15:
            extra = rnd.choice(("undervaluation", "misclassification", "origin"))
            if extra not in kinds:
                kinds.append(extra)
        for kind in kinds:
            if kind == "undervaluation":
                hit = False
                for it in d.items:
                    if not hit or rnd.random() < 0.6:
                        it.value = round(it.value_true * rnd.uniform(0.22, 0.6), 2)
                        hit = True
                d.fraud_types.append(kind)
            elif kind == "misclassification":
                candidates = [it for it in d.items if it.tariff.lower_duty]
                if candidates:
                    it = candidates[rnd.randrange(len(candidates))]
                    lower = it.tariff.lower_duty
                    it.declared = ref.tariffs[lower[rnd.randrange(len(lower))]]
                    it.code = it.declared.code
                    d.fraud_types.append(kind)
            elif kind == "origin":
                for it in d.items:
                    if (
                        ref.duty_rate(it.tariff, it.origin_true) > 0
                        and it.origin_true not in EAC_PARTNERS
                    ):
                        dodges = ORIGIN_DODGES.get(it.origin_true, ("UG", "TZ"))
                        it.origin = dodges[rnd.randrange(len(dodges))]
                        d.fraud_types.append(kind)
                        break
        if not d.fraud_types:  # nothing applicable: fall back to undervaluation
            it = d.items[0]
            it.value = round(it.value_true * rnd.uniform(0.22, 0.6), 2)
            d.fraud_types.append("undervaluation")

    def _assess(self, d: Declaration) -> None:
        """Duties as declared (what the messages carry) and as truly owed (ground truth)."""
        ref = self.ref
        rate = d.rate
        total_duty = total_vat = total_value = true_duty = 0.0
        for it in d.items:
            it.duty_rate = ref.duty_rate(it.declared, it.origin)
            base = round(it.value * rate, 2)
            it.base = base
            it.duty = round(base * it.duty_rate / 100.0, 2)
            it.vat = round((base + it.duty) * VAT_RATE / 100.0, 2)
            it.true_duty = round(
                it.value_true * rate * ref.duty_rate(it.tariff, it.origin_true) / 100.0, 2
            )
            total_duty += it.duty
            total_vat += it.vat
            total_value += it.value
            true_duty += it.true_duty
        d.total_duty = round(total_duty, 2)
        d.total_vat = round(total_vat, 2)
        d.invoice_total = round(total_value, 2)
        if "seal_tampering" in d.fraud_types or "route_deviation" in d.fraud_types:
            d.evaded = round(true_duty, 2)  # diverted transit goods owe the full duty
        else:
            d.evaded = round(max(0.0, true_duty - total_duty), 2)

    def _outcomes(self, d: Declaration, transit: bool) -> None:
        """Malformation, amendment, duplicate, risk channel, inspection and release."""
        ref, rnd = self.ref, self.rnd
        if rnd.random() < self.malformed_rate:
            d.malformed = "pending"  # the renderer picks the kind for its format
        elif rnd.random() < AMENDMENT_SHARE:
            d.amend_function = "4" if rnd.random() < 0.6 else "5"
            d.amend_factor = rnd.uniform(0.85, 1.15)
        elif rnd.random() < DUPLICATE_SHARE / (1 - AMENDMENT_SHARE):
            d.duplicate = True

        # Risk targeting: what a rules engine sees (no access to the truth).
        targeted = 0.0
        if d.importer.risk > 1:
            targeted += 0.30
        if d.declarant.risk > 1:
            targeted += 0.15
        if ref.offices[d.office][4] >= 2 or (d.route is not None and d.route.risk >= 2):
            targeted += 0.10
        for it in d.items:
            norm = math.exp(it.declared.price_mu)
            unit_usd = it.value * d.rate / ref.rates["USD"] / it.qty
            if unit_usd < 0.45 * norm:
                targeted += 0.25
                break
        p = 1 - (1 - RANDOM_INSPECTION) * (1 - min(0.9, targeted))
        d.t_release = d.t + rnd.randrange(600, 3600)
        if rnd.random() < p:
            d.inspected = True
            d.channel = "red" if rnd.random() < 0.7 else "yellow"
            d.t_inspect = d.t + rnd.randrange(3600, 4 * 3600)
            d.t_release = d.t_inspect + rnd.randrange(300, 1800)
            staff = ref.officers_by_office.get(d.office) or ref.officers
            d.officer = staff[rnd.randrange(len(staff))]
            fraud = bool(d.fraud_types)
            if rnd.random() < (P_NONCOMPLIANT_FRAUD if fraud else P_NONCOMPLIANT_CLEAN):
                d.result = "non_compliant"
                if fraud:
                    d.findings = [self._finding(d, k) for k in d.fraud_types]
                    d.additional = round(d.evaded * rnd.uniform(0.85, 1.15), 2)
                else:
                    d.findings = [_CLEAN_FINDINGS[rnd.randrange(len(_CLEAN_FINDINGS))]]
                    d.additional = (
                        round(d.total_duty * rnd.uniform(0.01, 0.08), 2)
                        if rnd.random() < 0.5
                        else 0.0
                    )
            else:
                d.result = "compliant"
            d.notes = _NOTES[rnd.randrange(len(_NOTES))]
        elif transit is False and rnd.random() < 0.05:
            d.channel = "yellow"  # documentary check only, no inspection report
        if d.amend_function:
            d.amend_t = d.t_release + rnd.randrange(20 * 60, 3 * 3600)

    def _finding(self, d: Declaration, kind: str) -> str:
        if kind == "undervaluation":
            it = min(d.items, key=lambda x: x.value / x.value_true if x.value_true else 1.0)
            ratio = it.value / it.value_true if it.value_true else 1.0
            return f"undervaluation: item {it.no} invoiced at {ratio:.0%} of transaction value"
        if kind == "misclassification":
            for it in d.items:
                if it.declared is not it.tariff:
                    return (
                        f"misclassification: item {it.no} classifiable under {it.tariff.code},"
                        f" declared {it.code}"
                    )
        if kind == "origin":
            for it in d.items:
                if it.origin != it.origin_true:
                    return (
                        f"origin: item {it.no} originates from {it.origin_true},"
                        f" declared {it.origin}"
                    )
        if kind == "seal_tampering":
            return "seal broken or replaced in transit"
        return "unauthorised stop off the approved route"

    def amended(self, d: Declaration) -> Declaration:
        """The post-clearance amendment of ``d``: same LRN, values scaled, duties re-assessed."""
        if d.amendment is not None:
            return d.amendment
        a = Declaration()
        for name in Declaration.__slots__:
            setattr(a, name, getattr(d, name))
        a.items = []
        for it in d.items:
            c = Item()
            for name in Item.__slots__:
                setattr(c, name, getattr(it, name))
            c.value = round(it.value * d.amend_factor, 2)
            a.items.append(c)
        a.t = d.amend_t
        a.malformed = None
        self._assess(a)
        a.evaded = d.evaded
        a.amendment = None
        d.amendment = a
        return a
