//! Writing the synthetic data in the canonical interchange formats
//! (shared/DESIGN.md section 3): CSV (UTF-8, `,`, decimal point) and Parquet.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::generate::{indicator_id, Obs, SynthData, HOUSING_TYPES};

/// Errors writing the data.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// File system.
    #[error("{path}: {source}")]
    Io {
        /// File.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// Parquet.
    #[error("{path}: {source}")]
    Parquet {
        /// File.
        path: PathBuf,
        /// Cause.
        source: PolarsError,
    },
}

/// Which files to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Formats {
    /// CSV only.
    Csv,
    /// Parquet only.
    Parquet,
    /// Both.
    Both,
}

const NOTICE: &str = "SYNTETISKE DATA - SYNTHETIC DATA\n\n\
Every file in this folder was made by `bomon generate`. It describes no real\n\
housing department, resident or organisation. Figures are random draws from a\n\
latent model with planted developments (listed in truth.csv) and planted\n\
data-quality problems. Departments carry the covariate column `synthetic` = 1\n\
and organisation names end in \"(syntetisk)\".\n\n";

fn num(v: f64) -> String {
    if v.is_nan() {
        String::new()
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

struct Out<'a> {
    dir: &'a Path,
    formats: Formats,
    written: Vec<PathBuf>,
}

impl Out<'_> {
    fn csv(
        &mut self,
        name: &str,
        header: &str,
        rows: impl Iterator<Item = String>,
    ) -> Result<(), WriteError> {
        if self.formats == Formats::Parquet {
            return Ok(());
        }
        let path = self.dir.join(format!("{name}.csv"));
        let io = |source| WriteError::Io {
            path: path.clone(),
            source,
        };
        let mut w = BufWriter::with_capacity(1 << 20, File::create(&path).map_err(io)?);
        writeln!(w, "{header}").map_err(io)?;
        for r in rows {
            w.write_all(r.as_bytes()).map_err(io)?;
            w.write_all(b"\n").map_err(io)?;
        }
        w.flush().map_err(io)?;
        self.written.push(path);
        Ok(())
    }

    fn parquet(
        &mut self,
        name: &str,
        df: impl FnOnce() -> PolarsResult<DataFrame>,
    ) -> Result<(), WriteError> {
        if self.formats == Formats::Csv {
            return Ok(());
        }
        let path = self.dir.join(format!("{name}.parquet"));
        let err = |source| WriteError::Parquet {
            path: path.clone(),
            source,
        };
        let mut df = df().map_err(err)?;
        let f = File::create(&path).map_err(|source| WriteError::Io {
            path: path.clone(),
            source,
        })?;
        ParquetWriter::new(f)
            .with_compression(ParquetCompression::Zstd(None))
            .finish(&mut df)
            .map_err(err)?;
        self.written.push(path);
        Ok(())
    }
}

fn obs_rows<'a>(data: &'a SynthData, obs: &'a [Obs]) -> impl Iterator<Item = String> + 'a {
    obs.iter().map(move |o| {
        let p = if o.quarter == 0 {
            o.year.to_string()
        } else {
            format!("{}Q{}", o.year, o.quarter)
        };
        let id = &data.departments[o.dept as usize].id;
        if o.den.is_nan() {
            format!("{id},{p},{},,,{}", indicator_id(o.indicator), num(o.num))
        } else {
            format!(
                "{id},{p},{},{},{},",
                indicator_id(o.indicator),
                num(o.num),
                num(o.den)
            )
        }
    })
}

fn obs_frame(data: &SynthData, obs: &[Obs]) -> PolarsResult<DataFrame> {
    let period: Vec<String> = obs
        .iter()
        .map(|o| {
            if o.quarter == 0 {
                o.year.to_string()
            } else {
                format!("{}Q{}", o.year, o.quarter)
            }
        })
        .collect();
    DataFrame::new(vec![
        Column::new(
            "department_id".into(),
            obs.iter()
                .map(|o| data.departments[o.dept as usize].id.as_str())
                .collect::<Vec<_>>(),
        ),
        Column::new("period".into(), period),
        Column::new(
            "indicator".into(),
            obs.iter()
                .map(|o| indicator_id(o.indicator))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "numerator".into(),
            obs.iter()
                .map(|o| (!o.den.is_nan()).then_some(o.num))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "denominator".into(),
            obs.iter()
                .map(|o| (!o.den.is_nan()).then_some(o.den))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "value".into(),
            obs.iter()
                .map(|o| o.den.is_nan().then_some(o.num))
                .collect::<Vec<_>>(),
        ),
    ])
}

const OBS_HEADER: &str = "department_id,period,indicator,numerator,denominator,value";

/// Writes every table to `dir` (created if missing); returns the files written.
pub fn write(data: &SynthData, dir: &Path, formats: Formats) -> Result<Vec<PathBuf>, WriteError> {
    std::fs::create_dir_all(dir).map_err(|source| WriteError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut out = Out {
        dir,
        formats,
        written: vec![],
    };
    let notice = dir.join("SYNTHETIC-DATA.txt");
    let text = format!("{NOTICE}{}.\n", bomon_vocab::marking::INTERNAL_DA);
    std::fs::write(&notice, text).map_err(|source| WriteError::Io {
        path: notice.clone(),
        source,
    })?;
    out.written.push(notice);

    let deps = &data.departments;
    out.csv(
        "departments",
        "department_id,name,organisation,municipality_code,area_id,housing_type,tenancies,construction_year,small_dwellings,synthetic",
        deps.iter().map(|d| {
            format!(
                "{},{},{},{},{},{},{},{},{},1",
                d.id,
                csv_field(&d.name),
                csv_field(&d.organisation),
                d.municipality_code,
                d.area_id.as_deref().unwrap_or(""),
                HOUSING_TYPES[d.housing_type],
                d.tenancies,
                d.construction_year,
                num(d.small_dwellings)
            )
        }),
    )?;
    out.parquet("departments", || {
        DataFrame::new(vec![
            Column::new(
                "department_id".into(),
                deps.iter().map(|d| d.id.as_str()).collect::<Vec<_>>(),
            ),
            Column::new(
                "name".into(),
                deps.iter().map(|d| d.name.as_str()).collect::<Vec<_>>(),
            ),
            Column::new(
                "organisation".into(),
                deps.iter()
                    .map(|d| d.organisation.as_str())
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                "municipality_code".into(),
                deps.iter()
                    .map(|d| d.municipality_code.as_str())
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                "area_id".into(),
                deps.iter()
                    .map(|d| d.area_id.as_deref())
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                "housing_type".into(),
                deps.iter()
                    .map(|d| HOUSING_TYPES[d.housing_type])
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                "tenancies".into(),
                deps.iter()
                    .map(|d| i64::from(d.tenancies))
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                "construction_year".into(),
                deps.iter().map(|d| d.construction_year).collect::<Vec<_>>(),
            ),
            Column::new(
                "small_dwellings".into(),
                deps.iter().map(|d| d.small_dwellings).collect::<Vec<_>>(),
            ),
            Column::new("synthetic".into(), vec![1i64; deps.len()]),
        ])
    })?;
    for (name, obs) in [
        ("observations_annual", &data.annual),
        ("observations_quarterly", &data.quarterly),
        ("observations_quarterly_resubmitted", &data.resubmitted),
    ] {
        if obs.is_empty() {
            continue;
        }
        out.csv(name, OBS_HEADER, obs_rows(data, obs))?;
        out.parquet(name, || obs_frame(data, obs))?;
    }
    out.csv(
        "areas",
        "area_id,name,municipality_code,departments",
        data.areas.iter().map(|a| {
            format!(
                "{},{},{},{}",
                a.area_id,
                csv_field(&a.name),
                a.municipality_code,
                a.departments
            )
        }),
    )?;
    out.parquet("areas", || {
        DataFrame::new(vec![
            Column::new(
                "area_id".into(),
                data.areas
                    .iter()
                    .map(|a| a.area_id.as_str())
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                "name".into(),
                data.areas
                    .iter()
                    .map(|a| a.name.as_str())
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                "municipality_code".into(),
                data.areas
                    .iter()
                    .map(|a| a.municipality_code.as_str())
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                "departments".into(),
                data.areas.iter().map(|a| a.departments).collect::<Vec<_>>(),
            ),
        ])
    })?;
    out.csv(
        "categories",
        "area_id,period,category",
        data.categories
            .iter()
            .map(|c| format!("{},{},{}", c.area_id, c.year, c.category)),
    )?;
    out.parquet("categories", || {
        DataFrame::new(vec![
            Column::new(
                "area_id".into(),
                data.categories
                    .iter()
                    .map(|c| c.area_id.as_str())
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                "period".into(),
                data.categories
                    .iter()
                    .map(|c| c.year.to_string())
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                "category".into(),
                data.categories
                    .iter()
                    .map(|c| c.category)
                    .collect::<Vec<_>>(),
            ),
        ])
    })?;
    let t = &data.truth;
    out.csv(
        "truth",
        "department_id,indicator,kind,shape,start_period,effect,expected_before,expected_after,note",
        t.iter().map(|r| {
            format!(
                "{},{},{},{},{},{},{},{},{}",
                r.department_id,
                r.indicator,
                r.kind,
                r.shape,
                r.start_period,
                num(r.effect),
                num(r.expected_before),
                num(r.expected_after),
                csv_field(&r.note)
            )
        }),
    )?;
    out.parquet("truth", || {
        DataFrame::new(vec![
            Column::new(
                "department_id".into(),
                t.iter()
                    .map(|r| r.department_id.as_str())
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                "indicator".into(),
                t.iter().map(|r| r.indicator.as_str()).collect::<Vec<_>>(),
            ),
            Column::new(
                "kind".into(),
                t.iter().map(|r| r.kind.as_str()).collect::<Vec<_>>(),
            ),
            Column::new(
                "shape".into(),
                t.iter().map(|r| r.shape.as_str()).collect::<Vec<_>>(),
            ),
            Column::new(
                "start_period".into(),
                t.iter()
                    .map(|r| r.start_period.as_str())
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                "effect".into(),
                t.iter().map(|r| r.effect).collect::<Vec<_>>(),
            ),
            Column::new(
                "expected_before".into(),
                t.iter().map(|r| r.expected_before).collect::<Vec<_>>(),
            ),
            Column::new(
                "expected_after".into(),
                t.iter().map(|r| r.expected_after).collect::<Vec<_>>(),
            ),
            Column::new(
                "note".into(),
                t.iter().map(|r| r.note.as_str()).collect::<Vec<_>>(),
            ),
        ])
    })?;
    Ok(out.written)
}
