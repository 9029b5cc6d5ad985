"""Patent grading (分级): a 0-100 score from documented, weighted factors, mapped to grades A-D.

Vectorised over a pandas frame so a whole portfolio (or a 1M-row import) is graded in one pass. The
per-patent factor breakdown is kept so the UI can explain "why B". docs/grading.md describes the method.

Each factor is a value in [0, 1] times its weight; the weights add up to 100. When no buyer-demand data
exists yet, the demand factor is left out and the other weights are rescaled to 100, so a grade never
depends on data the platform does not have.
"""

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

# Thresholds, in one place: score >= threshold gives the grade.
GRADE_THRESHOLDS = (("A", 75), ("B", 55), ("C", 35), ("D", 0))
_BINS = [-1] + sorted(t - 1 for _, t in GRADE_THRESHOLDS if t > 0) + [100]
_LABELS = [g for g, _ in reversed(GRADE_THRESHOLDS)]


@dataclass(frozen=True)
class Factor:
    key: str
    weight: int
    label_en: str
    label_zh: str
    rule: str  # how the factor is scored, in English
    rule_zh: str  # the same, in Chinese (the page shows the reader's)


FACTORS = (
    Factor("remaining_life", 25, "Remaining life", "剩余保护期",
           "Years of protection left / 10, capped at 1 (10 years or more scores full).",
           "剩余保护年数 ÷ 10，最高为 1（剩余 10 年及以上得满分）。"),
    Factor("legal_status", 20, "Legal status", "法律状态",
           "Granted and in force 1; pending 0.4; lapsed, expired or invalidated 0.",
           "已授权且有效为 1；审查中为 0.4；失效、期满或被宣告无效为 0。"),
    Factor("claims", 15, "Claims", "权利要求数", "Number of claims / 20, capped at 1.",
           "权利要求项数 ÷ 20，最高为 1。"),
    Factor("citations", 15, "Forward citations", "被引次数",
           "log(1 + citations) / log(1 + 20), capped at 1; unknown counts as 0.",
           "ln(1 + 被引次数) ÷ ln(1 + 20)，最高为 1；未知按 0 计。"),
    Factor("family", 10, "Family size", "同族规模", "(family members - 1) / 5, capped at 1; unknown counts as 0.",
           "（同族成员数 − 1）÷ 5，最高为 1；未知按 0 计。"),
    Factor("evaluation", 5, "Examination strength", "稳定性（审查/评价报告）",
           "Inventions are substantively examined: 1. Utility models and designs: evaluation report positive 1, "
           "partial 0.5, negative or none 0.",
           "发明专利经过实质审查：1。实用新型和外观设计：专利权评价报告结论为肯定的 1，部分肯定的 0.5，"
           "否定或没有报告的 0。"),
    Factor("demand", 10, "Demand for its field", "技术领域需求热度",
           "Share of open buyer needs in the patent's technology field, relative to the busiest field.",
           "该专利所属技术领域中未关闭的需求数，与需求最多的领域相比的比例。"),
)
FACTOR_BY_KEY = {f.key: f for f in FACTORS}


def grade_for_score(score: int) -> str:
    for grade, threshold in GRADE_THRESHOLDS:
        if score >= threshold:
            return grade
    return "D"


def grade_frame(df: pd.DataFrame, *, today: date, demand_by_field: dict[int, float] | None = None,
                factors_as_json: bool = False) -> pd.DataFrame:
    """Grade every row of `df` (columns: kind, legal_status, expiry_date, claims_count, forward_citations,
    family_size, evaluation_report, technology_field). Returns a frame with score (int 0-100), grade (A-D)
    and factors (dict per row: {factor: {"value": 0..1, "points": float, "weight": int}}), same index.
    With `factors_as_json`, factors is each dict's JSON text instead (what a bulk write stores), formatted
    from whole columns: the same text json.dumps gives, without building a dict per row."""
    n = len(df)
    expiry = pd.to_datetime(df["expiry_date"]).to_numpy(dtype="datetime64[D]")
    remaining_years = np.clip((expiry - np.datetime64(today, "D")).astype("int64") / 365.25, 0, None)
    status = df["legal_status"].astype(str).to_numpy()
    in_force = (status == "granted") & (remaining_years > 0)
    values = {
        "remaining_life": np.minimum(remaining_years / 10.0, 1.0),
        "legal_status": np.where(in_force, 1.0, np.where(status == "pending", 0.4, 0.0)),
        "claims": np.minimum(_num(df["claims_count"], n) / 20.0, 1.0),
        "citations": np.minimum(np.log1p(_num(df["forward_citations"], n)) / np.log1p(20.0), 1.0),
        "family": np.clip((_num(df["family_size"], n) - 1) / 5.0, 0.0, 1.0),
        "evaluation": np.where(
            df["kind"].astype(str).to_numpy() == "invention", 1.0,
            df["evaluation_report"].astype(str).map({"positive": 1.0, "partial": 0.5}).fillna(0.0).to_numpy(),
        ),
    }
    weights = {f.key: float(f.weight) for f in FACTORS}
    if demand_by_field:
        busiest = max(demand_by_field.values()) or 1.0
        field = pd.to_numeric(df["technology_field"], errors="coerce")
        values["demand"] = field.map(lambda f: demand_by_field.get(int(f), 0.0) / busiest if pd.notna(f) else 0.0)\
            .to_numpy(dtype=float)
    else:
        weights.pop("demand")
    scale = 100.0 / sum(weights.values())
    points = {k: values[k] * weights[k] * scale for k in weights}
    score = np.rint(sum(points.values())).astype(int)
    grades = pd.cut(score, bins=_BINS, labels=_LABELS).astype(str)
    keys = list(weights)
    value_cols = [np.round(values[k], 3) for k in keys]
    point_cols = [np.round(points[k], 1) for k in keys]
    if factors_as_json:
        # float repr is what json.dumps writes for a float; the keys are fixed identifiers (no escaping).
        template = "{" + ", ".join(f'"{k}": {{"value": %r, "points": %r, "weight": {round(weights[k] * scale, 1)!r}}}'
                                   for k in keys) + "}"
        columns = [c for i in range(len(keys)) for c in (np.asarray(value_cols[i], dtype=float).tolist(),
                                                          np.asarray(point_cols[i], dtype=float).tolist())]
        factors = [template % row for row in zip(*columns, strict=True)]
    else:
        factors = [
            {k: {"value": float(value_cols[i][r]), "points": float(point_cols[i][r]),
                 "weight": round(weights[k] * scale, 1)}
             for i, k in enumerate(keys)}
            for r in range(n)
        ]
    return pd.DataFrame({"score": score, "grade": np.asarray(grades), "factors": factors}, index=df.index)


def _num(series: pd.Series, n: int) -> np.ndarray:
    return pd.to_numeric(series, errors="coerce").fillna(0).to_numpy(dtype=float) if len(series) else np.zeros(n)
