//! The analysts' verbs: `bomon funnel`, `bomon spc` and `bomon trend` run the
//! statistics of bomon-stats on any table file. Argument mapping and output
//! only; the methods live in bomon-stats.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{bail, Result};
use bomon_stats::funnel::{
    funnel, FunnelOptions, LimitMethod, Measure, Overdispersion, Trim, Worse,
};
use bomon_stats::multiple::{
    bh_qvalues, expected_false_alarms_unadjusted, expected_false_discoveries,
};
use bomon_stats::spc::{spc, Chart, Rules, SpcOptions};
use bomon_stats::trend::mann_kendall;
use bomon_store::dialect::CsvOptions;
use bomon_store::raw::{read_raw, RawTable};
use bomon_store::Period;
use clap::{Args, ValueEnum};
use polars::prelude::*;

use crate::output::{write_frame, Format};

/// Which way is worse, on the command line.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum WorseArg {
    /// Higher values are worse.
    Higher,
    /// Lower values are worse.
    Lower,
}

impl From<WorseArg> for Worse {
    fn from(w: WorseArg) -> Worse {
        match w {
            WorseArg::Higher => Worse::Higher,
            WorseArg::Lower => Worse::Lower,
        }
    }
}

/// Options shared by the analysis verbs.
#[derive(Args)]
pub struct Common {
    /// Input table: CSV (any Danish Excel dialect), XLSX or Parquet.
    pub file: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value = "csv")]
    pub format: Format,
    /// Write the result here instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// `bomon funnel FILE`.
#[derive(Args)]
pub struct FunnelArgs {
    #[command(flatten)]
    common: Common,
    /// proportion (arcsine-sqrt scale), ratio-log (SHMI) or ratio-sqrt (Spiegelhalter) for observed/expected.
    #[arg(long = "type", value_enum, default_value = "proportion")]
    measure: MeasureArg,
    /// Overdispersion adjustment.
    #[arg(long, value_enum, default_value = "multiplicative")]
    overdispersion: OdArg,
    /// Limits when there is no overdispersion adjustment.
    #[arg(long, value_enum, default_value = "exact")]
    limits: LimitsArg,
    /// Winsorise z-scores by this share in each tail before estimating phi
    /// (with --trim truncate: leave this share out at each end).
    #[arg(long, default_value_t = 0.1)]
    winsorise: f64,
    /// Winsorise the tails (Spiegelhalter) or truncate them (NHS Digital SHMI).
    #[arg(long, value_enum, default_value = "winsorise")]
    trim: TrimArg,
    /// Target rate (default: pooled sum(numerator)/sum(denominator); 1 for ratios).
    #[arg(long)]
    target: Option<f64>,
    /// Which way is worse (flags are one-sided).
    #[arg(long, value_enum, default_value = "higher")]
    worse: WorseArg,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum MeasureArg {
    Proportion,
    ProportionLogit,
    RatioLog,
    RatioSqrt,
}
#[derive(Debug, Clone, Copy, ValueEnum)]
enum OdArg {
    None,
    Multiplicative,
    Additive,
}
#[derive(Debug, Clone, Copy, ValueEnum)]
enum LimitsArg {
    Exact,
    Normal,
    Wilson,
    Garwood,
}
#[derive(Debug, Clone, Copy, ValueEnum)]
enum TrimArg {
    Winsorise,
    Truncate,
}

/// `bomon spc FILE`.
#[derive(Args)]
pub struct SpcArgs {
    #[command(flatten)]
    common: Common,
    /// Chart type.
    #[arg(long, value_enum, default_value = "xmr")]
    chart: ChartArg,
    /// Rule set.
    #[arg(long, value_enum, default_value = "anhoej")]
    rules: RulesArg,
    /// Freeze centre line and limits after this many points.
    #[arg(long, value_name = "N")]
    freeze: Option<usize>,
    /// Which way is worse, to label signals as concern or improvement.
    #[arg(long, value_enum)]
    worse: Option<WorseArg>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ChartArg {
    Run,
    Xmr,
    P,
    Pprime,
    U,
    Uprime,
}
#[derive(Debug, Clone, Copy, ValueEnum)]
enum RulesArg {
    Anhoej,
    Nhs,
}

/// `bomon trend FILE`.
#[derive(Args)]
pub struct TrendArgs {
    #[command(flatten)]
    common: Common,
}

fn read(c: &Common) -> Result<RawTable> {
    Ok(read_raw(&c.file, &CsvOptions::default())?)
}

/// Runs `bomon funnel`.
pub fn run_funnel(a: FunnelArgs, quiet: bool) -> Result<()> {
    let t = read(&a.common)?;
    if !(0.0..0.5).contains(&a.winsorise) {
        bail!(
            "--winsorise: expected the share of each tail, at least 0 and below 0.5 (e.g. 0.1), found {}",
            a.winsorise
        );
    }
    let units = t.texts(t.require("unit")?);
    let num = t.numbers(t.require("numerator")?)?;
    let den = t.numbers(t.require("denominator")?)?;
    let opts = FunnelOptions {
        measure: match a.measure {
            MeasureArg::Proportion => Measure::Proportion,
            MeasureArg::ProportionLogit => Measure::ProportionLogit,
            MeasureArg::RatioLog => Measure::RatioLog,
            MeasureArg::RatioSqrt => Measure::RatioSqrt,
        },
        overdispersion: match a.overdispersion {
            OdArg::None => Overdispersion::None,
            OdArg::Multiplicative => Overdispersion::Multiplicative,
            OdArg::Additive => Overdispersion::Additive,
        },
        winsorise: a.winsorise,
        trim: match a.trim {
            TrimArg::Winsorise => Trim::Winsorise,
            TrimArg::Truncate => Trim::Truncate,
        },
        limits: match a.limits {
            LimitsArg::Exact => LimitMethod::Exact,
            LimitsArg::Normal => LimitMethod::Normal,
            LimitsArg::Wilson => LimitMethod::Wilson,
            LimitsArg::Garwood => LimitMethod::Garwood,
        },
        target: a.target,
        worse: a.worse.into(),
    };
    check_counts(
        &t,
        &num,
        &den,
        matches!(opts.measure, Measure::Proportion | Measure::ProportionLogit),
    )?;
    let f = funnel(&num, &den, &opts);
    if !quiet && opts.overdispersion != Overdispersion::None && !f.phi.is_finite() {
        eprintln!(
            "funnel: warning: no units are left after trimming {} % at each end, so overdispersion cannot be estimated; the limits are not adjusted",
            a.winsorise * 100.0
        );
    }
    let p: Vec<f64> = f.points.iter().map(|p| p.p).collect();
    let q = bh_qvalues(&p);
    let col = |name: &str, v: Vec<f64>| Column::new(name.into(), v);
    let pts = &f.points;
    let mut df = DataFrame::new(vec![
        Column::new("unit".into(), units),
        col("numerator", num.clone()),
        col("denominator", den.clone()),
        col("value", pts.iter().map(|p| p.value).collect()),
        col("target", vec![f.target; pts.len()]),
        col("z", pts.iter().map(|p| p.z).collect()),
        col("z_adjusted", pts.iter().map(|p| p.z_adjusted).collect()),
        col("p", p),
        col("q", q.clone()),
        col("lower95", pts.iter().map(|p| p.lower95).collect()),
        col("upper95", pts.iter().map(|p| p.upper95).collect()),
        col("lower998", pts.iter().map(|p| p.lower998).collect()),
        col("upper998", pts.iter().map(|p| p.upper998).collect()),
        Column::new(
            "flag".into(),
            pts.iter()
                .map(|p| p.flag.map(|s| s.name()))
                .collect::<Vec<_>>(),
        ),
    ])?;
    if !quiet {
        let m = pts.iter().filter(|p| p.p.is_finite()).count();
        eprintln!(
            "funnel: {m} units, target {:.6}, phi {:.4}, tau2 {:.6}; flags: {} alert, {} alarm; \
             expected false alarms at 95 % without adjustment {:.1}, among q <= 0.05 at most {:.1}",
            f.target,
            f.phi,
            f.tau2,
            pts.iter()
                .filter(|p| p.flag == Some(bomon_stats::Severity::Alert))
                .count(),
            pts.iter()
                .filter(|p| p.flag == Some(bomon_stats::Severity::Alarm))
                .count(),
            expected_false_alarms_unadjusted(m, 0.025),
            expected_false_discoveries(&q, 0.05),
        );
    }
    write_frame(&mut df, a.common.format, a.common.out.as_deref())
}

/// Groups row indices by the optional `series` column, in order of appearance,
/// each group sorted by period when every period parses.
fn series_groups(t: &RawTable, periods: &[Option<String>]) -> Result<Vec<(String, Vec<usize>)>> {
    let series = t.column("series").map(|c| t.texts(c));
    let mut order: Vec<String> = Vec::new();
    let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for i in 0..t.len() {
        let key = series
            .as_ref()
            .and_then(|s| s[i].clone())
            .unwrap_or_default();
        if !groups.contains_key(&key) {
            order.push(key.clone());
        }
        groups.entry(key).or_default().push(i);
    }
    let mut out = Vec::new();
    for k in order {
        let mut idx = groups.remove(&k).unwrap_or_default();
        let parsed: Option<Vec<Period>> = idx
            .iter()
            .map(|&i| periods[i].as_deref().and_then(|p| p.parse().ok()))
            .collect();
        if let Some(ps) = parsed {
            let mut pairs: Vec<(Period, usize)> = ps.into_iter().zip(idx.iter().copied()).collect();
            pairs.sort();
            if let Some(w) = pairs.windows(2).find(|w| w[0].0 == w[1].0) {
                let pcol = t.require("period")?;
                let first = w[0].1.min(w[1].1);
                let again = w[0].1.max(w[1].1);
                let which = if k.is_empty() {
                    "the series".to_string()
                } else {
                    format!("series '{k}'")
                };
                let msg = format!(
                    "expected one value per period in {which}, found {} again (first on {})",
                    w[0].0,
                    t.place(first, Some(pcol))
                );
                return Err(t
                    .rejection(vec![(again, pcol, msg)])
                    .expect("one problem")
                    .into());
            }
            idx = pairs.into_iter().map(|p| p.1).collect();
        }
        out.push((k, idx));
    }
    Ok(out)
}

/// Counts cannot be negative, and a share (`share`) cannot exceed its
/// denominator: every such cell is named by file, line and column.
fn check_counts(t: &RawTable, num: &[f64], den: &[f64], share: bool) -> Result<()> {
    let (ncol, dcol) = (t.require("numerator")?, t.require("denominator")?);
    let mut problems = Vec::new();
    for i in 0..num.len() {
        if num[i] < 0.0 {
            problems.push((
                i,
                ncol,
                format!("expected a count of at least 0, found {}", num[i]),
            ));
        } else if share && den[i] >= 0.0 && num[i] > den[i] {
            problems.push((
                i,
                ncol,
                format!(
                    "expected at most the denominator ({}) for a proportion, found {}",
                    den[i], num[i]
                ),
            ));
        }
        if den[i] < 0.0 {
            problems.push((
                i,
                dcol,
                format!("expected a denominator of at least 0, found {}", den[i]),
            ));
        }
    }
    match t.rejection(problems) {
        Some(e) => Err(e.into()),
        None => Ok(()),
    }
}

/// Runs `bomon spc`.
pub fn run_spc(a: SpcArgs, quiet: bool) -> Result<()> {
    let t = read(&a.common)?;
    let periods = t.texts(t.require("period")?);
    let chart = match a.chart {
        ChartArg::Run => Chart::Run,
        ChartArg::Xmr => Chart::Xmr,
        ChartArg::P => Chart::P,
        ChartArg::Pprime => Chart::PPrime,
        ChartArg::U => Chart::U,
        ChartArg::Uprime => Chart::UPrime,
    };
    let needs_den = !matches!(chart, Chart::Run | Chart::Xmr);
    let (values, dens) = if needs_den {
        let n = t.numbers(t.require("numerator")?)?;
        let d = t.numbers(t.require("denominator")?)?;
        check_counts(&t, &n, &d, matches!(chart, Chart::P | Chart::PPrime))?;
        (n, Some(d))
    } else if let Some(c) = t.column("value") {
        (t.numbers(c)?, None)
    } else {
        // numerator/denominator given for an XmR or run chart: chart the rate.
        let n = t.numbers(t.require("numerator")?)?;
        let d = t.numbers(t.require("denominator")?)?;
        (n.iter().zip(&d).map(|(a, b)| a / b).collect(), None)
    };
    let opts = SpcOptions {
        chart,
        rules: match a.rules {
            RulesArg::Anhoej => Rules::Anhoej,
            RulesArg::Nhs => Rules::Nhs,
        },
        freeze: a.freeze,
        rebase: vec![],
        worse: a.worse.map(Into::into),
        sd_floor: false,
        between_variance: None,
    };
    let (mut s_col, mut p_col, mut v, mut c, mut lo, mut hi, mut sig, mut rule, mut concern) = (
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
    );
    for (series, idx) in series_groups(&t, &periods)? {
        let y: Vec<f64> = idx.iter().map(|&i| values[i]).collect();
        let d: Option<Vec<f64>> = dens.as_ref().map(|d| idx.iter().map(|&i| d[i]).collect());
        let r = spc(&y, d.as_deref(), &opts);
        if !quiet {
            for ra in &r.runs {
                eprintln!(
                    "spc {}: {} useful points, longest run {} (max {}), crossings {} (min {}){}",
                    if series.is_empty() { "-" } else { &series },
                    ra.n_useful,
                    ra.longest_run,
                    ra.longest_run_max,
                    ra.crossings,
                    ra.crossings_min,
                    if ra.signal {
                        ": non-random variation"
                    } else {
                        ""
                    }
                );
            }
        }
        for (k, p) in r.points.iter().enumerate() {
            s_col.push(series.clone());
            p_col.push(periods[idx[k]].clone());
            v.push(p.value);
            c.push(p.centre);
            lo.push(p.lower);
            hi.push(p.upper);
            sig.push(p.rule.is_some());
            rule.push(p.rule.map(|r| r.name()));
            concern.push(p.concern.map(|c| if c { "concern" } else { "improvement" }));
        }
    }
    let mut df = DataFrame::new(vec![
        Column::new("series".into(), s_col),
        Column::new("period".into(), p_col),
        Column::new("value".into(), v),
        Column::new("centre".into(), c),
        Column::new("lower".into(), lo),
        Column::new("upper".into(), hi),
        Column::new("signal".into(), sig),
        Column::new("rule".into(), rule),
        Column::new("direction".into(), concern),
    ])?;
    write_frame(&mut df, a.common.format, a.common.out.as_deref())
}

/// Runs `bomon trend`.
pub fn run_trend(a: TrendArgs) -> Result<()> {
    let t = read(&a.common)?;
    let periods = t.texts(t.require("period")?);
    let values = t.numbers(t.require("value")?)?;
    let mut rows: Vec<(String, bomon_stats::trend::MannKendall)> = Vec::new();
    for (series, idx) in series_groups(&t, &periods)? {
        let y: Vec<f64> = idx.iter().map(|&i| values[i]).collect();
        rows.push((series, mann_kendall(&y)));
    }
    let f = |g: fn(&bomon_stats::trend::MannKendall) -> f64| {
        rows.iter().map(|r| g(&r.1)).collect::<Vec<f64>>()
    };
    let mut df = DataFrame::new(vec![
        Column::new(
            "series".into(),
            rows.iter().map(|r| r.0.clone()).collect::<Vec<_>>(),
        ),
        Column::new(
            "n".into(),
            rows.iter().map(|r| r.1.n as u32).collect::<Vec<_>>(),
        ),
        Column::new("s".into(), f(|m| m.s)),
        Column::new("var_s".into(), f(|m| m.var_s)),
        Column::new("z".into(), f(|m| m.z)),
        Column::new("p".into(), f(|m| m.p)),
        Column::new("tau".into(), f(|m| m.tau)),
        Column::new("sen_slope".into(), f(|m| m.slope)),
        Column::new("intercept".into(), f(|m| m.intercept)),
    ])?;
    write_frame(&mut df, a.common.format, a.common.out.as_deref())
}
