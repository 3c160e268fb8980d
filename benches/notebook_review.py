"""The annual review as an analyst would write it in a notebook: polars and
numpy, no bomon code. `cargo bench --bench pipeline` runs it alternately with
`bomon review --annual 2025 --no-report` on the same generated national data
(issue #21's side-by-side) and reports the ratio of the median wall times.

Usage: python benches/notebook_review.py DEPARTMENTS.parquet OBSERVATIONS.parquet YEAR OUT_DIR

The method, step by step (bomon's defaults, in their plainest form):
1. Read the departments and the annual observations (Parquet), keep the
   shares (numerator / denominator) of the review year and the two before.
2. Twins: per department the k = 20 nearest departments of the same housing
   type and another organisation, on standardised log(tenancies),
   construction year and small_dwellings (Euclidean distance, numpy,
   block by block).
3. Level tests against the twins and against all departments: the
   department's share against the twins' pooled share (and the national
   one) on the logit scale, with an additive between-department variance
   tau^2 from the 10 % winsorised z-scores (DerSimonian-Laird moments), as a
   funnel plot does.
4. Development tests: the change in logit from the year before against the
   twins' pooled change, with the same kind of tau^2.
5. Benjamini-Hochberg at q = 0.05 across every test; flags written to
   OUT_DIR/flags.parquet, all tests to OUT_DIR/tests.parquet.

It is a fair notebook, not a straw man: vectorised with polars joins and
numpy, no Python loops over departments except the kNN blocks.
"""
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

K = 20


def logit(p):
    p = np.clip(p, 1e-9, 1 - 1e-9)
    return np.log(p / (1 - p))


def twins(dep: pl.DataFrame) -> pl.DataFrame:
    """The k nearest departments of the same housing type from other organisations."""
    x = np.column_stack(
        [
            np.log(dep["tenancies"].cast(pl.Float64).to_numpy().clip(1, None)),
            dep["construction_year"].cast(pl.Float64).to_numpy(),
            dep["small_dwellings"].cast(pl.Float64).fill_null(0.0).to_numpy(),
        ]
    )
    x = (x - x.mean(axis=0)) / x.std(axis=0)
    ids = dep["department_id"].to_numpy()
    org = dep["organisation"].to_numpy()
    ht = dep["housing_type"].to_numpy()
    src, dst = [], []
    for t in np.unique(ht):
        idx = np.nonzero(ht == t)[0]
        xs, os = x[idx], org[idx]
        for start in range(0, len(idx), 512):
            blk = slice(start, min(start + 512, len(idx)))
            d = ((xs[blk, None, :] - xs[None, :, :]) ** 2).sum(axis=2)
            d[os[blk, None] == os[None, :]] = np.inf
            k = min(K, len(idx) - 1)
            near = np.argpartition(d, k, axis=1)[:, :k]
            ok = np.isfinite(np.take_along_axis(d, near, axis=1))
            rows = np.repeat(idx[blk], k).reshape(-1, k)
            src.append(ids[rows[ok]])
            dst.append(ids[idx[near[ok]]])
    return pl.DataFrame({"department_id": np.concatenate(src), "twin": np.concatenate(dst)})


def winsorised_tau2(z, v):
    """DerSimonian-Laird tau^2 from z-scores winsorised at 10 % each tail."""
    z = z[np.isfinite(z)]
    if len(z) < 10:
        return 0.0
    lo, hi = np.quantile(z, [0.1, 0.9])
    zw = np.clip(z, lo, hi)
    phi = float((zw**2).mean())
    w = 1.0 / v[np.isfinite(v)]
    return max(0.0, (len(z) * phi - (len(z) - 1)) / (w.sum() - (w**2).sum() / w.sum()))


def funnel_z(y, ref, v, ind):
    """z of y against ref with variance v + tau^2, tau^2 per indicator."""
    z = np.full(len(y), np.nan)
    for i in np.unique(ind):
        m = ind == i
        tau2 = winsorised_tau2((y[m] - ref[m]) / np.sqrt(v[m]), v[m])
        z[m] = (y[m] - ref[m]) / np.sqrt(v[m] + tau2)
    return z


def two_sided_p(z):
    """2 (1 - Phi(|z|)), vectorised: erfc by Abramowitz & Stegun 7.1.26
    (absolute error below 1.5e-7), as numpy has no erfc."""
    x = np.abs(z) / np.sqrt(2.0)
    t = 1.0 / (1.0 + 0.3275911 * x)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return np.clip(poly * np.exp(-x * x), 0.0, 1.0)


@np.errstate(all="ignore")
def main():
    dep_path, obs_path, year, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
    t0 = time.perf_counter()
    dep = pl.read_parquet(dep_path)
    obs = (
        pl.scan_parquet(obs_path)
        .filter(pl.col("numerator").is_not_null() & (pl.col("denominator") > 0))
        .with_columns(pl.col("period").cast(pl.Int32, strict=False).alias("year"))
        .filter(pl.col("year").is_between(year - 1, year))
        .select("department_id", "indicator", "year", "numerator", "denominator")
        .collect()
    )
    tw = twins(dep)
    now = obs.filter(pl.col("year") == year)
    before = obs.filter(pl.col("year") == year - 1).rename(
        {"numerator": "n0", "denominator": "d0"}
    ).drop("year")
    both = now.join(before, on=["department_id", "indicator"], how="left")
    # The twins' pooled counts, this year and last.
    pooled = (
        tw.join(both, left_on="twin", right_on="department_id")
        .group_by("department_id", "indicator")
        .agg(
            pl.col("numerator").sum().alias("tn"),
            pl.col("denominator").sum().alias("td"),
            pl.col("n0").sum().alias("tn0"),
            pl.col("d0").sum().alias("td0"),
        )
    )
    national = both.group_by("indicator").agg(
        (pl.col("numerator").sum() / pl.col("denominator").sum()).alias("nat")
    )
    df = both.join(pooled, on=["department_id", "indicator"], how="left").join(
        national, on="indicator"
    )
    n, d = df["numerator"].to_numpy(), df["denominator"].to_numpy()
    p = (n + 0.5) / (d + 1.0)
    v = 1.0 / (d * p * (1 - p))
    y = logit(p)
    ind = df["indicator"].to_numpy()
    tests = [
        ("level_twins", funnel_z(y, logit(df["tn"].to_numpy() / df["td"].to_numpy()), v, ind)),
        ("level_national", funnel_z(y, logit(df["nat"].to_numpy()), v, ind)),
    ]
    n0, d0 = df["n0"].to_numpy(), df["d0"].to_numpy()
    p0 = (n0 + 0.5) / (d0 + 1.0)
    dy = y - logit(p0)
    dv = v + 1.0 / (d0 * p0 * (1 - p0))
    tref = logit(df["tn"].to_numpy() / df["td"].to_numpy()) - logit(
        df["tn0"].to_numpy() / df["td0"].to_numpy()
    )
    tests.append(("development_twins", funnel_z(dy, tref, dv, ind)))
    res = pl.concat(
        [
            df.select("department_id", "indicator").with_columns(
                pl.lit(name).alias("test"), pl.Series("z", zz)
            )
            for name, zz in tests
        ]
    ).filter(pl.col("z").is_finite())
    zs = res["z"].to_numpy()
    pv = two_sided_p(zs)
    order = np.argsort(pv)
    m = len(pv)
    q = np.empty(m)
    q[order] = np.minimum.accumulate((pv[order] * m / np.arange(1, m + 1))[::-1])[::-1]
    res = res.with_columns(pl.Series("p", pv), pl.Series("q", np.minimum(q, 1.0)))
    out.mkdir(parents=True, exist_ok=True)
    res.write_parquet(out / "tests.parquet")
    res.filter(pl.col("q") < 0.05).write_parquet(out / "flags.parquet")
    print(
        f"notebook review: {len(dep)} departments, {res.height} tests, "
        f"{(res['q'] < 0.05).sum()} flags in {time.perf_counter() - t0:.2f} s"
    )


if __name__ == "__main__":
    main()
