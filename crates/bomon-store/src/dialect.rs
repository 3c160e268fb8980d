//! What Danish Excel really exports: encodings, separators and number formats,
//! detected from the file and overridable by the user.

use std::borrow::Cow;
use std::fmt;

/// Character encoding of a text file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-8, with or without a byte-order mark.
    Utf8,
    /// Windows-1252 (what Danish Excel writes for "CSV (semikolonsepareret)").
    Windows1252,
}

/// The decimal mark of numbers in a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decimal {
    /// `1.234,5` (Danish).
    Comma,
    /// `1,234.5` (English).
    Point,
}

/// User overrides for CSV reading; `None` means detect.
#[derive(Debug, Clone, Copy, Default)]
pub struct CsvOptions {
    /// Force the encoding.
    pub encoding: Option<Encoding>,
    /// Force the field separator.
    pub delimiter: Option<u8>,
    /// Force the decimal mark.
    pub decimal: Option<Decimal>,
}

/// The dialect a file was read with (reported with `--verbose` and in the manifest).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dialect {
    /// Encoding.
    pub encoding: Encoding,
    /// Field separator.
    pub delimiter: u8,
    /// Decimal mark.
    pub decimal: Decimal,
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let enc = match self.encoding {
            Encoding::Utf8 => "utf-8",
            Encoding::Windows1252 => "windows-1252",
        };
        let dec = match self.decimal {
            Decimal::Comma => "comma",
            Decimal::Point => "point",
        };
        let sep = match self.delimiter {
            b'\t' => "tab".to_string(),
            d => format!("'{}'", d as char),
        };
        write!(f, "encoding {enc}, separator {sep}, decimal {dec}")
    }
}

impl std::str::FromStr for Encoding {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().replace('_', "-").as_str() {
            "utf8" | "utf-8" => Ok(Encoding::Utf8),
            "windows-1252" | "cp1252" | "latin1" | "iso-8859-1" => Ok(Encoding::Windows1252),
            _ => Err(format!(
                "unknown encoding '{s}': expected utf-8 or windows-1252"
            )),
        }
    }
}

impl std::str::FromStr for Decimal {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "comma" | "," => Ok(Decimal::Comma),
            "point" | "." => Ok(Decimal::Point),
            _ => Err(format!(
                "unknown decimal mark '{s}': expected comma or point"
            )),
        }
    }
}

/// Parses a `--delimiter` value: `;`, `,`, `tab` or `\t`.
pub fn parse_delimiter(s: &str) -> Result<u8, String> {
    match s {
        ";" | "semicolon" => Ok(b';'),
        "," | "comma" => Ok(b','),
        "tab" | "\\t" | "\t" => Ok(b'\t'),
        "|" | "pipe" => Ok(b'|'),
        _ => Err(format!(
            "unknown separator '{s}': expected ';', ',', 'tab' or '|'"
        )),
    }
}

/// Decodes file bytes to text: strips a UTF-8 byte-order mark, falls back to
/// Windows-1252 when the bytes are not valid UTF-8.
pub fn decode(bytes: &[u8], forced: Option<Encoding>) -> (Cow<'_, str>, Encoding) {
    let bytes_nobom = bytes.strip_prefix(b"\xEF\xBB\xBF");
    match forced {
        Some(Encoding::Windows1252) => {
            let (text, _, _) = encoding_rs::WINDOWS_1252.decode(bytes);
            (text, Encoding::Windows1252)
        }
        _ => {
            let b = bytes_nobom.unwrap_or(bytes);
            match std::str::from_utf8(b) {
                Ok(s) => (Cow::Borrowed(s), Encoding::Utf8),
                Err(_) if forced == Some(Encoding::Utf8) => {
                    (String::from_utf8_lossy(b), Encoding::Utf8)
                }
                Err(_) => {
                    let (text, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(b);
                    (text, Encoding::Windows1252)
                }
            }
        }
    }
}

/// Picks the field separator from the header line: the most frequent of
/// `;`, `,`, tab and `|` outside quotes (`,` when there is none).
pub fn detect_delimiter(text: &str) -> u8 {
    let mut counts = [0usize; 4];
    let cands = [b';', b',', b'\t', b'|'];
    let mut in_quotes = false;
    for &b in text.as_bytes() {
        match b {
            b'"' => in_quotes = !in_quotes,
            b'\n' if !in_quotes => break,
            _ if !in_quotes => {
                if let Some(i) = cands.iter().position(|&c| c == b) {
                    counts[i] += 1;
                }
            }
            _ => {}
        }
    }
    let (best, n) = counts
        .iter()
        .enumerate()
        .max_by_key(|&(i, &n)| (n, std::cmp::Reverse(i)))
        .expect("four candidates");
    if *n == 0 {
        b','
    } else {
        cands[best]
    }
}

/// Evidence about the decimal mark gathered from sample values.
#[derive(Debug, Default, Clone, Copy)]
pub struct DecimalEvidence {
    comma: usize,
    point: usize,
}

impl DecimalEvidence {
    /// Looks at one numeric-looking field and records what it proves.
    pub fn observe(&mut self, s: &str) {
        let s = s.trim();
        if s.is_empty()
            || !s
                .bytes()
                .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b',' | b'-' | b'+' | b' '))
        {
            return;
        }
        let commas = s.bytes().filter(|&b| b == b',').count();
        let points = s.bytes().filter(|&b| b == b'.').count();
        match (commas, points) {
            (0, 0) => {}
            (c, p) if c > 0 && p > 0 => {
                // Whichever comes last is the decimal mark: 1.234,5 or 1,234.5.
                if s.rfind(',') > s.rfind('.') {
                    self.comma += 1
                } else {
                    self.point += 1
                }
            }
            (c, 0) if c > 1 => self.point += 1, // 1,234,567: thousands commas
            (0, p) if p > 1 => self.comma += 1, // 1.234.567: thousands points
            (1, 0) => {
                let after = s.len() - s.find(',').unwrap_or(0) - 1;
                if after != 3 {
                    self.comma += 1
                }
            }
            (0, 1) => {
                let after = s.len() - s.find('.').unwrap_or(0) - 1;
                if after != 3 {
                    self.point += 1
                }
            }
            _ => {}
        }
    }

    /// The decimal mark the evidence shows; `fallback` when it shows none.
    /// `Err` when the file mixes both conventions.
    pub fn decide(self, fallback: Decimal) -> Result<Decimal, String> {
        match (self.comma > 0, self.point > 0) {
            (true, false) => Ok(Decimal::Comma),
            (false, true) => Ok(Decimal::Point),
            (false, false) => Ok(fallback),
            (true, true) => Err(format!(
                "the file mixes decimal commas ({} values) and decimal points ({} values); \
                 say which with --decimal comma|point",
                self.comma, self.point
            )),
        }
    }
}

/// Parses a number as Danish or English Excel writes it: optional sign,
/// thousands separators in groups of three (`.` or space with decimal comma,
/// `,` or space with decimal point), one decimal mark. `None` if it is not one.
pub fn parse_number(s: &str, decimal: Decimal) -> Option<f64> {
    let s = s.trim_matches(|c: char| c == ' ' || c == '\u{a0}');
    let b = s.as_bytes();
    if b.is_empty() {
        return None;
    }
    // Fast path: plain non-negative integers, the bulk of count data.
    if b.len() <= 15 && b.iter().all(u8::is_ascii_digit) {
        let mut v: u64 = 0;
        for &d in b {
            v = v * 10 + u64::from(d - b'0');
        }
        return Some(v as f64);
    }
    let (dec, thou) = match decimal {
        Decimal::Comma => (b',', b'.'),
        Decimal::Point => (b'.', b','),
    };
    let mut out = String::with_capacity(b.len());
    let mut i = 0;
    if matches!(b[0], b'-' | b'+') {
        if b[0] == b'-' {
            out.push('-');
        }
        i = 1;
    }
    let int_start = i;
    let mut group_len: Option<usize> = None; // digits since the last thousands separator
    let mut digits = 0usize;
    while i < b.len() && b[i] != dec {
        let c = b[i];
        if c.is_ascii_digit() {
            out.push(c as char);
            digits += 1;
            if let Some(g) = group_len.as_mut() {
                *g += 1;
            }
        } else if c == thou || c == b' ' || (c == 0xC2 && b.get(i + 1) == Some(&0xA0)) {
            if digits == 0 || group_len.is_some_and(|g| g != 3) {
                return None;
            }
            if c == 0xC2 {
                i += 1;
            }
            group_len = Some(0);
        } else {
            return None;
        }
        i += 1;
    }
    if group_len.is_some_and(|g| g != 3) || (digits == 0 && i == int_start && i == b.len()) {
        return None;
    }
    if i < b.len() {
        // decimal part
        out.push('.');
        i += 1;
        let frac_start = i;
        while i < b.len() {
            if !b[i].is_ascii_digit() {
                return None;
            }
            out.push(b[i] as char);
            i += 1;
        }
        if digits == 0 && i == frac_start {
            return None;
        }
    }
    if digits == 0 && !out.contains('.') {
        return None;
    }
    out.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// Cell texts that statistical exports use for "no figure" (suppressed or missing).
pub fn is_missing_marker(s: &str) -> bool {
    matches!(s.trim(), "" | "." | ".." | "-" | "NA" | "n/a")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_danish_and_english_numbers() {
        use Decimal::*;
        assert_eq!(parse_number("1234", Comma), Some(1234.0));
        assert_eq!(parse_number("1.234,5", Comma), Some(1234.5));
        assert_eq!(parse_number("1 234,5", Comma), Some(1234.5));
        assert_eq!(parse_number("1\u{a0}234,5", Comma), Some(1234.5));
        assert_eq!(parse_number("-0,25", Comma), Some(-0.25));
        assert_eq!(parse_number(",5", Comma), Some(0.5));
        assert_eq!(parse_number("1,234.5", Point), Some(1234.5));
        assert_eq!(parse_number("12.5", Point), Some(12.5));
        assert_eq!(parse_number("1.234.567", Comma), Some(1234567.0));
    }

    #[test]
    fn rejects_what_is_not_a_number() {
        use Decimal::*;
        for s in [
            "abc", "1,5", "1.23.4", "12,34", "--1", "1e5x", "inf", "NaN", "", "-", ",",
        ] {
            assert_eq!(parse_number(s, Point), None, "{s}");
        }
        for s in ["1.5", "1.23,4", "12.34", "1,2,3"] {
            assert_eq!(parse_number(s, Comma), None, "{s}");
        }
    }

    #[test]
    fn detects_delimiter_outside_quotes() {
        assert_eq!(detect_delimiter("a;b;c\n1,5;2;3"), b';');
        assert_eq!(detect_delimiter("a,b,c\n1;2;3"), b',');
        assert_eq!(detect_delimiter("\"a;x\",b,c\n"), b',');
        assert_eq!(detect_delimiter("a\tb\n"), b'\t');
    }

    #[test]
    fn decodes_bom_utf8_and_windows_1252() {
        let (t, e) = decode(b"\xEF\xBB\xBFafd;\xC3\xA6", None);
        assert_eq!((t.as_ref(), e), ("afd;æ", Encoding::Utf8));
        let (t, e) = decode(b"S\xF8ndervangen \xC6\xD8\xC5", None);
        assert_eq!((t.as_ref(), e), ("Søndervangen ÆØÅ", Encoding::Windows1252));
    }

    #[test]
    fn decimal_evidence_decides_or_asks() {
        let mut ev = DecimalEvidence::default();
        ev.observe("1.234"); // ambiguous
        assert_eq!(ev.decide(Decimal::Comma), Ok(Decimal::Comma));
        ev.observe("12,5");
        assert_eq!(ev.decide(Decimal::Point), Ok(Decimal::Comma));
        ev.observe("12.5");
        assert!(ev.decide(Decimal::Point).is_err());
    }
}
