"""Reference data of the simulated customs administration, generated once from the seed.

Why a generated world rather than fixtures: risk models need structure to learn (traders with
a history, price norms per tariff line, risky routes), and tests need that structure to be
reproducible. Everything here derives from ``random.Random(f"{seed}/reference")`` so the same
seed always yields the same tariff, traders, offices and officers, and the per-declaration
generator can look things up in precomputed lists (no per-message work).

The tariff is modelled on the EAC Common External Tariff (duty bands 0/10/25/35 % plus
sensitive items) with HS 2022 codes; a handful of lines changed between HS 2017 and HS 2022
keep their old code so goods can be declared "in the older HS version".
"""

from __future__ import annotations

import math
import random
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import accumulate, pairwise
from typing import Generic, TypeVar

NATIONAL_CURRENCY = "KES"
T = TypeVar("T")

# (currency, KES per unit on the reference day before seeded jitter, share of invoices)
_CURRENCIES = (
    ("USD", 129.25, 0.58),
    ("EUR", 140.60, 0.13),
    ("CNY", 17.95, 0.14),
    ("GBP", 163.40, 0.05),
    ("KES", 1.0, 0.10),
)

# HS 2022 six-digit lines: (hs6, description, duty %, median USD price per quantity unit,
# quantity unit (UN/ECE Rec 20), kg per quantity unit, popularity weight, origin profile).
_HS6 = (
    ("090111", "Coffee, not roasted, not decaffeinated", 25, 4.6, "KGM", 1.0, 3, "coffee"),
    ("090121", "Coffee, roasted, not decaffeinated", 25, 9.5, "KGM", 1.0, 1, "coffee"),
    ("090240", "Black tea, fermented, in packings > 3 kg", 25, 3.1, "KGM", 1.0, 1, "asia"),
    ("100630", "Semi-milled or wholly milled rice", 35, 0.55, "KGM", 1.0, 6, "rice"),
    ("100640", "Broken rice", 35, 0.41, "KGM", 1.0, 2, "rice"),
    ("100199", "Wheat and meslin, other", 10, 0.31, "KGM", 1.0, 3, "grain"),
    ("100590", "Maize (corn), other than seed", 50, 0.28, "KGM", 1.0, 2, "grain"),
    ("170114", "Raw cane sugar", 100, 0.46, "KGM", 1.0, 2, "sugar"),
    ("170199", "Refined sugar, solid", 100, 0.56, "KGM", 1.0, 2, "sugar"),
    ("151110", "Crude palm oil", 0, 0.92, "KGM", 1.0, 3, "palm"),
    ("151190", "Refined palm oil and fractions", 10, 1.05, "KGM", 1.0, 3, "palm"),
    ("040210", "Milk powder, fat <= 1.5 %", 60, 3.2, "KGM", 1.0, 1, "dairy"),
    ("071333", "Kidney beans, dried", 25, 0.85, "KGM", 1.0, 1, "grain"),
    ("210690", "Food preparations n.e.s.", 25, 4.0, "KGM", 1.0, 2, "global"),
    ("220300", "Beer made from malt", 25, 1.2, "LTR", 1.05, 1, "europe"),
    ("220421", "Wine in containers <= 2 l", 25, 4.2, "LTR", 1.3, 1, "wine"),
    ("310210", "Urea fertiliser", 0, 0.42, "KGM", 1.0, 3, "fert"),
    ("310520", "NPK mineral fertilisers", 0, 0.52, "KGM", 1.0, 2, "fert"),
    ("380891", "Insecticides, retail", 0, 6.0, "KGM", 1.0, 1, "global"),
    ("300490", "Medicaments in measured doses", 0, 24.0, "KGM", 1.0, 4, "pharma"),
    ("300241", "Vaccines for human medicine", 0, 310.0, "KGM", 1.0, 1, "pharma"),
    ("330499", "Beauty or make-up preparations", 25, 8.0, "KGM", 1.0, 2, "global"),
    ("340220", "Washing preparations, retail", 25, 1.5, "KGM", 1.0, 2, "global"),
    ("390110", "Polyethylene, density < 0.94", 0, 1.3, "KGM", 1.0, 3, "petchem"),
    ("390410", "Poly(vinyl chloride), not mixed", 0, 1.1, "KGM", 1.0, 2, "petchem"),
    ("392330", "Plastic carboys, bottles, flasks", 25, 2.5, "KGM", 1.0, 1, "asia"),
    ("281511", "Sodium hydroxide, solid", 0, 0.52, "KGM", 1.0, 1, "petchem"),
    ("240412", "Heated tobacco products", 35, 42.0, "KGM", 1.0, 1, "global"),
    ("610910", "T-shirts, singlets, of cotton, knitted", 35, 3.0, "NAR", 0.2, 4, "textile"),
    ("611030", "Jerseys, pullovers, of man-made fibres", 35, 6.0, "NAR", 0.4, 2, "textile"),
    ("620342", "Men's trousers and shorts, of cotton", 35, 7.0, "NAR", 0.6, 3, "textile"),
    ("620462", "Women's trousers and shorts, of cotton", 35, 7.5, "NAR", 0.55, 2, "textile"),
    ("620520", "Men's shirts, of cotton", 35, 5.0, "NAR", 0.3, 2, "textile"),
    ("630900", "Worn clothing and other worn articles", 35, 1.3, "KGM", 1.0, 4, "mitumba"),
    ("520812", "Woven fabrics of cotton, unbleached", 25, 5.0, "KGM", 1.0, 1, "textile"),
    ("640299", "Footwear, outer soles and uppers of rubber", 35, 4.0, "NPR", 0.6, 2, "textile"),
    ("640399", "Footwear with uppers of leather", 35, 15.0, "NPR", 0.9, 1, "textile"),
    ("401110", "New pneumatic tyres, for motor cars", 25, 35.0, "NAR", 9.0, 3, "tyres"),
    ("401120", "New pneumatic tyres, for buses or lorries", 10, 150.0, "NAR", 52.0, 2, "tyres"),
    ("690721", "Ceramic tiles, water absorption <= 0.5 %", 25, 0.6, "KGM", 1.0, 2, "steel"),
    ("700529", "Float glass, non-wired", 25, 0.62, "KGM", 1.0, 1, "asia"),
    ("252329", "Portland cement, other than white", 25, 0.09, "KGM", 1.0, 1, "steel"),
    ("720837", "Hot-rolled flat iron, coils, 4.75-10 mm", 10, 0.64, "KGM", 1.0, 2, "steel"),
    ("720839", "Hot-rolled flat iron, coils, < 3 mm", 10, 0.68, "KGM", 1.0, 3, "steel"),
    ("721049", "Flat-rolled iron, zinc-coated (galvanised)", 25, 0.9, "KGM", 1.0, 3, "steel"),
    ("721420", "Bars and rods (rebar), hot-rolled", 25, 0.6, "KGM", 1.0, 2, "steel"),
    ("730630", "Welded tubes of iron, circular section", 25, 1.0, "KGM", 1.0, 2, "steel"),
    ("731210", "Stranded wire of iron or steel", 10, 1.5, "KGM", 1.0, 1, "steel"),
    ("732111", "Cooking appliances for gas fuel", 25, 60.0, "NAR", 25.0, 1, "asia"),
    ("760410", "Bars and rods of aluminium, not alloyed", 10, 3.0, "KGM", 1.0, 1, "steel"),
    ("841510", "Air conditioners, window or wall type", 25, 250.0, "NAR", 35.0, 2, "asia"),
    ("841810", "Combined refrigerator-freezers", 25, 300.0, "NAR", 60.0, 2, "asia"),
    ("842139", "Filtering machinery for gases", 10, 40.0, "NAR", 5.0, 1, "global"),
    ("843149", "Parts of cranes, excavators, etc.", 0, 8.0, "KGM", 1.0, 2, "global"),
    ("847130", "Portable computers (laptops) <= 10 kg", 0, 450.0, "NAR", 2.2, 4, "elec"),
    ("847141", "Other computers with CPU and I/O unit", 0, 500.0, "NAR", 8.0, 1, "elec"),
    ("847150", "Processing units (servers)", 0, 1800.0, "NAR", 15.0, 1, "elec"),
    ("847160", "Input or output units (keyboards, printers)", 0, 30.0, "NAR", 1.0, 2, "elec"),
    ("847330", "Parts and accessories of computers", 0, 40.0, "NAR", 0.3, 2, "elec"),
    ("850440", "Static converters (inverters, chargers)", 10, 60.0, "NAR", 1.5, 2, "elec"),
    ("850760", "Lithium-ion accumulators", 25, 120.0, "NAR", 3.0, 2, "elec"),
    ("851713", "Smartphones", 10, 150.0, "NAR", 0.3, 6, "elec"),
    ("851714", "Other telephones for cellular networks", 10, 25.0, "NAR", 0.15, 2, "elec"),
    ("851762", "Machines for reception/transmission of data", 0, 200.0, "NAR", 1.5, 2, "elec"),
    ("851779", "Parts of telephone sets", 10, 10.0, "NAR", 0.05, 2, "elec"),
    ("852852", "Monitors for automatic data-processing machines", 25, 150.0, "NAR", 5.0, 2, "elec"),
    ("852872", "Television receivers, colour", 25, 250.0, "NAR", 12.0, 3, "elec"),
    ("852410", "Flat panel display modules", 0, 80.0, "NAR", 1.0, 1, "elec"),
    ("853952", "LED lamps", 25, 2.0, "NAR", 0.06, 2, "elec"),
    ("854143", "Photovoltaic cells assembled in modules", 0, 90.0, "NAR", 20.0, 3, "elec"),
    ("854442", "Insulated electric conductors, <= 1000 V", 25, 5.0, "KGM", 1.0, 2, "asia"),
    ("850220", "Generating sets with spark-ignition engines", 10, 3000.0, "NAR", 600.0, 1, "asia"),
    ("870322", "Cars, spark-ignition, 1000-1500 cc", 25, 6000.0, "NAR", 1100.0, 3, "cars"),
    ("870323", "Cars, spark-ignition, 1500-3000 cc", 25, 9000.0, "NAR", 1400.0, 5, "cars"),
    ("870332", "Cars, diesel, 1500-2500 cc", 25, 11000.0, "NAR", 1700.0, 2, "cars"),
    ("870380", "Cars with electric motor only", 25, 25000.0, "NAR", 1800.0, 1, "cars"),
    ("870421", "Lorries, diesel, gross weight <= 5 t", 25, 12000.0, "NAR", 2500.0, 2, "cars"),
    ("871120", "Motorcycles, 50-250 cc", 25, 700.0, "NAR", 120.0, 3, "asia"),
    ("870899", "Parts and accessories of motor vehicles", 25, 4.0, "KGM", 1.0, 3, "cars"),
    ("871200", "Bicycles, not motorised", 25, 60.0, "NAR", 14.0, 1, "asia"),
    ("880690", "Unmanned aircraft (drones)", 10, 800.0, "NAR", 2.0, 1, "elec"),
    ("940360", "Wooden furniture", 25, 120.0, "NAR", 25.0, 2, "asia"),
    ("940161", "Seats with wooden frames, upholstered", 25, 150.0, "NAR", 20.0, 1, "asia"),
    ("950300", "Toys, scale models and puzzles", 25, 5.0, "NAR", 0.5, 2, "asia"),
    ("480256", "Uncoated paper, 40-150 g/m2, in sheets", 10, 0.9, "KGM", 1.0, 2, "global"),
)

# HS 2022 line -> its HS 2017 predecessor (WCO correlation tables, simplified to one-to-one).
HS2017_OF_2022 = {
    "851713": "851712",
    "851714": "851712",
    "853952": "853950",
    "852410": "852990",
    "854143": "854140",
    "880690": "880220",
    "240412": "240399",
    "300241": "300220",
}

# Origin profiles: country -> weight. Countries are ISO 3166-1 alpha-2.
_ORIGINS = {
    "global": {
        "CN": 30,
        "IN": 12,
        "AE": 8,
        "DE": 5,
        "US": 5,
        "GB": 4,
        "JP": 4,
        "ZA": 5,
        "TR": 4,
        "IT": 3,
        "FR": 3,
        "NL": 3,
        "KR": 3,
        "EG": 3,
        "UG": 2,
        "TZ": 2,
    },
    "asia": {"CN": 62, "IN": 12, "MY": 5, "VN": 5, "TH": 4, "ID": 4, "TR": 4, "AE": 4},
    "elec": {"CN": 60, "VN": 8, "KR": 8, "IN": 6, "MY": 5, "JP": 4, "US": 4, "AE": 5},
    "textile": {"CN": 45, "BD": 15, "IN": 12, "TR": 8, "VN": 8, "PK": 7, "ET": 5},
    "mitumba": {"GB": 25, "US": 25, "CA": 12, "DE": 12, "NL": 10, "AE": 8, "CN": 8},
    "steel": {"CN": 45, "IN": 18, "JP": 8, "ZA": 8, "TR": 8, "UA": 5, "EG": 4, "VN": 4},
    "tyres": {"CN": 55, "IN": 15, "TH": 10, "JP": 8, "ID": 6, "KR": 6},
    "cars": {"JP": 60, "GB": 10, "DE": 9, "ZA": 8, "TH": 6, "AE": 5, "CN": 2},
    "coffee": {"ET": 30, "UG": 25, "TZ": 20, "BR": 10, "RW": 8, "BI": 7},
    "rice": {"PK": 45, "IN": 25, "TH": 15, "VN": 10, "TZ": 5},
    "grain": {"RU": 25, "UA": 15, "AR": 12, "US": 10, "CA": 10, "UG": 14, "TZ": 14},
    "sugar": {"BR": 35, "IN": 20, "TH": 15, "UG": 15, "TZ": 10, "ZA": 5},
    "palm": {"MY": 55, "ID": 45},
    "dairy": {"NZ": 35, "NL": 20, "FR": 15, "UG": 20, "IE": 10},
    "europe": {"NL": 30, "DE": 25, "BE": 20, "IE": 10, "ZA": 15},
    "wine": {"ZA": 45, "FR": 20, "IT": 15, "CL": 10, "ES": 10},
    "fert": {"RU": 25, "SA": 20, "QA": 15, "MA": 15, "CN": 15, "EG": 10},
    "pharma": {"IN": 45, "CN": 10, "DE": 10, "CH": 10, "BE": 8, "US": 7, "GB": 5, "EG": 5},
    "petchem": {"SA": 35, "AE": 20, "CN": 15, "IN": 10, "KR": 10, "QA": 10},
}

# EAC partner states: originating goods enter duty-free (preferential origin), which is what
# origin misdeclaration exploits.
EAC_PARTNERS = ("UG", "TZ", "RW", "BI", "SS", "CD", "SO")
# Anti-dumping / countervailing duty (percentage points added) on (chapter, origin).
ANTI_DUMPING = {
    ("72", "CN"): 35,
    ("73", "CN"): 25,
    ("40", "CN"): 30,
    ("69", "CN"): 40,
    ("25", "PK"): 20,
    ("72", "IN"): 15,
}
# Where misdeclared origins point: a preferential EAC origin or a non-dumped third country.
ORIGIN_DODGES = {"CN": ("MY", "VN", "TH", "UG"), "IN": ("AE", "OM", "TZ"), "PK": ("AE", "TZ")}

_COUNTRY_NAMES = {
    "CN": "China",
    "IN": "India",
    "AE": "United Arab Emirates",
    "DE": "Germany",
    "US": "USA",
    "GB": "United Kingdom",
    "JP": "Japan",
    "ZA": "South Africa",
    "TR": "Turkey",
    "IT": "Italy",
    "FR": "France",
    "NL": "Netherlands",
    "KR": "Korea",
    "EG": "Egypt",
    "UG": "Uganda",
    "TZ": "Tanzania",
    "MY": "Malaysia",
    "VN": "Viet Nam",
    "TH": "Thailand",
    "ID": "Indonesia",
    "BD": "Bangladesh",
    "PK": "Pakistan",
    "ET": "Ethiopia",
    "CA": "Canada",
    "UA": "Ukraine",
    "BR": "Brazil",
    "RW": "Rwanda",
    "BI": "Burundi",
    "RU": "Russia",
    "AR": "Argentina",
    "NZ": "New Zealand",
    "IE": "Ireland",
    "BE": "Belgium",
    "CL": "Chile",
    "ES": "Spain",
    "SA": "Saudi Arabia",
    "QA": "Qatar",
    "MA": "Morocco",
    "CH": "Switzerland",
    "OM": "Oman",
    "SS": "South Sudan",
    "SO": "Somalia",
    "CD": "DR Congo",
}

# Customs offices: (code, name, transport modes, weight, risk multiplier, lat, lon).
OFFICES = (
    ("KE001", "Mombasa Port", "1", 0.42, 1.0, -4.062, 39.657),
    ("KE002", "JKIA Nairobi", "4", 0.17, 1.0, -1.319, 36.927),
    ("KE003", "ICD Embakasi Nairobi", "1", 0.12, 1.0, -1.323, 36.893),
    ("KE004", "Malaba", "3", 0.07, 1.3, 0.636, 34.283),
    ("KE005", "Busia", "3", 0.05, 1.5, 0.460, 34.111),
    ("KE006", "Namanga", "3", 0.04, 1.3, -2.546, 36.790),
    ("KE007", "Isebania", "3", 0.02, 2.5, -1.232, 34.478),
    ("KE008", "Lunga Lunga", "3", 0.02, 2.0, -4.556, 39.123),
    ("KE009", "Taveta", "3", 0.015, 1.5, -3.398, 37.683),
    ("KE010", "Moyale", "3", 0.015, 2.5, 3.524, 39.055),
    ("KE011", "Kisumu", "4", 0.01, 1.0, -0.086, 34.729),
    ("KE012", "Eldoret Airport", "4", 0.01, 1.0, 0.404, 35.239),
    ("KE013", "Moi Airport Mombasa", "4", 0.01, 1.0, -4.035, 39.594),
    ("KE014", "Lokichoggio", "3", 0.005, 3.0, 4.204, 34.348),
    ("KE015", "Wilson Airport", "4", 0.005, 1.2, -1.322, 36.815),
)
# Land-border offices and the neighbour the road leads to (country of dispatch by road).
_BORDER_NEIGHBOUR = {
    "KE004": "UG",
    "KE005": "UG",
    "KE006": "TZ",
    "KE007": "TZ",
    "KE008": "TZ",
    "KE009": "TZ",
    "KE010": "ET",
    "KE014": "SS",
}

_WAYPOINTS = {
    "MSA": (-4.062, 39.657),
    "MARIAKANI": (-3.862, 39.473),
    "MACKINNON": (-3.733, 39.040),
    "VOI": (-3.396, 38.556),
    "MTITO": (-2.690, 38.167),
    "KIBWEZI": (-2.418, 37.966),
    "EMALI": (-2.081, 37.473),
    "ATHI": (-1.456, 36.978),
    "ICD": (-1.323, 36.893),
    "LIMURU": (-1.109, 36.645),
    "NAIVASHA": (-0.717, 36.431),
    "GILGIL": (-0.499, 36.318),
    "NAKURU": (-0.303, 36.080),
    "ELDORET": (0.514, 35.270),
    "WEBUYE": (0.607, 34.768),
    "BUNGOMA": (0.564, 34.561),
    "MALABA": (0.636, 34.283),
    "KERICHO": (-0.368, 35.283),
    "KISUMU": (-0.092, 34.768),
    "BUSIA": (0.460, 34.111),
    "KAJIADO": (-1.852, 36.782),
    "NAMANGA": (-2.546, 36.790),
    "MWATATE": (-3.505, 38.378),
    "TAVETA": (-3.398, 37.683),
    "UKUNDA": (-4.287, 39.567),
    "MSAMBWENI": (-4.468, 39.480),
    "LUNGA": (-4.556, 39.123),
    "THIKA": (-1.033, 37.069),
    "NANYUKI": (0.006, 37.072),
    "ISIOLO": (0.354, 37.582),
    "MARSABIT": (2.335, 37.990),
    "MOYALE": (3.524, 39.055),
    "KISII": (-0.681, 34.767),
    "MIGORI": (-1.063, 34.473),
    "ISEBANIA": (-1.232, 34.478),
}
_NORTHERN = ("MSA", "MARIAKANI", "MACKINNON", "VOI", "MTITO", "KIBWEZI", "EMALI", "ATHI")
# Transit routes: (route id, departure office, destination office, destination country,
# waypoints, weight, fraud risk multiplier).
_ROUTES = (
    (
        "R01",
        "KE001",
        "KE004",
        "UG",
        (
            *_NORTHERN,
            "ICD",
            "LIMURU",
            "NAIVASHA",
            "GILGIL",
            "NAKURU",
            "ELDORET",
            "WEBUYE",
            "BUNGOMA",
            "MALABA",
        ),
        0.38,
        1.0,
    ),
    (
        "R02",
        "KE001",
        "KE005",
        "UG",
        (*_NORTHERN, "ICD", "LIMURU", "NAIVASHA", "NAKURU", "KERICHO", "KISUMU", "BUSIA"),
        0.18,
        1.6,
    ),
    (
        "R03",
        "KE003",
        "KE004",
        "RW",
        ("ICD", "LIMURU", "NAIVASHA", "GILGIL", "NAKURU", "ELDORET", "WEBUYE", "BUNGOMA", "MALABA"),
        0.14,
        1.0,
    ),
    ("R04", "KE001", "KE006", "TZ", (*_NORTHERN, "KAJIADO", "NAMANGA"), 0.08, 1.2),
    (
        "R05",
        "KE001",
        "KE009",
        "TZ",
        ("MSA", "MARIAKANI", "MACKINNON", "VOI", "MWATATE", "TAVETA"),
        0.06,
        1.2,
    ),
    ("R06", "KE001", "KE008", "TZ", ("MSA", "UKUNDA", "MSAMBWENI", "LUNGA"), 0.05, 1.5),
    (
        "R07",
        "KE003",
        "KE010",
        "ET",
        ("ICD", "THIKA", "NANYUKI", "ISIOLO", "MARSABIT", "MOYALE"),
        0.06,
        2.2,
    ),
    (
        "R08",
        "KE003",
        "KE007",
        "TZ",
        ("ICD", "LIMURU", "NAIVASHA", "NAKURU", "KERICHO", "KISII", "MIGORI", "ISEBANIA"),
        0.05,
        2.0,
    ),
)

_COMPANY_STEMS = (
    "Amani",
    "Baraka",
    "Jambo",
    "Kilima",
    "Pwani",
    "Savannah",
    "Rift Valley",
    "Tusker",
    "Nyota",
    "Upendo",
    "Simba",
    "Acacia",
    "Lakeside",
    "Highland",
    "Coastal",
    "Equator",
    "Safari",
    "Mlima",
    "Tana",
    "Kijani",
    "Neema",
    "Umoja",
    "Bahari",
    "Taifa",
    "Zawadi",
    "Sunrise",
    "Golden",
    "Crown",
    "Express",
    "Premier",
    "Continental",
    "Metro",
    "Eastgate",
    "Westlands",
    "Karibu",
)
_COMPANY_KINDS = (
    "Traders",
    "Imports",
    "Enterprises",
    "Distributors",
    "Holdings",
    "General Merchants",
    "Supplies",
    "Agencies",
    "Hardware",
    "Motors",
    "Electronics",
    "Textiles",
    "Foods",
    "Pharma",
    "Logistics",
)
_COMPANY_SUFFIX = ("Ltd", "Limited", "Ltd", "Co. Ltd", "(K) Ltd", "EPZ Ltd", "& Sons Ltd")
# Names that need the EDIFACT release character or show accents (UNOC is Latin-1).
_ODD_NAMES = (
    "Société Générale d'Import SARL",
    "O'Brien & Kamau Ltd",
    "A+B Logistics Ltd",
    "Ratio 1:1 Traders",
    "Why? Apparel Ltd",
    "Müller Söhne East Africa",
    "Café Arômes Ltd",
    "Ngugi's Hardware",
    "D'Souza Brothers Ltd",
    "Crème de la Crème Cosmetics",
    "Björk & Nilsson EA",
    "Pérez-García Agro",
)
_FIRST = (
    "John",
    "Mary",
    "Peter",
    "Grace",
    "James",
    "Faith",
    "David",
    "Mercy",
    "Joseph",
    "Esther",
    "Daniel",
    "Ann",
    "Samuel",
    "Lucy",
    "Michael",
    "Jane",
    "Paul",
    "Catherine",
    "Stephen",
    "Agnes",
    "Brian",
    "Wanjiru",
    "Kevin",
    "Achieng",
    "Dennis",
    "Njeri",
    "Collins",
    "Akinyi",
    "Victor",
    "Nafula",
    "Ibrahim",
    "Amina",
    "Hassan",
    "Fatuma",
)
_LAST = (
    "Kamau",
    "Otieno",
    "Wanjiku",
    "Mwangi",
    "Odhiambo",
    "Njoroge",
    "Kiprop",
    "Chebet",
    "Mutua",
    "Wafula",
    "Omondi",
    "Kariuki",
    "Korir",
    "Achieng",
    "Ndungu",
    "Wekesa",
    "Mohamed",
    "Ali",
    "Kiplagat",
    "Nyambura",
    "Onyango",
    "Macharia",
    "Rotich",
    "Barasa",
    "Kimani",
    "Owino",
    "Muthoni",
    "Juma",
    "Okoth",
    "Gitau",
    "O'Neill",
    "D'Costa",
)
_QUALIFIERS = (
    "other",
    "in bulk",
    "put up for retail sale",
    "for industrial use",
    "new",
    "used",
    "in completely knocked down (CKD) form",
    "of a kind used in agriculture",
    "not elsewhere specified",
    "in packings of more than 25 kg",
    "unassembled",
)
_CITIES = {
    "CN": ("Shenzhen", "Guangzhou", "Yiwu", "Ningbo", "Shanghai", "Xiamen"),
    "IN": ("Mumbai", "Chennai", "Ahmedabad", "Delhi"),
    "AE": ("Dubai", "Sharjah", "Jebel Ali"),
    "DE": ("Hamburg", "Bremen", "Stuttgart"),
    "JP": ("Osaka", "Yokohama", "Nagoya"),
    "ZA": ("Durban", "Johannesburg"),
    "TR": ("Istanbul", "Mersin", "Izmir"),
    "TH": ("Bangkok", "Laem Chabang"),
    "PK": ("Karachi", "Lahore"),
    "VN": ("Saigon", "Hanoi"),
    "ID": ("Jakarta", "Surabaya"),
    "MY": ("Penang", "Klang"),
    "NL": ("Rotterdam",),
    "IT": ("Milano", "Genova"),
    "FR": ("Lyon", "Marseille"),
    "KR": ("Seoul", "Busan"),
    "EG": ("Cairo", "Alexandria"),
    "UG": ("Kampala", "Jinja"),
    "TZ": ("Dar es Salaam", "Arusha"),
    "ET": ("Addis Ababa",),
    "BD": ("Dhaka", "Chittagong"),
    "BR": ("Santos", "Sao Paulo"),
    "GB": ("Felixstowe", "Manchester"),
    "US": ("Houston", "Newark"),
}
_FOREIGN_STEMS = (
    "Golden Bridge",
    "Sunshine",
    "Star",
    "Oriental",
    "Global",
    "Pacific",
    "Evergreen",
    "Unity",
    "Royal",
    "Prime",
    "Great Wall",
    "Silk Road",
    "Lotus",
    "Harvest",
    "Atlas",
    "Nova",
    "Delta",
    "Meridian",
    "Horizon",
    "Apex",
)
_FOREIGN_KINDS = (
    "Trading Co., Ltd",
    "Export Co.",
    "Industrial Ltd",
    "Manufacturing Co.",
    "International FZE",
    "GmbH",
    "Corporation",
    "Pvt Ltd",
    "S.p.A.",
    "Group",
)
_CARRIERS = (
    ("MSCU", "Mediterranean Shipping Co"),
    ("MAEU", "Maersk Line"),
    ("CMDU", "CMA CGM"),
    ("COSU", "COSCO Shipping"),
    ("HLCU", "Hapag-Lloyd"),
    ("ONEY", "Ocean Network Express"),
    ("PILU", "Pacific International Lines"),
)
_VESSELS = (
    "MSC AMANDA",
    "MAERSK KENSINGTON",
    "CMA CGM TANZANIA",
    "COSCO PRIDE",
    "HAPAG MOMBASA",
    "ONE HARMONY",
    "KOTA LAYANG",
    "MSC LAURA",
    "SAFMARINE NGAMI",
    "MAERSK CAIRO",
    "CMA CGM DAR",
    "KOTA PERDANA",
)
_LOADING_PORTS = {
    "CN": "CNSHA",
    "IN": "INNSA",
    "AE": "AEJEA",
    "JP": "JPYOK",
    "DE": "DEHAM",
    "GB": "GBFXT",
    "US": "USNYC",
    "ZA": "ZADUR",
    "TR": "TRMER",
    "MY": "MYPKG",
    "VN": "VNSGN",
    "TH": "THLCH",
    "PK": "PKKHI",
    "NL": "NLRTM",
    "KR": "KRPUS",
}
_AIRLINES = ("KQ", "EK", "QR", "ET", "TK", "KL", "MS")
_PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"


@dataclass(frozen=True, slots=True)
class Tariff:
    """One 8-digit tariff line with its price norm.

    ``price_mu``/``price_sigma`` parameterise the lognormal unit price in USD per
    ``qty_unit``; ``hs2017`` is the code the line had under HS 2017 when it changed.
    """

    index: int
    code: str
    chapter: str
    description: str
    description_edi: str
    description_xml: str
    duty: int
    price_mu: float
    price_sigma: float
    qty_unit: str
    kg_per_unit: float
    origins: tuple[tuple[str, ...], tuple[float, ...]]
    hs2017: str | None
    lower_duty: tuple[int, ...]  # indexes of same-chapter lines with a lower duty rate
    profile: str = ""  # trade profile (elec, steel, textile...): importers specialise in one


@dataclass(frozen=True, slots=True)
class Party:
    """A trader, declarant or exporter, with its names pre-escaped for each format."""

    index: int
    id: str
    name: str
    name_edi: str
    name_xml: str
    country: str
    risk: float
    natural_person: bool = False
    sectors: tuple[int, ...] = ()  # preferred tariff line indexes (importers)
    broker: int = -1  # preferred declarant index (importers)


@dataclass(frozen=True, slots=True)
class Route:
    """A transit corridor: waypoint coordinates and cumulative kilometres."""

    id: str
    departure: str
    destination: str
    country: str
    points: tuple[tuple[float, float], ...]
    cum_km: tuple[float, ...]
    risk: float


@dataclass(frozen=True, slots=True)
class Officer:
    """A customs officer (personal data) and the office of their current posting."""

    id: str
    national_id: str
    full_name: str
    grade: str
    email: str
    date_of_birth: str
    hired_on: str
    active: bool
    office: str
    role: str
    posted_on: str
    previous: tuple[str, str, str] | None  # (office, start, end)


def edi_escape(text: str) -> str:
    """Release the EDIFACT service characters (UNA ``:+.? '``) with ``?``."""
    return text.replace("?", "??").replace("'", "?'").replace("+", "?+").replace(":", "?:")


def xml_escape(text: str) -> str:
    """Escape text for XML element content and attributes."""
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance between two (lat, lon) points in kilometres."""
    lat1, lon1, lat2, lon2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0 * math.asin(math.sqrt(h))


class Picker(Generic[T]):
    """Weighted choice over a fixed list in O(log n), driven by the caller's RNG."""

    __slots__ = ("cum", "items", "total")

    def __init__(self, items: Sequence[T], weights: Sequence[float]) -> None:
        self.items = list(items)
        self.cum = list(accumulate(weights))
        self.total = self.cum[-1]

    def pick(self, rnd: random.Random) -> T:
        """One element, chosen with probability proportional to its weight."""
        return self.items[bisect_right(self.cum, rnd.random() * self.total)]


@dataclass(slots=True)
class ReferenceData:
    """Everything the generator looks up: tariff, parties, offices, routes, officers, rates."""

    rates: dict[str, float]
    currency_picker: Picker[str]
    tariffs: list[Tariff]
    tariff_picker: Picker[Tariff]
    importers: list[Party]
    importer_picker: Picker[Party]
    declarants: list[Party]
    exporters_by_country: dict[str, list[Party]]
    offices: dict[str, tuple[str, str, str, float, float, float, float]]
    office_picker: Picker[str]
    border_neighbour: dict[str, str]
    routes: list[Route]
    route_picker: Picker[Route]
    officers: list[Officer]
    officers_by_office: dict[str, list[Officer]]
    country_names: dict[str, str]
    carriers: tuple[tuple[str, str], ...]
    vessels: tuple[str, ...]
    loading_ports: dict[str, str]
    airlines: tuple[str, ...]
    fraud_base: float = 0.0
    extra: dict[str, float] = field(default_factory=dict)

    def duty_rate(self, tariff: Tariff, origin: str) -> int:
        """Effective duty rate in percent: 0 for EAC origin, plus anti-dumping where listed."""
        if origin in EAC_PARTNERS:
            return 0
        return tariff.duty + ANTI_DUMPING.get((tariff.chapter, origin), 0)


def _kra_pin(rnd: random.Random, person: bool) -> str:
    check = rnd.choice("ABCDEFGHJKLMNPQRTXYZ")
    return f"{'A' if person else 'P'}0{rnd.randrange(10**8, 10**9)}{check}"


def _party(index: int, pid: str, name: str, country: str, risk: float, **kw) -> Party:
    return Party(index, pid, name, edi_escape(name), xml_escape(name), country, risk, **kw)


def build_reference(seed: int, n_officers: int = 200) -> ReferenceData:
    """Build the seeded reference world (deterministic for a given seed)."""
    rnd = random.Random(f"{seed}/reference")

    rates = {
        cur: (1.0 if cur == NATIONAL_CURRENCY else round(base * rnd.uniform(0.985, 1.015), 4))
        for cur, base, _ in _CURRENCIES
    }
    currency_picker = Picker([c for c, _, _ in _CURRENCIES], [w for _, _, w in _CURRENCIES])

    # Tariff: each HS6 line splits into 2-6 national 8-digit lines (~300 in all).
    raw: list[tuple] = []
    for hs6, desc, duty, price, unit, kg, weight, profile in _HS6:
        n_lines = rnd.choice((2, 3, 3, 4, 4, 4, 5, 6))
        suffixes = sorted(
            rnd.sample(("00", "10", "11", "19", "20", "21", "29", "30", "90", "91", "99"), n_lines)
        )
        for k, suffix in enumerate(suffixes):
            line_duty = duty
            if k > 0 and duty > 0 and rnd.random() < 0.35:  # a reduced-rate national line
                line_duty = max(0, (0, 10, 10, 25)[min(3, duty // 10)] if duty >= 25 else 0)
            norm = price * math.exp(rnd.gauss(0, 0.25))
            qualifier = _QUALIFIERS[rnd.randrange(len(_QUALIFIERS))]
            raw.append(
                (
                    f"{hs6}{suffix}",
                    hs6,
                    desc if k == 0 else f"{desc}, {qualifier}",
                    line_duty,
                    math.log(norm),
                    rnd.uniform(0.22, 0.45),
                    unit,
                    kg,
                    weight / n_lines,
                    profile,
                )
            )
    by_chapter: dict[str, list[int]] = {}
    for i, row in enumerate(raw):
        by_chapter.setdefault(row[0][:2], []).append(i)
    tariffs = []
    for i, (code, hs6, desc, duty, mu, sigma, unit, kg, _w, profile) in enumerate(raw):
        chapter = code[:2]
        lower = tuple(j for j in by_chapter[chapter] if raw[j][3] < duty)
        origins = _ORIGINS[profile]
        old = HS2017_OF_2022.get(hs6)
        tariffs.append(
            Tariff(
                i,
                code,
                chapter,
                desc,
                edi_escape(desc),
                xml_escape(desc),
                duty,
                mu,
                sigma,
                unit,
                kg,
                (tuple(origins), tuple(float(v) for v in origins.values())),
                f"{old}{code[6:]}" if old else None,
                lower,
                profile,
            )
        )
    tariff_picker = Picker(tariffs, [r[8] for r in raw])
    by_profile: dict[str, Picker[Tariff]] = {}
    for profile in sorted({t.profile for t in tariffs}):
        members = [t for t in tariffs if t.profile == profile]
        by_profile[profile] = Picker(members, [raw[t.index][8] for t in members])

    # Declarants (customs brokers): 150, 6 % risky.
    declarants = []
    for i in range(150):
        name = (
            f"{rnd.choice(_COMPANY_STEMS)} {rnd.choice(('Clearing', 'Freight', 'Forwarders'))}"
            f" {rnd.choice(('Agencies', 'Services', 'Logistics'))} Ltd"
        )
        risk = 3.0 if rnd.random() < 0.06 else 1.0
        declarants.append(_party(i, f"CB{10001 + i}", name, "KE", risk))

    # Importers: Zipf-like volumes, some natural persons, 5 % risky, sector profiles.
    importers = []
    weights = []
    n_importers = 3000
    for i in range(n_importers):
        person = rnd.random() < 0.12
        if person:
            name = f"{rnd.choice(_FIRST)} {rnd.choice(_LAST)}"
        elif rnd.random() < 0.02:
            name = rnd.choice(_ODD_NAMES)
        else:
            name = (
                f"{rnd.choice(_COMPANY_STEMS)} {rnd.choice(_COMPANY_KINDS)} "
                f"{rnd.choice(_COMPANY_SUFFIX)}"
            )
        risk = 6.0 if rnd.random() < 0.05 else 1.0
        main = tariff_picker.pick(rnd)
        same = by_profile[main.profile]
        sectors = (main.index, *(same.pick(rnd).index for _ in range(rnd.randint(1, 5))))
        if rnd.random() < 0.2:
            sectors = (*sectors, tariff_picker.pick(rnd).index)
        broker = rnd.randrange(len(declarants))
        importers.append(
            _party(
                i,
                _kra_pin(rnd, person),
                name,
                "KE",
                risk,
                natural_person=person,
                sectors=sectors,
                broker=broker,
            )
        )
        weights.append(1.0 / (i + 10) ** 0.9)
    importer_picker = Picker(importers, weights)

    # Exporters: 40 per origin country.
    exporters_by_country: dict[str, list[Party]] = {}
    countries = sorted(
        {c for prof in _ORIGINS.values() for c in prof}
        | set(ORIGIN_DODGES)
        | {c for v in ORIGIN_DODGES.values() for c in v}
        | set(_BORDER_NEIGHBOUR.values())
    )
    n = 0
    for country in countries:
        lst = []
        for _ in range(40):
            city = rnd.choice(_CITIES.get(country, (_COUNTRY_NAMES.get(country, country),)))
            name = f"{city} {rnd.choice(_FOREIGN_STEMS)} {rnd.choice(_FOREIGN_KINDS)}"
            if rnd.random() < 0.03:
                name = rnd.choice(_ODD_NAMES)
            lst.append(_party(n, f"{country}{rnd.randrange(10**9, 10**10)}", name, country, 1.0))
            n += 1
        exporters_by_country[country] = lst

    offices = {o[0]: o for o in OFFICES}
    office_picker = Picker([o[0] for o in OFFICES], [o[3] for o in OFFICES])

    routes = []
    for rid, dep, dest, country, names, _w, risk in _ROUTES:
        pts = tuple(_WAYPOINTS[p] for p in names)
        cum = [0.0]
        for a, b in pairwise(pts):
            cum.append(cum[-1] + haversine_km(a, b) * 1.15)  # roads are not great circles
        routes.append(Route(rid, dep, dest, country, pts, tuple(cum), risk))
    route_picker = Picker(routes, [r[5] for r in _ROUTES])

    officers = []
    office_codes = [o[0] for o in OFFICES]
    posting_picker = Picker(office_codes, [o[3] + 0.02 for o in OFFICES])
    grades = ("CO3", "CO2", "CO1", "SCO", "PCO")
    roles = (
        "examination officer",
        "examination officer",
        "verification officer",
        "valuation officer",
        "enforcement officer",
        "supervisor",
    )
    for i in range(n_officers):
        first, last = rnd.choice(_FIRST), rnd.choice(_LAST)
        office = office_codes[i] if i < len(office_codes) else posting_picker.pick(rnd)
        year = rnd.randint(1965, 1998)
        hired = rnd.randint(max(year + 21, 1990), 2025)
        posted = rnd.randint(max(hired, 2019), 2026)
        previous = None
        if posted > hired and rnd.random() < 0.35:
            previous = (
                posting_picker.pick(rnd),
                f"{hired}-{rnd.randint(1, 12):02d}-01",
                f"{posted}-{rnd.randint(1, 6):02d}-28",
            )
        clean_last = last.replace("'", "").lower()
        officers.append(
            Officer(
                f"OFF{1001 + i}",
                f"{rnd.randrange(10**7, 4 * 10**7)}",
                f"{first} {last}",
                rnd.choice(grades),
                f"{first.lower()}.{clean_last}{i + 1}@kra.go.ke",
                f"{year}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}",
                f"{hired}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}",
                rnd.random() < 0.96,
                office,
                rnd.choice(roles),
                f"{posted}-{rnd.randint(7, 12) if posted < 2026 else rnd.randint(1, 10):02d}-01",
                previous,
            )
        )
    officers_by_office: dict[str, list[Officer]] = {}
    for off in officers:
        if off.active:
            officers_by_office.setdefault(off.office, []).append(off)

    ref = ReferenceData(
        rates=rates,
        currency_picker=currency_picker,
        tariffs=tariffs,
        tariff_picker=tariff_picker,
        importers=importers,
        importer_picker=importer_picker,
        declarants=declarants,
        exporters_by_country=exporters_by_country,
        offices=offices,
        office_picker=office_picker,
        border_neighbour=dict(_BORDER_NEIGHBOUR),
        routes=routes,
        route_picker=route_picker,
        officers=officers,
        officers_by_office=officers_by_office,
        country_names=dict(_COUNTRY_NAMES),
        carriers=_CARRIERS,
        vessels=_VESSELS,
        loading_ports=_LOADING_PORTS,
        airlines=_AIRLINES,
    )

    # Calibrate the base fraud probability so that the volume-weighted mean is ~7 %.
    total_w = sum(weights)
    m_imp = sum(w * p.risk for w, p in zip(weights, importers, strict=True)) / total_w
    m_dec = (
        0.3 * (sum(d.risk for d in declarants) / len(declarants))
        + 0.7
        * sum(declarants[p.broker].risk * w for w, p in zip(weights, importers, strict=True))
        / total_w
    )
    m_off = sum(o[3] * o[4] for o in OFFICES) / sum(o[3] for o in OFFICES)
    ref.fraud_base = 0.07 / (m_imp * m_dec * m_off)
    return ref
