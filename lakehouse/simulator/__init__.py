"""A seeded, deterministic simulator of a customs administration's daily source traffic.

Why it exists: the lakehouse must be built, tested and benchmarked without access to a real
customs system, and its risk models need labelled data whose truth is known. ``generate``
writes one day of CMS declarations (UN/EDIFACT CUSDEC/CUSRES/CUSCAR, WCO XML, JSON), inspection
outcomes, ECTS transit tracking, ERP payments and HR records into the landing zone, with
planted fraud and realistic defects, plus a ground-truth table. See docs/simulator.md.
"""

from lakehouse.simulator.engine import DEFAULT_DAY, SimulationSummary, generate
from lakehouse.simulator.writer import LocalWriter, Writer

__all__ = ["DEFAULT_DAY", "LocalWriter", "SimulationSummary", "Writer", "generate"]
