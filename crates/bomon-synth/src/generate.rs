//! Building the synthetic population: organisations, departments, housing
//! areas, indicator series with planted developments, data-quality problems,
//! municipal categories and the truth table.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Binomial, Distribution, LogNormal, Normal, Poisson};
use rayon::prelude::*;

use crate::model::{expit, logit, Base, Draw, Spec, RESIDENTS_PER_TENANCY, SPECS};
use crate::municipalities::{self, region_income, weight, Municipality};

/// What to generate.
#[derive(Debug, Clone)]
pub struct Config {
    /// Departments in the national data (the sample organisation comes on top).
    pub departments: usize,
    /// Years of annual data, ending with `end_year`.
    pub years: usize,
    /// Quarters of quarterly data, ending with the fourth quarter of `end_year`.
    pub quarters: usize,
    /// Seed: the same seed gives byte-identical output.
    pub seed: u64,
    /// The last year.
    pub end_year: i32,
    /// Share of departments with planted deteriorations.
    pub deterioration_share: f64,
    /// Share of departments with planted improvements.
    pub improvement_share: f64,
    /// Plant data-quality problems (missing year, renumbering, resubmitted quarter).
    pub quality_problems: bool,
    /// Add the sample organisation in Aarhus (751) with about 50 departments.
    pub sample_organisation: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            departments: 2000,
            years: 10,
            quarters: 40,
            seed: 2025,
            end_year: 2025,
            deterioration_share: 0.06,
            improvement_share: 0.02,
            quality_problems: true,
            sample_organisation: false,
        }
    }
}

/// Housing types, indexed as in the model's rate arrays.
pub const HOUSING_TYPES: [&str; 3] = ["family", "elderly", "youth"];

/// A synthetic department.
#[derive(Debug, Clone)]
pub struct Department {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Organisation name.
    pub organisation: String,
    /// Municipality code.
    pub municipality_code: String,
    /// Housing area, if any.
    pub area_id: Option<String>,
    /// 0 family, 1 elderly, 2 youth.
    pub housing_type: usize,
    /// Tenancies.
    pub tenancies: u32,
    /// Construction year.
    pub construction_year: i32,
    /// Share of small dwellings (1-2 rooms): a structural covariate.
    pub small_dwellings: f64,
    /// Mean income of the department's region.
    pub region_income: f64,
    /// The latent social-pressure factor (standard deviations).
    pub pressure: f64,
}

/// One observation row.
#[derive(Debug, Clone, Copy)]
pub struct Obs {
    /// Index into departments (after renumbering: the id in force).
    pub dept: u32,
    /// Year.
    pub year: i32,
    /// Quarter 1-4, or 0 for annual.
    pub quarter: u8,
    /// Index into SPECS, or 100 residents / 101 households.
    pub indicator: u8,
    /// Numerator.
    pub num: f64,
    /// Denominator (NaN for counts).
    pub den: f64,
}

/// Standard deviation (logit scale) of a department's year-to-year
/// fluctuation per indicator: real noise beyond sampling that no method can
/// tell from a development within a year or two.
pub const YEAR_NOISE_SD: f64 = 0.08;

/// How much of a gradual development's full effect is reached `years` after
/// its start (it ramps over three years from a quarter of the effect).
pub fn gradual_share(years: f64) -> f64 {
    (years / 3.0 + 0.25).min(1.0)
}

/// Pseudo-indicator codes for the two counts.
pub const RESIDENTS: u8 = 100;
/// Households count.
pub const HOUSEHOLDS: u8 = 101;

/// A row of the truth table.
#[derive(Debug, Clone)]
pub struct Truth {
    /// Department id.
    pub department_id: String,
    /// Indicator id (empty for data-quality rows that concern the department).
    pub indicator: String,
    /// `deterioration`, `improvement`, or a data-quality problem
    /// (`missing_year`, `renumbered`, `quarter_reported_twice`).
    pub kind: String,
    /// `step` or `gradual` for planted developments.
    pub shape: String,
    /// First period affected.
    pub start_period: String,
    /// Effect on the logit (log for income) scale.
    pub effect: f64,
    /// Expected rate at the start without the development.
    pub expected_before: f64,
    /// Expected rate at the start with the full effect.
    pub expected_after: f64,
    /// Free text.
    pub note: String,
}

/// A housing area (boligområde).
#[derive(Debug, Clone)]
pub struct Area {
    /// Id.
    pub area_id: String,
    /// Name.
    pub name: String,
    /// Municipality.
    pub municipality_code: String,
    /// Number of departments.
    pub departments: u32,
}

/// A municipal category of an area in a year.
#[derive(Debug, Clone)]
pub struct Category {
    /// Area.
    pub area_id: String,
    /// Year.
    pub year: i32,
    /// red, orange, yellow or green.
    pub category: &'static str,
}

/// Everything generated.
#[derive(Debug, Clone)]
pub struct SynthData {
    /// Departments (including renumbered ones under their new id).
    pub departments: Vec<Department>,
    /// Annual observations.
    pub annual: Vec<Obs>,
    /// Quarterly observations.
    pub quarterly: Vec<Obs>,
    /// Quarters reported a second time, with revised figures.
    pub resubmitted: Vec<Obs>,
    /// Planted developments and data-quality problems.
    pub truth: Vec<Truth>,
    /// Housing areas.
    pub areas: Vec<Area>,
    /// Municipal categories.
    pub categories: Vec<Category>,
}

/// One planted development.
#[derive(Debug, Clone, Copy)]
struct Plant {
    spec: usize,
    start: f64,
    gradual: bool,
    effect: f64,
}

impl Plant {
    fn at(&self, t: f64) -> f64 {
        if t < self.start {
            0.0
        } else if self.gradual {
            self.effect * gradual_share(t - self.start)
        } else {
            self.effect
        }
    }
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

fn rng_for(seed: u64, stream: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(splitmix(seed ^ splitmix(stream)))
}

const PREFIX: [&str; 16] = [
    "Skov", "Sø", "Birke", "Ege", "Linde", "Rose", "Kirke", "Mølle", "Strand", "Nørre", "Søndre",
    "Vester", "Øster", "Bøge", "Hassel", "Enge",
];
const SUFFIX: [&str; 10] = [
    "parken", "haven", "vænget", "gården", "bakken", "højen", "toften", "lunden", "vangen",
    "husene",
];

/// The named departments of the sample organisation, after the areas named in
/// the source strategy document, with a high social-pressure factor.
const SAMPLE_NAMED: [(&str, f64); 5] = [
    ("Viby Syd", 1.9),
    ("Håndværkerparken", 1.6),
    ("Rundhøj", 1.4),
    ("Vejlby Vest", 1.2),
    ("Søndervangen", 2.2),
];

/// Showcase deteriorations of the sample organisation: (department name,
/// indicator, first year, gradual, effect on the logit scale).
const SHOWCASE: [(&str, &str, i32, bool, f64); 3] = [
    ("Viby Syd", "outside_labour_18_64", 2025, false, 0.9),
    ("Håndværkerparken", "public_support", 2024, false, 0.8),
    ("Rundhøj", "move_out_rate", 2022, true, 1.0),
];

/// Generates a synthetic national data set.
pub fn generate(cfg: &Config) -> SynthData {
    let munis = municipalities::all();
    let mut rng = rng_for(cfg.seed, 0);
    let mut departments = build_departments(cfg, &munis, &mut rng);
    let areas = build_areas(&mut departments, &mut rng);
    let first_year = cfg.end_year - cfg.years as i32 + 1;
    let first_q_year = cfg.end_year - (cfg.quarters as i32 + 3) / 4 + 1;
    let first_q = cfg.quarters % 4;
    let quarters: Vec<(i32, u8)> = (0..cfg.quarters)
        .map(|i| {
            let k = i + if first_q == 0 { 0 } else { 4 - first_q };
            (first_q_year + (k / 4) as i32, (k % 4) as u8 + 1)
        })
        .collect();

    // Planted developments.
    let span_start = first_year.min(quarters.first().map_or(first_year, |q| q.0)) as f64;
    let end = cfg.end_year as f64 + 1.0;
    let mut plants: Vec<Vec<Plant>> = vec![vec![]; departments.len()];
    let mut truth = Vec::new();
    for (d, dep) in departments.iter().enumerate() {
        let r: f64 = rng.gen();
        let sign = if r < cfg.deterioration_share {
            1.0
        } else if r < cfg.deterioration_share + cfg.improvement_share {
            -1.0
        } else {
            continue;
        };
        let k = 1 + rng.gen_range(0..3usize);
        for _ in 0..k {
            let candidates: Vec<usize> =
                (0..SPECS.len()).filter(|&i| SPECS[i].worse != 0).collect();
            let spec = candidates[rng.gen_range(0..candidates.len())];
            if plants[d].iter().any(|p| p.spec == spec) {
                continue;
            }
            let s = &SPECS[spec];
            // Starts in the second half of the observed span, at a year boundary
            // for annual indicators, at a quarter for quarterly-only ones.
            let mid = (span_start + end) / 2.0;
            let mut start = mid + rng.gen::<f64>() * (end - 1.0 - mid);
            start = if s.annual {
                start.floor()
            } else {
                (start * 4.0).floor() / 4.0
            };
            let size = [0.2, 0.35, 0.5, 0.8][rng.gen_range(0..4usize)];
            let gradual = rng.gen::<f64>() < 0.4;
            // Deterioration raises a higher-is-worse rate and lowers income.
            let effect = sign
                * size
                * f64::from(s.worse)
                * if s.draw == Draw::IncomeRatio {
                    0.3
                } else {
                    1.0
                };
            let p = Plant {
                spec,
                start,
                gradual,
                effect,
            };
            let base = expected_rate(s, dep, start - span_start, 0.0);
            let after = expected_rate(s, dep, start - span_start, effect);
            let y = start.floor() as i32;
            let q = ((start - start.floor()) * 4.0).round() as u8 + 1;
            truth.push(Truth {
                department_id: dep.id.clone(),
                indicator: s.id.to_string(),
                kind: if sign > 0.0 {
                    "deterioration"
                } else {
                    "improvement"
                }
                .into(),
                shape: if gradual { "gradual" } else { "step" }.into(),
                start_period: if s.annual {
                    y.to_string()
                } else {
                    format!("{y}Q{q}")
                },
                effect,
                expected_before: base,
                expected_after: after,
                note: String::new(),
            });
            plants[d].push(p);
        }
    }

    // The sample organisation's showcase developments: clear, known
    // deteriorations in three named departments, so that the bundled sample's
    // annual and quarterly reviews have something real to find (planted like
    // the others, recorded in the truth with a note; no random draws, so the
    // rest of the data is unchanged).
    if cfg.sample_organisation {
        for &(name, id, start, gradual, size) in SHOWCASE.iter() {
            let Some(d) = departments
                .iter()
                .position(|x| x.name == name && x.id.starts_with("9000-"))
            else {
                continue;
            };
            let Some(spec) = SPECS.iter().position(|x| x.id == id) else {
                continue;
            };
            if plants[d].iter().any(|p| p.spec == spec) {
                continue;
            }
            let s = &SPECS[spec];
            let effect = size * f64::from(s.worse);
            let start = f64::from(start);
            let dep = &departments[d];
            truth.push(Truth {
                department_id: dep.id.clone(),
                indicator: s.id.to_string(),
                kind: "deterioration".into(),
                shape: if gradual { "gradual" } else { "step" }.into(),
                start_period: format!("{}", start as i32),
                effect,
                expected_before: expected_rate(s, dep, start - span_start, 0.0),
                expected_after: expected_rate(s, dep, start - span_start, effect),
                note: "showcase development of the sample organisation".into(),
            });
            plants[d].push(Plant {
                spec,
                start,
                gradual,
                effect,
            });
        }
    }

    // Series, in parallel; every department has its own random stream.
    let series: Vec<(Vec<Obs>, Vec<Obs>)> = departments
        .par_iter()
        .enumerate()
        .map(|(d, dep)| {
            let mut r = rng_for(cfg.seed, 1_000_000 + d as u64);
            department_series(
                d as u32,
                dep,
                &plants[d],
                &Span {
                    first_year,
                    end_year: cfg.end_year,
                    quarters: &quarters,
                    start: span_start,
                },
                &mut r,
            )
        })
        .collect();
    let mut annual = Vec::new();
    let mut quarterly = Vec::new();
    for (a, q) in series {
        annual.extend(a);
        quarterly.extend(q);
    }

    let mut data = SynthData {
        departments,
        annual,
        quarterly,
        resubmitted: vec![],
        truth,
        areas,
        categories: vec![],
    };
    if cfg.quality_problems {
        plant_quality_problems(&mut data, &quarters, first_year, cfg.end_year, &mut rng);
    }
    data.categories = categories(&data, first_year, cfg.end_year, &mut rng);
    data
}

fn build_departments(
    cfg: &Config,
    munis: &[Municipality],
    rng: &mut ChaCha8Rng,
) -> Vec<Department> {
    let weights: Vec<f64> = munis.iter().map(|m| weight(&m.code)).collect();
    let total: f64 = weights.iter().sum();
    let size = LogNormal::new(120f64.ln(), 0.85).expect("valid lognormal");
    let mut out = Vec::with_capacity(cfg.departments + 60);
    let mut org_no = 0usize;
    let mut remaining = cfg.departments;
    while remaining > 0 {
        // An organisation in one municipality, 2 to 72 departments (skewed).
        let mut x = rng.gen::<f64>() * total;
        let mut mi = 0;
        while x > weights[mi] && mi + 1 < munis.len() {
            x -= weights[mi];
            mi += 1;
        }
        let m = &munis[mi];
        org_no += 1;
        let n = ((2.0 + 70.0 * rng.gen::<f64>().powi(4)) as usize).min(remaining);
        let org = format!("Boligselskab {} {org_no} (syntetisk)", m.name);
        for k in 0..n {
            out.push(new_department(
                format!("{org_no:04}-{:03}", k + 1),
                None,
                org.clone(),
                m,
                None,
                rng,
                &size,
            ));
        }
        remaining -= n;
    }
    if cfg.sample_organisation {
        let aarhus = munis
            .iter()
            .find(|m| m.code == "751")
            .expect("Aarhus is a municipality");
        let org = "Boligforeningen Østjylland (syntetisk)".to_string();
        for k in 0..50 {
            let named = SAMPLE_NAMED.get(k);
            out.push(new_department(
                format!("9000-{:03}", k + 1),
                named.map(|n| n.0.to_string()),
                org.clone(),
                aarhus,
                named.map(|n| n.1),
                rng,
                &size,
            ));
        }
    }
    out
}

fn new_department(
    id: String,
    name: Option<String>,
    organisation: String,
    m: &Municipality,
    pressure: Option<f64>,
    rng: &mut ChaCha8Rng,
    size: &LogNormal<f64>,
) -> Department {
    let r: f64 = rng.gen();
    let housing_type = if r < 0.76 {
        0
    } else if r < 0.88 {
        1
    } else {
        2
    };
    let scale = [1.0, 0.45, 0.6][housing_type];
    let mut tenancies = (size.sample(rng) * scale).round().clamp(10.0, 1500.0) as u32;
    if pressure.is_some() {
        tenancies = tenancies.max(450); // the named areas are large
    }
    let construction_year = match housing_type {
        0 => 1945 + (rng.gen::<f64>().powf(0.8) * 75.0) as i32,
        1 => 1965 + (rng.gen::<f64>() * 55.0) as i32,
        _ => 1955 + (rng.gen::<f64>() * 65.0) as i32,
    };
    let era = if (1960..1980).contains(&construction_year) {
        0.35
    } else {
        0.0
    };
    let muni = match m.code.as_str() {
        "101" | "751" | "461" | "851" | "183" | "169" | "165" | "153" => 0.3,
        _ => 0.0,
    };
    let n01 = Normal::new(0.0, 1.0).expect("valid normal");
    let pressure = pressure
        .unwrap_or_else(|| n01.sample(rng) * 0.9 + era + muni - [0.0, 0.2, 0.0][housing_type]);
    let name = name.unwrap_or_else(|| {
        format!(
            "{}{}",
            PREFIX[rng.gen_range(0..PREFIX.len())],
            SUFFIX[rng.gen_range(0..SUFFIX.len())]
        )
    });
    Department {
        id,
        name,
        organisation,
        municipality_code: m.code.clone(),
        area_id: None,
        housing_type,
        tenancies,
        construction_year,
        small_dwellings: ((0.25 + [0.0, 0.5, 0.6][housing_type] + 0.1 * rng.gen::<f64>()).min(1.0)
            * 100.0)
            .round()
            / 100.0,
        region_income: region_income(&m.region),
        pressure,
    }
}

/// Groups departments of the same organisation into housing areas of one to
/// six departments; about 60 % of departments belong to one. Departments of an
/// area share part of their social pressure (an area effect), as neighbouring
/// estates do; the sample organisation's named departments keep theirs.
fn build_areas(deps: &mut [Department], rng: &mut ChaCha8Rng) -> Vec<Area> {
    let mut areas = Vec::new();
    let mut i = 0;
    while i < deps.len() {
        if rng.gen::<f64>() < 0.4 && deps[i].area_id.is_none() {
            i += 1;
            continue;
        }
        let k = 1 + rng.gen_range(0..6usize);
        let org = deps[i].organisation.clone();
        let id = format!("{}-A{:04}", deps[i].municipality_code, areas.len() + 1);
        let mut n = 0;
        let name = deps[i].name.clone();
        let shared = 0.7 * Normal::new(0.0, 1.0).expect("valid normal").sample(rng);
        while n < k && i < deps.len() && deps[i].organisation == org {
            deps[i].area_id = Some(id.clone());
            if !deps[i].id.starts_with("9000-") {
                deps[i].pressure += shared;
            }
            n += 1;
            i += 1;
        }
        areas.push(Area {
            area_id: id,
            name,
            municipality_code: deps[i - 1].municipality_code.clone(),
            departments: n as u32,
        });
    }
    areas
}

/// The expected rate of indicator `s` for `dep` at `t` years into the span.
fn expected_rate(s: &Spec, dep: &Department, t: f64, effect: f64) -> f64 {
    let base = s.rate[dep.housing_type];
    match s.draw {
        Draw::IncomeRatio => base * (s.beta * dep.pressure + effect).exp(),
        _ => expit(logit(base) + s.beta * dep.pressure + s.drift * t + effect),
    }
}

/// The years and quarters generated.
#[derive(Clone, Copy)]
struct Span<'a> {
    first_year: i32,
    end_year: i32,
    quarters: &'a [(i32, u8)],
    /// The start of the generated time axis (years, fractional).
    start: f64,
}

fn department_series(
    d: u32,
    dep: &Department,
    plants: &[Plant],
    span: &Span<'_>,
    r: &mut ChaCha8Rng,
) -> (Vec<Obs>, Vec<Obs>) {
    let Span {
        first_year,
        end_year,
        quarters,
        start: span_start,
    } = *span;
    let n01 = Normal::new(0.0, 1.0).expect("valid normal");
    let ht = dep.housing_type;
    // Department-level deviation per indicator: the overdispersion.
    let re: Vec<f64> = SPECS.iter().map(|s| s.od * n01.sample(r)).collect();
    let drift_own: Vec<f64> = SPECS.iter().map(|_| 0.02 * n01.sample(r)).collect();
    let binom = |n: f64, p: f64, r: &mut ChaCha8Rng| -> f64 {
        let n = n.max(0.0).round() as u64;
        Binomial::new(n, p.clamp(0.0, 1.0)).map_or(0.0, |b| b.sample(r) as f64)
    };
    let pois = |mean: f64, r: &mut ChaCha8Rng| -> f64 {
        if mean <= 0.0 {
            0.0
        } else {
            Poisson::new(mean).map_or(0.0, |p: Poisson<f64>| p.sample(r))
        }
    };
    let mut annual = Vec::new();
    let mut quarterly = Vec::new();
    let years: Vec<i32> =
        (first_year.min(quarters.first().map_or(first_year, |q| q.0))..=end_year).collect();
    for &year in &years {
        let t = year as f64 - span_start;
        let noise_res = 1.0 + 0.02 * n01.sample(r);
        let residents = (f64::from(dep.tenancies)
            * RESIDENTS_PER_TENANCY[ht]
            * (1.0 + 0.08 * dep.pressure.clamp(-2.0, 2.0))
            * noise_res)
            .round()
            .max(1.0);
        let households = (f64::from(dep.tenancies) * (0.95 + 0.02 * n01.sample(r)))
            .round()
            .clamp(1.0, f64::from(dep.tenancies));
        let year_noise: Vec<f64> = SPECS
            .iter()
            .map(|_| YEAR_NOISE_SD * n01.sample(r))
            .collect();
        let rate_at = |i: usize, time: f64, noise: f64| -> f64 {
            let s = &SPECS[i];
            let eff: f64 = plants
                .iter()
                .filter(|p| p.spec == i)
                .map(|p| p.at(time + span_start))
                .sum();
            let base = s.rate[ht];
            match s.draw {
                Draw::IncomeRatio => base * (s.beta * dep.pressure + re[i] + noise + eff).exp(),
                _ => expit(
                    logit(base)
                        + s.beta * dep.pressure
                        + re[i]
                        + (s.drift + drift_own[i]) * time
                        + noise
                        + eff,
                ),
            }
        };
        // Age structure, consistent with the children share.
        let child = SPECS
            .iter()
            .position(|s| s.id == "children_0_17")
            .expect("in SPECS");
        let age0_17 = binom(residents, rate_at(child, t, year_noise[child]), r);
        let adults = residents - age0_17;
        let age18_64 = (adults * [0.9, 0.3, 0.97][ht]).round();
        let age30_59 = (age18_64 * [0.55, 0.7, 0.06][ht]).round();
        let age16_64 = age18_64 + (age0_17 * 2.0 / 18.0).round();
        let age24 = (age18_64 * [0.025, 0.01, 0.16][ht]).round();
        let age15_24 = (age18_64 * [0.12, 0.02, 0.85][ht] + age0_17 * 3.0 / 18.0).round();
        let base_of = |b: Base, days: f64| -> f64 {
            match b {
                Base::Residents => residents,
                Base::Age0to17 => age0_17,
                Base::Age18to64 => age18_64,
                Base::Age18plus => adults,
                Base::Age30to59 => age30_59,
                Base::Age16to64 => age16_64,
                Base::Age24 => age24,
                Base::Age15to24 => age15_24,
                Base::Tenancies => f64::from(dep.tenancies),
                Base::Households => households,
                Base::TenancyDays => f64::from(dep.tenancies) * days,
            }
        };
        if year >= first_year {
            annual.push(Obs {
                dept: d,
                year,
                quarter: 0,
                indicator: RESIDENTS,
                num: residents,
                den: f64::NAN,
            });
            annual.push(Obs {
                dept: d,
                year,
                quarter: 0,
                indicator: HOUSEHOLDS,
                num: households,
                den: f64::NAN,
            });
            for (i, s) in SPECS.iter().enumerate().filter(|(_, s)| s.annual) {
                let den = base_of(s.base, 365.0);
                let p = if i == child {
                    f64::NAN
                } else {
                    rate_at(i, t, year_noise[i])
                };
                let num = match s.draw {
                    Draw::Binomial if i == child => age0_17,
                    Draw::Binomial => binom(den, p, r),
                    Draw::Poisson => pois(den * p, r),
                    Draw::IncomeRatio => (dep.region_income * p / 100.0).round() * 100.0,
                };
                let den = if s.draw == Draw::IncomeRatio {
                    dep.region_income
                } else {
                    den
                };
                annual.push(Obs {
                    dept: d,
                    year,
                    quarter: 0,
                    indicator: i as u8,
                    num,
                    den,
                });
            }
        }
        for &(qy, q) in quarters.iter().filter(|(qy, _)| *qy == year) {
            let tq = qy as f64 + f64::from(q - 1) / 4.0 - span_start;
            let days = [90.0, 91.0, 92.0, 92.0][q as usize - 1];
            for (i, s) in SPECS.iter().enumerate().filter(|(_, s)| s.quarterly) {
                let den = base_of(s.base, days);
                let mut p =
                    rate_at(i, tq, year_noise[i] + 0.05 * n01.sample(r)) * s.season[q as usize - 1];
                if !s.stock {
                    p /= 4.0;
                }
                let num = match s.draw {
                    Draw::Poisson => pois(den * p, r),
                    _ => binom(den, p, r),
                };
                quarterly.push(Obs {
                    dept: d,
                    year: qy,
                    quarter: q,
                    indicator: i as u8,
                    num,
                    den,
                });
            }
        }
    }
    (annual, quarterly)
}

fn plant_quality_problems(
    data: &mut SynthData,
    quarters: &[(i32, u8)],
    first_year: i32,
    end_year: i32,
    rng: &mut ChaCha8Rng,
) {
    let n = data.departments.len();
    let pick = |rng: &mut ChaCha8Rng, share: f64| -> Vec<usize> {
        let k = ((n as f64 * share).ceil() as usize).max(1).min(n);
        let mut v: Vec<usize> = (0..k).map(|_| rng.gen_range(0..n)).collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    // A missing year.
    if end_year - first_year >= 3 {
        for d in pick(rng, 0.005) {
            let y = rng.gen_range(first_year + 1..end_year);
            data.annual.retain(|o| !(o.dept == d as u32 && o.year == y));
            data.truth.push(Truth {
                department_id: data.departments[d].id.clone(),
                indicator: String::new(),
                kind: "missing_year".into(),
                shape: String::new(),
                start_period: y.to_string(),
                effect: 0.0,
                expected_before: f64::NAN,
                expected_after: f64::NAN,
                note: "no annual figures were delivered for this year".into(),
            });
        }
    }
    // A department renumbered: from a year on, its figures come under a new id.
    if end_year - first_year >= 3 {
        for d in pick(rng, 0.003) {
            let y = rng.gen_range(first_year + 2..=end_year);
            let mut new = data.departments[d].clone();
            new.id = format!("{}-R", new.id);
            new.name = format!("{} (nyt afd.nr.)", new.name);
            let new_idx = data.departments.len() as u32;
            let old_id = data.departments[d].id.clone();
            data.departments.push(new.clone());
            for o in data.annual.iter_mut().chain(data.quarterly.iter_mut()) {
                if o.dept == d as u32 && o.year >= y {
                    o.dept = new_idx;
                }
            }
            data.truth.push(Truth {
                department_id: old_id.clone(),
                indicator: String::new(),
                kind: "renumbered".into(),
                shape: String::new(),
                start_period: y.to_string(),
                effect: 0.0,
                expected_before: f64::NAN,
                expected_after: f64::NAN,
                note: format!("reported as {} from {y}", new.id),
            });
        }
    }
    // A quarter reported twice: a later file revises the figures.
    if let Some(&(qy, q)) = quarters.get(quarters.len().saturating_sub(3)) {
        for d in pick(rng, 0.003) {
            let rows: Vec<Obs> = data
                .quarterly
                .iter()
                .filter(|o| o.dept == d as u32 && o.year == qy && o.quarter == q)
                .map(|o| {
                    let mut o = *o;
                    o.num = (o.num + 1.0).min(o.den);
                    o
                })
                .collect();
            if rows.is_empty() {
                continue;
            }
            data.resubmitted.extend(rows);
            data.truth.push(Truth {
                department_id: data.departments[d].id.clone(),
                indicator: String::new(),
                kind: "quarter_reported_twice".into(),
                shape: String::new(),
                start_period: format!("{qy}Q{q}"),
                effect: 0.0,
                expected_before: f64::NAN,
                expected_after: f64::NAN,
                note: "the quarter was delivered again with revised numerators (observations_quarterly_resubmitted)".into(),
            });
        }
    }
}

/// Municipal categories per area and year from the area's mean pressure
/// (tenancy-weighted) plus noise; areas under 500 residents are not categorised.
fn categories(
    data: &SynthData,
    first_year: i32,
    end_year: i32,
    rng: &mut ChaCha8Rng,
) -> Vec<Category> {
    let n01 = Normal::new(0.0, 1.0).expect("valid normal");
    let mut out = Vec::new();
    for a in &data.areas {
        let members: Vec<&Department> = data
            .departments
            .iter()
            .filter(|d| d.area_id.as_deref() == Some(&a.area_id) && !d.id.ends_with("-R"))
            .collect();
        let ten: f64 = members.iter().map(|d| f64::from(d.tenancies)).sum();
        let residents: f64 = members
            .iter()
            .map(|d| f64::from(d.tenancies) * RESIDENTS_PER_TENANCY[d.housing_type])
            .sum();
        if residents < 500.0 || ten == 0.0 {
            continue;
        }
        let score = members
            .iter()
            .map(|d| d.pressure * f64::from(d.tenancies))
            .sum::<f64>()
            / ten;
        for year in first_year..=end_year {
            let s = score + 0.15 * n01.sample(rng);
            let category = if s > 1.6 {
                "red"
            } else if s > 1.1 {
                "orange"
            } else if s > 0.7 {
                "yellow"
            } else {
                "green"
            };
            out.push(Category {
                area_id: a.area_id.clone(),
                year,
                category,
            });
        }
    }
    out
}

/// The indicator id of an observation.
pub fn indicator_id(code: u8) -> &'static str {
    match code {
        RESIDENTS => "residents",
        HOUSEHOLDS => "households",
        i => SPECS[i as usize].id,
    }
}
