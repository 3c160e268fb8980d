//! Periods: a year (`2025`) or a quarter (`2025Q3`).

use std::fmt;
use std::str::FromStr;

/// A reporting period: a calendar year or a quarter of one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Period {
    /// A calendar year.
    Year(i32),
    /// A quarter (1-4) of a year.
    Quarter(i32, u8),
}

/// Years accepted as plausible for social-housing statistics.
pub const YEAR_RANGE: std::ops::RangeInclusive<i32> = 1950..=2100;

impl Period {
    /// The period as a reader says it: "2025", "3. kvt. 2025" (Danish) or
    /// "Q3 2025" (English). `Display` keeps the interchange form (`2025Q3`).
    pub fn words(self, da: bool) -> String {
        match self {
            Period::Year(y) => y.to_string(),
            Period::Quarter(y, q) if da => format!("{q}. kvt. {y}"),
            Period::Quarter(y, q) => format!("Q{q} {y}"),
        }
    }

    /// The calendar year.
    pub fn year(self) -> i32 {
        match self {
            Period::Year(y) | Period::Quarter(y, _) => y,
        }
    }
    /// The quarter, if this is one.
    pub fn quarter(self) -> Option<u8> {
        match self {
            Period::Year(_) => None,
            Period::Quarter(_, q) => Some(q),
        }
    }
    /// True for quarters.
    pub fn is_quarter(self) -> bool {
        matches!(self, Period::Quarter(..))
    }
    /// A quarter's running index, `year * 4 + quarter - 1` (the axis of
    /// quarterly charts); None for a year.
    pub fn quarter_index(self) -> Option<i32> {
        match self {
            Period::Year(_) => None,
            Period::Quarter(y, q) => Some(y * 4 + i32::from(q) - 1),
        }
    }
    /// The quarter of a running index (see [`Period::quarter_index`]).
    pub fn from_quarter_index(i: i32) -> Period {
        Period::Quarter(i.div_euclid(4), (i.rem_euclid(4) + 1) as u8)
    }
    /// The period before this one of the same kind (2025 -> 2024, 2025Q1 -> 2024Q4).
    pub fn previous(self) -> Period {
        match self {
            Period::Year(y) => Period::Year(y - 1),
            Period::Quarter(y, 1) => Period::Quarter(y - 1, 4),
            Period::Quarter(y, q) => Period::Quarter(y, q - 1),
        }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Period::Year(y) => write!(f, "{y}"),
            Period::Quarter(y, q) => write!(f, "{y}Q{q}"),
        }
    }
}

/// Why a period could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeriodError(pub String);

impl fmt::Display for PeriodError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "expected a period like 2025 or 2025Q3, found \"{}\"",
            self.0
        )
    }
}

impl std::error::Error for PeriodError {}

impl FromStr for Period {
    type Err = PeriodError;

    /// Accepts `2025`, `2025Q3`, `2025q3`, `2025-Q3`, `2025 Q3` and the Danish `2025K3`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || PeriodError(s.to_string());
        let t = s.trim();
        let b = t.as_bytes();
        if b.len() < 4 || !b[..4].iter().all(u8::is_ascii_digit) {
            return Err(err());
        }
        let year: i32 = t[..4].parse().map_err(|_| err())?;
        if !YEAR_RANGE.contains(&year) {
            return Err(err());
        }
        let rest = &t[4..];
        if rest.is_empty() {
            return Ok(Period::Year(year));
        }
        let rest = rest.strip_prefix(['-', ' ']).unwrap_or(rest);
        let rest = rest.strip_prefix(['Q', 'q', 'K', 'k']).ok_or_else(err)?;
        match rest {
            "1" | "2" | "3" | "4" => Ok(Period::Quarter(year, rest.as_bytes()[0] - b'0')),
            _ => Err(err()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_years_and_quarters_in_all_accepted_spellings() {
        assert_eq!("2025".parse(), Ok(Period::Year(2025)));
        for s in [
            "2025Q3", "2025q3", "2025-Q3", "2025 Q3", "2025K3", " 2025Q3 ",
        ] {
            assert_eq!(s.parse(), Ok(Period::Quarter(2025, 3)), "{s}");
        }
        assert_eq!(Period::Quarter(2025, 3).to_string(), "2025Q3");
    }

    #[test]
    fn rejects_malformed_periods() {
        for s in [
            "", "25", "2025Q5", "2025Q0", "2025Q", "2025-13", "abcd", "20251", "1800",
        ] {
            assert!(s.parse::<Period>().is_err(), "{s}");
        }
    }

    #[test]
    fn previous_crosses_year_boundary() {
        assert_eq!(
            Period::Quarter(2025, 1).previous(),
            Period::Quarter(2024, 4)
        );
        assert_eq!(Period::Year(2025).previous(), Period::Year(2024));
        assert!(Period::Year(2024) < Period::Year(2025));
        assert!(Period::Quarter(2024, 4) < Period::Quarter(2025, 1));
    }
}
