//! bomon-vocab: the few words every part of bomon uses, each defined once -
//! at the bottom of the house, like polars' small core crates, with no
//! dependency beyond serde.
//!
//! - [`Period`]: a year (`2025`) or a quarter (`2025Q3`), the one parser.
//! - [`Disclosure`]: the one place that decides whether a count may be shown
//!   (counts from 1 to the configured maximum - default 4, "below 5" - are
//!   not, nor rates built on them).
//! - [`marking`]: the internal-document marking every output carries.
//! - [`number`] and [`date`]: numbers (decimal comma) and dates ("2. december
//!   2026 kl. 05.29") for Danish and English readers.
//! - [`Kind`] and [`unit::scale`]: what an indicator measures and how it is
//!   shown (a share as %, a rate per 1,000, a ratio as % of the region).
//! - [`form`]: the assessment form's columns, outcomes and roles.
//! - [`glossary`]: the words of the reports, explained in Danish and English.
//!
//! Where it sits: below everything - bomon-store, bomon-engine, bomon-rules,
//! bomon-report and the binary use it; it uses nothing of theirs.
//!
//! ```
//! use bomon_vocab::{number, Disclosure, Period};
//!
//! let p: Period = "2025K3".parse().unwrap();
//! assert_eq!(p.to_string(), "2025Q3");
//! assert_eq!(p.words(true), "3. kvt. 2025");
//! assert_eq!(bomon_vocab::date::words("2026-12-02T01:08:32Z", true), "2. december 2026 kl. 01.08 UTC");
//! let d = Disclosure::default();
//! assert!(d.hides(3.0) && !d.hides(0.0) && !d.hides(5.0));
//! assert_eq!(d.count(3.0), "<5");
//! assert_eq!(number::fixed(43.26, 1, true), "43,3");
//! assert_eq!(bomon_vocab::unit::scale(bomon_vocab::Kind::Ratio, true), (100.0, "% af regionen"));
//! assert!(bomon_vocab::marking::INTERNAL_DA.starts_with("Internt arbejdsredskab"));
//! ```
#![deny(missing_docs)]

pub mod form;
pub mod glossary;
pub mod period;

pub use period::{Period, PeriodError};

/// The marking every output of bomon carries: internal working documents
/// about residents, never for publication.
pub mod marking {
    /// Danish.
    pub const INTERNAL_DA: &str = "Internt arbejdsredskab - ikke til offentliggørelse";
    /// English.
    pub const INTERNAL_EN: &str = "Internal working document - not for publication";
    /// Both, for files read by either.
    pub const INTERNAL_BOTH: &str = "Internt arbejdsredskab - ikke til offentliggørelse. Internal working document - not for publication.";
    /// The short form for chart captions and footers, Danish.
    pub const SHORT_DA: &str = "Internt - ikke til offentliggørelse";
    /// The short form, English.
    pub const SHORT_EN: &str = "Internal - not for publication";

    /// The marking in the reader's language.
    pub fn internal(da: bool) -> &'static str {
        if da {
            INTERNAL_DA
        } else {
            INTERNAL_EN
        }
    }
}

/// Disclosure control: which counts may be shown.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Disclosure {
    /// Counts from 1 to this are suppressed (configuration
    /// `max_suppressed_numerator`; default 4: counts below 5).
    pub max_suppressed: f64,
}

impl Default for Disclosure {
    fn default() -> Self {
        Disclosure {
            max_suppressed: 4.0,
        }
    }
}

impl Disclosure {
    /// Disclosure with counts from 1 to `max_suppressed` suppressed.
    pub fn new(max_suppressed: f64) -> Self {
        Disclosure { max_suppressed }
    }

    /// Whether a count must not be shown (and no rate built on it).
    pub fn hides(&self, n: f64) -> bool {
        n >= 1.0 && n <= self.max_suppressed
    }

    /// The mark shown instead: "<5" for the default.
    pub fn mark(&self) -> String {
        format!("<{}", self.max_suppressed as i64 + 1)
    }

    /// A count as shown: the mark when suppressed, empty when missing.
    pub fn count(&self, n: f64) -> String {
        if !n.is_finite() {
            String::new()
        } else if self.hides(n) {
            self.mark()
        } else {
            format!("{}", n.round() as i64)
        }
    }
}

/// Dates and times as readers write them.
pub mod date {
    /// "2. december 2026 kl. 05.29 UTC" (Danish) or "2 December 2026, 05:29
    /// UTC" from an RFC 3339 time; the text as it is when it is not one.
    pub fn words(rfc3339: &str, da: bool) -> String {
        let (date, time) = match rfc3339.split_once('T') {
            Some(x) => x,
            None => return rfc3339.to_string(),
        };
        let parts: Vec<&str> = date.split('-').collect();
        let (Some(y), Some(m), Some(d)) = (
            parts.first(),
            parts.get(1).and_then(|m| m.parse::<usize>().ok()),
            parts.get(2).and_then(|d| d.parse::<u32>().ok()),
        ) else {
            return rfc3339.to_string();
        };
        const DA: [&str; 12] = [
            "januar",
            "februar",
            "marts",
            "april",
            "maj",
            "juni",
            "juli",
            "august",
            "september",
            "oktober",
            "november",
            "december",
        ];
        const EN: [&str; 12] = [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ];
        if !(1..=12).contains(&m) || time.len() < 5 {
            return rfc3339.to_string();
        }
        let hm = &time[..5];
        // Times bomon writes are UTC ("...Z"); say so rather than guess the zone.
        let utc = if time.ends_with('Z') { " UTC" } else { "" };
        if da {
            format!("{d}. {} {y} kl. {}{utc}", DA[m - 1], hm.replace(':', "."))
        } else {
            format!("{d} {} {y}, {hm}{utc}", EN[m - 1])
        }
    }
}

/// Numbers for readers: a decimal comma in Danish, a point in English.
pub mod number {
    /// `v` with `decimals` decimals; empty for a missing value.
    pub fn fixed(v: f64, decimals: usize, da: bool) -> String {
        if !v.is_finite() {
            return String::new();
        }
        let s = format!("{v:.decimals$}");
        if da {
            s.replace('.', ",")
        } else {
            s
        }
    }

    /// `v` with at most `decimals` decimals, trailing zeros dropped (2,7 not 2,70).
    pub fn trimmed(v: f64, decimals: usize, da: bool) -> String {
        let s = fixed(v, decimals, false);
        let s = if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        };
        if da {
            s.replace('.', ",")
        } else {
            s
        }
    }
}

/// What an indicator measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A plain count in `value` (e.g. residents).
    Count,
    /// numerator / denominator, numerator never above denominator.
    Share,
    /// Events per 1,000 of the denominator; the numerator may exceed it.
    #[serde(rename = "rate_per_1000")]
    RatePer1000,
    /// A plain mean in `value`.
    Mean,
    /// numerator / denominator of two means (e.g. income against the region's).
    Ratio,
}

impl Kind {
    /// True when the figure is a plain value rather than numerator/denominator.
    pub fn is_value(self) -> bool {
        matches!(self, Kind::Count | Kind::Mean)
    }
}

/// How an indicator's figure is shown.
pub mod unit {
    use super::Kind;

    /// Display factor and unit of an indicator kind: a share as %, a rate
    /// per 1,000, a ratio as % of the region; counts and means as they are.
    pub fn scale(kind: Kind, da: bool) -> (f64, &'static str) {
        let tr = |d: &'static str, e: &'static str| if da { d } else { e };
        match kind {
            Kind::Share => (100.0, "%"),
            Kind::RatePer1000 => (1000.0, tr("pr. 1.000", "per 1,000")),
            Kind::Ratio => (100.0, tr("% af regionen", "% of the region")),
            _ => (1.0, ""),
        }
    }

    /// A figure already on its display scale, with its unit: "43,5 %",
    /// "12,0 pr. 1.000", "51,0 % af regionen", "1020".
    pub fn show(scaled: f64, kind: Kind, decimals: usize, da: bool) -> String {
        let (_, unit) = scale(kind, da);
        let n = crate::number::fixed(scaled, decimals, da);
        if unit.is_empty() {
            n
        } else {
            format!("{n} {unit}")
        }
    }

    /// A rate (a fraction: numerator / denominator) as people read it.
    pub fn rate(v: f64, kind: Kind, da: bool) -> String {
        let (f, _) = scale(kind, da);
        show(v * f, kind, 1, da)
    }
}
