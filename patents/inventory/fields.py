"""WIPO IPC-technology concordance: 35 technology fields in 5 sectors.

The field list and the IPC-to-field table follow WIPO's "IPC - Technology
Concordance Table" (Schmoch 2008, as maintained by WIPO; file ``ipc_technology``).
``WIPO_CONCORDANCE`` was transcribed from the copy of WIPO's table kept in
PatentsView-DB (``persistent_files/ipc_technology.csv``), which carries WIPO's own
"updated on" stamps up to 2015 (e.g. H02S and H04N 19 in 2014, B33Y in 2015).

IPC subclasses created after that copy are not in it. ``LOCAL_EXTENSIONS`` assigns
the ones a marketplace meets most often; each follows the field of the IPC
subclass it was split out of (or, for G16H, the assignment used in
PATSTAT-based medical-technology statistics). They are our additions, kept apart
so they can be checked against - and replaced by - a newer WIPO release.

Matching is longest prefix first: a main-group entry such as ``A61K 8`` (cosmetics
-> organic fine chemistry) beats the rest of its subclass. Subclasses that WIPO
splits by main group (A61K, B01D, C13B, E01F, G01N, H04N) have no subclass-level
entry, so a group WIPO does not list - or a bare subclass such as ``A61K`` - is
classified as ``None`` rather than guessed.

Designs: WIPO's fields are defined on the IPC, and designs carry Locarno classes instead.
``LOCARNO_FIELDS`` is our own small table from a Locarno class to the field whose IPC
subclasses cover the same articles (class 06 furnishing -> A47B/A47C -> field 33); a
class that spans several fields (08 tools and hardware, 14 recording, communication
or information retrieval equipment: audio-visual, telecommunications and computers)
or has no technical counterpart (32 graphic symbols, 99 miscellaneous) maps to none,
so such a design stays unclassified rather than guessed. The table works on class
numbers only; subclasses are not looked at.

Chinese names: sectors as commonly used by CNIPA (电气工程, 仪器, 化学, 机械工程,
其他领域); field names are the usual Chinese renderings of WIPO's English names.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from patents.inventory.ipc import IPCError, normalize_ipc

__all__ = [
    "FIELDS",
    "FIELDS_BY_NUMBER",
    "LOCAL_EXTENSIONS",
    "LOCARNO_FIELDS",
    "SECTORS",
    "WIPO_CONCORDANCE",
    "Sector",
    "TechnologyField",
    "classify_ipc",
    "classify_locarno_series",
    "classify_series",
]


@dataclass(frozen=True, slots=True)
class Sector:
    """One of WIPO's five technology sectors."""

    key: str
    name_en: str
    name_zh: str


@dataclass(frozen=True, slots=True)
class TechnologyField:
    """One of WIPO's 35 technology fields (numbered 1-35 as in WIPO's table)."""

    number: int
    name_en: str
    name_zh: str
    sector: Sector


ELECTRICAL = Sector("electrical_engineering", "Electrical engineering", "电气工程")
INSTRUMENTS = Sector("instruments", "Instruments", "仪器")
CHEMISTRY = Sector("chemistry", "Chemistry", "化学")
MECHANICAL = Sector("mechanical_engineering", "Mechanical engineering", "机械工程")
OTHER = Sector("other_fields", "Other fields", "其他领域")

SECTORS: list[Sector] = [ELECTRICAL, INSTRUMENTS, CHEMISTRY, MECHANICAL, OTHER]

FIELDS: list[TechnologyField] = [
    TechnologyField(1, "Electrical machinery, apparatus, energy", "电气机械、设备和能源", ELECTRICAL),
    TechnologyField(2, "Audio-visual technology", "音像技术", ELECTRICAL),
    TechnologyField(3, "Telecommunications", "电信", ELECTRICAL),
    TechnologyField(4, "Digital communication", "数字通信", ELECTRICAL),
    TechnologyField(5, "Basic communication processes", "基础通信程序", ELECTRICAL),
    TechnologyField(6, "Computer technology", "计算机技术", ELECTRICAL),
    TechnologyField(7, "IT methods for management", "管理用信息技术方法", ELECTRICAL),
    TechnologyField(8, "Semiconductors", "半导体", ELECTRICAL),
    TechnologyField(9, "Optics", "光学", INSTRUMENTS),
    TechnologyField(10, "Measurement", "测量", INSTRUMENTS),
    TechnologyField(11, "Analysis of biological materials", "生物材料分析", INSTRUMENTS),
    TechnologyField(12, "Control", "控制", INSTRUMENTS),
    TechnologyField(13, "Medical technology", "医学技术", INSTRUMENTS),
    TechnologyField(14, "Organic fine chemistry", "有机精细化学", CHEMISTRY),
    TechnologyField(15, "Biotechnology", "生物技术", CHEMISTRY),
    TechnologyField(16, "Pharmaceuticals", "药品", CHEMISTRY),
    TechnologyField(17, "Macromolecular chemistry, polymers", "高分子化学、聚合物", CHEMISTRY),
    TechnologyField(18, "Food chemistry", "食品化学", CHEMISTRY),
    TechnologyField(19, "Basic materials chemistry", "基础材料化学", CHEMISTRY),
    TechnologyField(20, "Materials, metallurgy", "材料、冶金", CHEMISTRY),
    TechnologyField(21, "Surface technology, coating", "表面技术、涂层", CHEMISTRY),
    TechnologyField(22, "Micro-structural and nano-technology", "微观结构和纳米技术", CHEMISTRY),
    TechnologyField(23, "Chemical engineering", "化学工程", CHEMISTRY),
    TechnologyField(24, "Environmental technology", "环境技术", CHEMISTRY),
    TechnologyField(25, "Handling", "装卸", MECHANICAL),
    TechnologyField(26, "Machine tools", "机床", MECHANICAL),
    TechnologyField(27, "Engines, pumps, turbines", "发动机、泵、涡轮机", MECHANICAL),
    TechnologyField(28, "Textile and paper machines", "纺织和造纸机械", MECHANICAL),
    TechnologyField(29, "Other special machines", "其他专用机械", MECHANICAL),
    TechnologyField(30, "Thermal processes and apparatus", "热工过程和器具", MECHANICAL),
    TechnologyField(31, "Mechanical elements", "机械元件", MECHANICAL),
    TechnologyField(32, "Transport", "运输", MECHANICAL),
    TechnologyField(33, "Furniture, games", "家具、游戏", OTHER),
    TechnologyField(34, "Other consumer goods", "其他消费品", OTHER),
    TechnologyField(35, "Civil engineering", "土木工程", OTHER),
]

FIELDS_BY_NUMBER: dict[int, TechnologyField] = {f.number: f for f in FIELDS}


def _groups(subclass: str, groups: str) -> str:
    return " ".join(f"{subclass}_{g}" for g in groups.split())


# Field number -> IPC prefixes, as in WIPO's table. "H04N_21" means main group 21 of
# H04N exactly (WIPO writes it "H04N  21%" against fixed-width symbols).
_WIPO_TABLE: dict[int, str] = {
    1: "F21H F21K F21L F21S F21V F21W F21Y H01B H01C H01F H01G H01H H01J H01K H01M H01R H01T "
    "H02B H02G H02H H02J H02K H02M H02N H02P H02S H05B H05C H05F H99Z",
    2: "G09F G09G G11B " + _groups("H04N", "3 5 7 9 11 13 15 17 19 101") + " H04R H04S H05K",
    3: "G08C H01P H01Q H04B H04H H04J H04K H04M H04N_1 H04Q",
    4: "H04L H04N_21 H04W",
    5: "H03B H03C H03D H03F H03G H03H H03J H03K H03L H03M",
    6: "G06C G06D G06E G06F G06G G06J G06K G06M G06N G06T G10L G11C",
    7: "G06Q",
    8: "H01L",
    9: "G02B G02C G02F G03B G03C G03D G03F G03G G03H H01S",
    10: "G01B G01C G01D G01F G01G G01H G01J G01K G01L G01M "
    + _groups("G01N", "1 3 5 7 9 11 13 15 17 19 21 22 23 24 25 27 29 30 31 35 37")
    + " G01P G01Q G01R G01S G01V G01W G04B G04C G04D G04F G04G G04R G12B G99Z",
    11: "G01N_33",
    12: "G05B G05D G05F G07B G07C G07D G07F G07G G08B G08G G09B G09C G09D",
    13: "A61B A61C A61D A61F A61G A61H A61J A61L A61M A61N H05G",
    14: "A61K_8 A61Q C07B C07C C07D C07F C07H C07J C40B",
    15: "C07G C07K C12M C12N C12P C12Q C12R C12S",
    16: _groups("A61K", "6 9 31 33 35 36 38 39 41 45 47 48 49 50 51 101 103 125 127 129 131 133 135")
    + " A61P",
    17: "C08B C08C C08F C08G C08H C08K C08L",
    18: "A01H A21D A23B A23C A23D A23F A23G A23J A23K A23L C12C C12F C12G C12H C12J "
    + _groups("C13B", "10 20 30 35 40 50 99")
    + " C13D C13F C13J C13K",
    19: "A01N A01P C05B C05C C05D C05F C05G C06B C06C C06D C06F C09B C09C C09D C09F C09G C09H "
    "C09J C09K C10B C10C C10F C10G C10H C10J C10K C10L C10M C10N C11B C11C C11D C99Z",
    20: "B22C B22D B22F C01B C01C C01D C01F C01G C03C C04B C21B C21C C21D C22B C22C C22F",
    21: "B05C B05D B32B C23C C23D C23F C23G C25B C25C C25D C25F C30B",
    22: "B81B B81C B82B B82Y",
    23: "B01B "
    + _groups(
        "B01D", "1 3 5 7 8 9 11 12 15 17 19 21 24 25 27 29 33 35 36 37 39 41 43 57 59 61 63 65 67 69 71"
    )
    + " B01F B01J B01L B02C B03B B03C B03D B04B B04C B05B B06B B07B B07C B08B C14C D06B D06C "
    "D06L F25J F26B H05H",
    24: "A62C "
    + _groups("B01D", "45 46 47 49 50 51 52 53")
    + " B09B B09C B65F C02F E01F_8 F01N F23G F23J G01T",
    25: "B25J B65B B65C B65D B65G B65H B66B B66C B66D B66F B67B B67C B67D",
    26: "A62D B21B B21C B21D B21F B21G B21H B21J B21K B21L B23B B23C B23D B23F B23G B23H B23K "
    "B23P B23Q B24B B24C B24D B25B B25C B25D B25F B25G B25H B26B B26D B26F B27B B27C B27D "
    "B27F B27G B27H B27J B27K B27L B27M B27N B30B",
    27: "F01B F01C F01D F01K F01L F01M F01P F02B F02C F02D F02F F02G F02K F02M F02N F02P F03B "
    "F03C F03D F03G F03H F04B F04C F04D F04F F23R F99Z G21B G21C G21D G21F G21G G21H G21J G21K",
    28: "A41H A43D A46D B31B B31C B31D B31F B41B B41C B41D B41F B41G B41J B41K B41L B41M B41N "
    "C14B D01B D01C D01D D01F D01G D01H D02G D02H D02J D03C D03D D03J D04B D04C D04G D04H "
    "D05B D05C D06G D06H D06J D06M D06P D06Q D21B D21C D21D D21F D21G D21H D21J D99Z",
    29: "A01B A01C A01D A01F A01G A01J A01K A01L A01M A21B A21C A22B A22C A23N A23P B02B B28B "
    "B28C B28D B29B B29C B29D B29K B29L B33Y B99Z C03B C08J C12L "
    + _groups("C13B", "5 15 25 45")
    + " C13C C13G C13H F41A F41B F41C F41F F41G F41H F41J F42B F42C F42D",
    30: "F22B F22D F22G F23B F23C F23D F23H F23K F23L F23M F23N F23Q F24B F24C F24D F24F F24H "
    "F24J F25B F25C F27B F27D F28B F28C F28D F28F F28G",
    31: "F15B F15C F15D F16B F16C F16D F16F F16G F16H F16J F16K F16L F16M F16N F16P F16S F16T "
    "F17B F17C F17D G05G",
    32: "B60B B60C B60D B60F B60G B60H B60J B60K B60L B60M B60N B60P B60Q B60R B60S B60T B60V "
    "B60W B61B B61C B61D B61F B61G B61H B61J B61K B61L B62B B62C B62D B62H B62J B62K B62L "
    "B62M B63B B63C B63G B63H B63J B64B B64C B64D B64F B64G",
    33: "A47B A47C A47D A47F A47G A47H A47J A47K A47L A63B A63C A63D A63F A63G A63H A63J A63K",
    34: "A24B A24C A24D A24F A41B A41C A41D A41F A41G A42B A42C A43B A43C A44B A44C A45B A45C "
    "A45D A45F A46B A62B A99Z B42B B42C B42D B42F B43K B43L B43M B44B B44C B44D B44F B68B "
    "B68C B68F B68G D04D D06F D06N D07B F25D G10B G10C G10D G10F G10G G10H G10K",
    35: "E01B E01C E01D "
    + _groups("E01F", "1 3 5 7 9 11 13 15")
    + " E01H E02B E02C E02D E02F E03B E03C E03D E03F E04B E04C E04D E04F E04G E04H E05B E05C "
    "E05D E05F E05G E06B E06C E21B E21C E21D E21F E99Z",
}


def _prefix(token: str) -> str:
    return token.replace("_", " ")


WIPO_CONCORDANCE: dict[str, int] = {
    _prefix(token): number for number, tokens in _WIPO_TABLE.items() for token in tokens.split()
}
"""IPC prefix (``"H01M"`` or ``"A61K 8"``) -> field number, as published by WIPO."""

LOCAL_EXTENSIONS: dict[str, int] = {
    "F24S": 30,  # solar heat collectors, IPC 2018; split from F24J (field 30)
    "G06V": 6,  # image/video recognition, IPC 2022; split from G06K 9 (field 6)
    "G16H": 13,  # healthcare informatics, IPC 2018; medical technology as in PATSTAT-based studies
    "H10B": 8,  # memory devices, IPC 2023; split from H01L (field 8)
    "H10K": 8,  # organic electric solid-state devices, IPC 2023; split from H01L (field 8)
    "H10N": 8,  # thermo-/galvano-/superconducting devices, IPC 2023; split from H01L (field 8)
    "H04N 23": 2,  # cameras, IPC 2023; split from H04N 5 (field 2)
    "H04N 25": 2,  # solid-state image sensors, IPC 2023; split from H04N 5 (field 2)
    "B64U": 32,  # unmanned aerial vehicles, IPC 2023; split from B64C (field 32)
}
"""Our additions for IPC subclasses and groups newer than the WIPO table above."""

_CONCORDANCE: dict[str, int] = {**WIPO_CONCORDANCE, **LOCAL_EXTENSIONS}
_SUBCLASS_FIELD: dict[str, int] = {k: v for k, v in _CONCORDANCE.items() if " " not in k}
_GROUP_FIELD: dict[str, int] = {k: v for k, v in _CONCORDANCE.items() if " " in k}


def _field_number(canonical: str) -> int | None:
    """Field number of a canonical IPC symbol or subclass (longest prefix wins)."""
    if len(canonical) > 4:
        group_key = canonical.partition("/")[0]  # "H04N 21/4335" -> "H04N 21"
        if group_key in _GROUP_FIELD:
            return _GROUP_FIELD[group_key]
    return _SUBCLASS_FIELD.get(canonical[:4])


def classify_ipc(code: str) -> TechnologyField | None:
    """Return the WIPO technology field of an IPC symbol (any accepted spelling).

    Returns ``None`` for codes the concordance does not cover - including invalid
    symbols and bare subclasses that WIPO splits by main group (e.g. ``"A61K"``).
    """
    try:
        canonical = normalize_ipc(code, allow_subclass=True)
    except IPCError:
        return None
    number = _field_number(canonical)
    return None if number is None else FIELDS_BY_NUMBER[number]


# Canonical symbols (as produced by patents.inventory.ipc) take the vectorised route; anything
# else is classified through classify_ipc, so both routes always agree.
_CANONICAL_PATTERN = r"^(?P<subclass>[A-H][0-9]{2}[A-Z])(?: (?P<group>[1-9][0-9]{0,3})/[0-9]{2,6})?$"


def classify_series(main_ipc: pd.Series) -> pd.Series:
    """Vectorised :func:`classify_ipc` returning field numbers.

    Returns a nullable ``Int64`` Series indexed like ``main_ipc``; ``<NA>`` where
    :func:`classify_ipc` would return ``None`` (unknown, invalid or missing codes).

    Each distinct value is classified once: canonical symbols by a subclass lookup
    overridden by a main-group lookup (the longest-prefix rule), other spellings
    through :func:`classify_ipc`.
    """
    codes, distinct = pd.factorize(main_ipc.to_numpy(dtype=object))
    distinct = pd.Series(distinct, dtype=object)
    is_text = distinct.map(lambda v: isinstance(v, str)).to_numpy(dtype=bool)
    parts = distinct.where(is_text, "").str.extract(_CANONICAL_PATTERN)
    by_subclass = parts["subclass"].map(_SUBCLASS_FIELD)
    by_group = (parts["subclass"] + " " + parts["group"]).map(_GROUP_FIELD)
    fields = by_group.fillna(by_subclass).to_numpy(dtype=object, na_value=None, copy=True)
    for i in np.flatnonzero(parts["subclass"].isna().to_numpy()):
        field = classify_ipc(distinct.iloc[i])
        fields[i] = None if field is None else field.number
    out = np.full(len(codes), None, dtype=object)
    known = codes >= 0
    out[known] = fields[codes[known]]
    return pd.Series(out, index=main_ipc.index, dtype="Int64", name="wipo_field")


# Locarno class -> WIPO field, through the IPC subclasses that cover the same articles. Classes absent
# here (01 foodstuffs, 05 textile piece goods, 08 tools and hardware, 14 recording/communication/information
# retrieval equipment, 15 machines n.e.s., 20 sales and advertising equipment, 23 fluid distribution,
# sanitary, heating and ventilation, 28 pharmaceutical and cosmetic products, 29 fire and accident
# protection, 32 graphic symbols, 99 miscellaneous) span several fields or none: those designs stay
# unclassified. Our own table, not WIPO's; see docs/inventory-import.md.
LOCARNO_FIELDS: dict[int, int] = {
    2: 34,  # clothing and haberdashery: A41B-A41D, A42B, A43B, A44B
    3: 34,  # travel goods, cases, parasols, personal belongings: A45B, A45C
    4: 34,  # brushware: A46B
    6: 33,  # furnishing: A47B, A47C
    7: 33,  # household goods n.e.s.: A47G, A47J, A47K
    9: 25,  # packages and containers for transport or handling: B65D
    10: 10,  # clocks, watches, measuring, checking and signalling instruments: G04B, G01
    11: 34,  # articles of adornment: A44C
    12: 32,  # means of transport or hoisting: B60-B64 (hoisting, B66, is the lesser part)
    13: 1,  # production, distribution or transformation of electricity: H01, H02
    16: 9,  # photographic, cinematographic and optical apparatus: G02B, G03B
    17: 34,  # musical instruments: G10B-G10H
    18: 28,  # printing and office machinery: B41
    19: 34,  # stationery and office equipment, artists' and teaching materials: B42, B43
    21: 33,  # games, toys, tents and sports goods: A63
    22: 29,  # arms, pyrotechnics, hunting, fishing, pest killing: F41, F42, A01K, A01M
    24: 13,  # medical and laboratory equipment: A61B-A61M
    25: 35,  # building units and construction elements: E04
    26: 1,  # lighting apparatus: F21 (WIPO field 1)
    27: 34,  # tobacco and smokers' supplies: A24
    30: 29,  # care and handling of animals: A01K
    31: 33,  # machines and appliances for preparing food or drink: A47J
}
"""Locarno class number -> field number; our documented choice, not part of WIPO's concordance."""


def classify_locarno_series(main_locarno: pd.Series) -> pd.Series:
    """Field numbers of canonical Locarno classes (``"06-01"``) as a nullable ``Int64`` Series indexed like
    ``main_locarno``; ``<NA>`` for classes without a counterpart in :data:`LOCARNO_FIELDS` and missing values."""
    # Per distinct class: a column holds a few dozen.
    codes, distinct = pd.factorize(main_locarno.to_numpy(dtype=object), use_na_sentinel=False)
    fields = np.array([LOCARNO_FIELDS.get(int(code[:2])) if isinstance(code, str) and code[:2].isdigit() else None
                       for code in distinct], dtype=object)
    return pd.Series(fields[codes], index=main_locarno.index, dtype="Int64", name="wipo_field")
