//! The latent model behind the synthetic indicators: base rates by housing
//! type, sensitivity to the department's social-pressure factor, between-
//! department overdispersion, drift, noise and seasonality. The numbers are
//! plausible magnitudes chosen for this synthetic generator (the family
//! move-out rate near 10.4 % and youth near 40 % follow LBF's 2019 figures
//! cited in shared/DOMAIN.md); they are not estimates from real data.

/// Which population an indicator is counted against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Base {
    /// All residents.
    Residents,
    /// Residents 0-17.
    Age0to17,
    /// Residents 18-64.
    Age18to64,
    /// Residents 18+.
    Age18plus,
    /// Residents 30-59.
    Age30to59,
    /// Residents 16-64.
    Age16to64,
    /// 24-year-olds.
    Age24,
    /// Residents 15-24.
    Age15to24,
    /// Tenancies.
    Tenancies,
    /// Households.
    Households,
    /// Tenancy-days of the quarter.
    TenancyDays,
}

/// How counts arise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Draw {
    /// Binomial from the denominator.
    Binomial,
    /// Poisson with mean rate x denominator (rates per 1,000 that can exceed 1 per unit).
    Poisson,
    /// Mean income as a ratio of the region's mean.
    IncomeRatio,
}

/// The generator's parameters for one catalogue indicator.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    /// Catalogue id.
    pub id: &'static str,
    /// Population counted against.
    pub base: Base,
    /// How the numerator is drawn.
    pub draw: Draw,
    /// Annual rate (or ratio) for family, elderly and youth dwellings.
    pub rate: [f64; 3],
    /// Change of logit(rate) per standard deviation of social pressure.
    pub beta: f64,
    /// Between-department standard deviation on the logit scale (overdispersion).
    pub od: f64,
    /// National drift of the logit per year.
    pub drift: f64,
    /// Produced annually.
    pub annual: bool,
    /// Produced quarterly (the quarterly rate is the annual rate / 4, or the
    /// same share for stock indicators).
    pub quarterly: bool,
    /// Stock indicator (a share at a point in time): the quarterly rate is not divided by 4.
    pub stock: bool,
    /// Seasonal multipliers by quarter (flow indicators).
    pub season: [f64; 4],
    /// Higher is worse (+1), lower is worse (-1), context (0).
    pub worse: i8,
}

const FLAT: [f64; 4] = [1.0, 1.0, 1.0, 1.0];

/// The generated indicators, in catalogue order.
pub const SPECS: [Spec; 17] = [
    Spec {
        id: "outside_labour_18_64",
        base: Base::Age18to64,
        draw: Draw::Binomial,
        rate: [0.20, 0.14, 0.09],
        beta: 0.60,
        od: 0.25,
        drift: -0.02,
        annual: true,
        quarterly: false,
        stock: true,
        season: FLAT,
        worse: 1,
    },
    Spec {
        id: "convicted_18plus",
        base: Base::Age18plus,
        draw: Draw::Binomial,
        rate: [0.012, 0.004, 0.010],
        beta: 0.75,
        od: 0.30,
        drift: -0.01,
        annual: true,
        quarterly: false,
        stock: true,
        season: FLAT,
        worse: 1,
    },
    Spec {
        id: "basic_education_30_59",
        base: Base::Age30to59,
        draw: Draw::Binomial,
        rate: [0.32, 0.38, 0.20],
        beta: 0.60,
        od: 0.25,
        drift: -0.015,
        annual: true,
        quarterly: false,
        stock: true,
        season: FLAT,
        worse: 1,
    },
    Spec {
        id: "income_ratio_15_64",
        base: Base::Residents,
        draw: Draw::IncomeRatio,
        rate: [0.74, 0.70, 0.48],
        beta: -0.16,
        od: 0.08,
        drift: 0.0,
        annual: true,
        quarterly: false,
        stock: true,
        season: FLAT,
        worse: -1,
    },
    Spec {
        id: "non_western",
        base: Base::Residents,
        draw: Draw::Binomial,
        rate: [0.22, 0.08, 0.15],
        beta: 0.75,
        od: 0.35,
        drift: 0.01,
        annual: true,
        quarterly: false,
        stock: true,
        season: FLAT,
        worse: 0,
    },
    Spec {
        id: "children_0_17",
        base: Base::Residents,
        draw: Draw::Binomial,
        rate: [0.27, 0.01, 0.03],
        beta: 0.15,
        od: 0.15,
        drift: 0.0,
        annual: true,
        quarterly: false,
        stock: true,
        season: FLAT,
        worse: 0,
    },
    Spec {
        id: "single_provider_children",
        base: Base::Age0to17,
        draw: Draw::Binomial,
        rate: [0.36, 0.40, 0.50],
        beta: 0.40,
        od: 0.20,
        drift: 0.0,
        annual: true,
        quarterly: false,
        stock: true,
        season: FLAT,
        worse: 1,
    },
    Spec {
        id: "public_support",
        base: Base::Age16to64,
        draw: Draw::Binomial,
        rate: [0.27, 0.30, 0.12],
        beta: 0.50,
        od: 0.25,
        drift: -0.015,
        annual: true,
        quarterly: false,
        stock: true,
        season: FLAT,
        worse: 1,
    },
    Spec {
        id: "youth_no_education_24",
        base: Base::Age24,
        draw: Draw::Binomial,
        rate: [0.24, 0.30, 0.15],
        beta: 0.50,
        od: 0.25,
        drift: -0.01,
        annual: true,
        quarterly: false,
        stock: true,
        season: FLAT,
        worse: 1,
    },
    Spec {
        id: "youth_charged",
        base: Base::Age15to24,
        draw: Draw::Binomial,
        rate: [0.045, 0.03, 0.02],
        beta: 0.55,
        od: 0.30,
        drift: -0.02,
        annual: true,
        quarterly: true,
        stock: false,
        season: FLAT,
        worse: 1,
    },
    Spec {
        id: "child_notifications",
        base: Base::Age0to17,
        draw: Draw::Binomial,
        rate: [0.07, 0.07, 0.07],
        beta: 0.50,
        od: 0.25,
        drift: 0.01,
        annual: true,
        quarterly: true,
        stock: false,
        season: [0.95, 1.05, 0.85, 1.15],
        worse: 1,
    },
    Spec {
        id: "move_out_rate",
        base: Base::Tenancies,
        draw: Draw::Binomial,
        rate: [0.104, 0.085, 0.40],
        beta: 0.25,
        od: 0.20,
        drift: 0.0,
        annual: true,
        quarterly: true,
        stock: false,
        season: [0.85, 1.0, 1.3, 0.85],
        worse: 1,
    },
    Spec {
        id: "vacancy",
        base: Base::TenancyDays,
        draw: Draw::Binomial,
        rate: [0.008, 0.012, 0.02],
        beta: 0.30,
        od: 0.35,
        drift: 0.0,
        annual: false,
        quarterly: true,
        stock: true,
        season: [1.0, 1.0, 1.2, 0.8],
        worse: 1,
    },
    Spec {
        id: "rent_arrears",
        base: Base::Households,
        draw: Draw::Binomial,
        rate: [0.045, 0.02, 0.06],
        beta: 0.50,
        od: 0.30,
        drift: 0.0,
        annual: false,
        quarterly: true,
        stock: true,
        season: [1.1, 0.95, 1.0, 0.95],
        worse: 1,
    },
    Spec {
        id: "evictions",
        base: Base::Tenancies,
        draw: Draw::Poisson,
        rate: [0.004, 0.001, 0.005],
        beta: 0.50,
        od: 0.30,
        drift: 0.0,
        annual: true,
        quarterly: true,
        stock: false,
        season: FLAT,
        worse: 1,
    },
    Spec {
        id: "complaints",
        base: Base::Households,
        draw: Draw::Poisson,
        rate: [0.09, 0.05, 0.10],
        beta: 0.40,
        od: 0.35,
        drift: 0.0,
        annual: false,
        quarterly: true,
        stock: false,
        season: [0.9, 1.05, 1.15, 0.9],
        worse: 1,
    },
    Spec {
        id: "vandalism_burglary",
        base: Base::Households,
        draw: Draw::Poisson,
        rate: [0.035, 0.02, 0.04],
        beta: 0.40,
        od: 0.35,
        drift: 0.0,
        annual: false,
        quarterly: true,
        stock: false,
        season: [0.9, 1.0, 1.1, 1.0],
        worse: 1,
    },
];

/// Residents per tenancy by housing type.
pub const RESIDENTS_PER_TENANCY: [f64; 3] = [2.15, 1.25, 1.05];

/// logit(p).
pub fn logit(p: f64) -> f64 {
    (p / (1.0 - p)).ln()
}

/// The inverse logit.
pub fn expit(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}
