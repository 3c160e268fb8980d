//! Personal data in free text: finding what looks like a Danish CPR number
//! however it is written, so that assessment notes never carry one.
//!
//! The text is first normalised - Unicode NFKC (fullwidth digits become
//! ASCII digits, no-break spaces become spaces), every dash (hyphen, en and
//! em dash, minus sign, U+2010, ...) becomes `-`, every space becomes ` `
//! and zero-width characters and soft hyphens are dropped - and then split
//! into runs of digits joined by short separators (up to three of
//! `- . / _ , :` and space). A CPR number is refused in each of these shapes
//! (the six-digit date DDMMYY must be a real day and month):
//!
//! | shape                     | examples                                   |
//! |---------------------------|--------------------------------------------|
//! | DDMMYY XXXX               | `010190-1234`, `010190 1234`, `010190/1234`|
//! | DD MM YY XXXX             | `01.01.90-1234`, `01 01 90 1234`           |
//! | DD MM YYYY XXXX           | `01.01.1990-1234`                          |
//! | DDMMYYXXXX (10 digits)    | `0101901234`                               |
//! | DMMYYXXXX (9 digits)      | `101901234` (an Excel number cell that lost its leading zero) |
//!
//! Phone numbers (`12 34 56 78`, `+45 12345678`), dates (`12.03.2025`),
//! times, amounts (`1.250.000 kr.`) and ids that are not valid CPR dates
//! pass.

use unicode_normalization::UnicodeNormalization;

/// The text as it is matched: NFKC, dashes as `-`, spaces as ` `, no
/// zero-width characters.
pub fn normalise(text: &str) -> String {
    text.nfkc()
        .filter_map(|c| match c {
            '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{00AD}'
            | '\u{180E}' => None,
            '\u{2010}'..='\u{2015}'
            | '\u{2212}'
            | '\u{2043}'
            | '\u{FE58}'
            | '\u{FE63}'
            | '\u{FF0D}'
            | '\u{02D7}'
            | '\u{2796}' => Some('-'),
            c if c.is_whitespace() => Some(' '),
            c => Some(c),
        })
        .collect()
}

fn valid_date(day: u32, month: u32) -> bool {
    (1..=31).contains(&day) && (1..=12).contains(&month)
}

/// A run of digits in the normalised text: byte range.
#[derive(Debug, Clone, Copy)]
struct Run {
    start: usize,
    end: usize,
}

const SEPARATORS: &[u8] = b"-./_,: ";

/// Byte ranges (in [`normalise`]d text) of everything shaped like a CPR number.
pub fn cpr_spans(normalised: &str) -> Vec<std::ops::Range<usize>> {
    let b = normalised.as_bytes();
    // Digit runs, and whether each is joined to the next by a short separator.
    let mut runs: Vec<Run> = Vec::new();
    let mut joined: Vec<bool> = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit() {
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            let mut j = i;
            while j < b.len() && j - i < 4 && SEPARATORS.contains(&b[j]) {
                j += 1;
            }
            let join = j > i && j - i <= 3 && j < b.len() && b[j].is_ascii_digit();
            runs.push(Run { start, end: i });
            joined.push(join);
        } else {
            i += 1;
        }
    }
    let digits = |r: &Run| &normalised[r.start..r.end];
    let num = |s: &str| s.parse::<u32>().unwrap_or(0);
    let mut spans = Vec::new();
    for k in 0..runs.len() {
        // The lengths of the chain of runs starting at k.
        let mut chain = vec![runs[k]];
        let mut m = k;
        while joined[m] && m + 1 < runs.len() && chain.len() < 5 {
            m += 1;
            chain.push(runs[m]);
        }
        let lens: Vec<usize> = chain.iter().map(|r| r.end - r.start).collect();
        let text: Vec<&str> = chain.iter().map(digits).collect();
        let span = |n: usize| chain[0].start..chain[n - 1].end;
        // Only chains whose first run starts a digit group (not the tail of
        // a longer number) are candidates; runs are maximal, so this holds.
        let hit = match lens.as_slice() {
            [10, ..] => {
                let t = text[0];
                valid_date(num(&t[0..2]), num(&t[2..4])).then(|| span(1))
            }
            [9, ..] => {
                let t = text[0];
                valid_date(num(&t[0..1]), num(&t[1..3])).then(|| span(1))
            }
            [6, 4, ..] => {
                let t = text[0];
                valid_date(num(&t[0..2]), num(&t[2..4])).then(|| span(2))
            }
            [2, 2, 2, 4, ..] => valid_date(num(text[0]), num(text[1])).then(|| span(4)),
            [2, 2, 4, 4, ..] => {
                let sep = &normalised[chain[2].end..chain[3].start];
                let year = num(text[2]);
                (valid_date(num(text[0]), num(text[1]))
                    && (1850..=2100).contains(&year)
                    && sep.trim() == "-")
                    .then(|| span(4))
            }
            [8, 4, ..] => {
                let t = text[0];
                let sep = &normalised[chain[0].end..chain[1].start];
                (valid_date(num(&t[0..2]), num(&t[2..4]))
                    && (1850..=2100).contains(&num(&t[4..8]))
                    && sep.trim() == "-")
                    .then(|| span(2))
            }
            _ => None,
        };
        if let Some(s) = hit {
            spans.push(s);
        }
    }
    spans
}

/// Whether `text` holds something shaped like a Danish CPR number (see the
/// module documentation for the shapes).
pub fn looks_like_cpr(text: &str) -> bool {
    !cpr_spans(&normalise(text)).is_empty()
}

/// The replacement of a CPR number in a redacted note.
pub const REDACTED: &str = "[CPR-nummer fjernet]";

/// `text` normalised, with every CPR-shaped number replaced by [`REDACTED`];
/// `None` when there is none.
pub fn redact(text: &str) -> Option<String> {
    let n = normalise(text);
    let spans = cpr_spans(&n);
    if spans.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(n.len());
    let mut at = 0;
    for s in spans {
        if s.start < at {
            continue;
        }
        out.push_str(&n[at..s.start]);
        out.push_str(REDACTED);
        at = s.end;
    }
    out.push_str(&n[at..]);
    Some(out)
}

/// The forms of issue 18's battery, all refused (shared by the unit tests
/// and the end-to-end import test).
#[doc(hidden)]
pub const REFUSED: &[&str] = &[
    "010190-1234",
    "0101901234",
    "010190 1234",
    "01.01.90-1234",
    "01-01-90-1234",
    "01 01 90 1234",
    "01.01.1990-1234",
    "010190\u{2013}1234",    // en dash
    "010190\u{2212}1234",    // minus sign
    "010190\u{2010}1234",    // hyphen U+2010
    "010190\u{00A0}1234",    // no-break space
    "010190\u{200B}1234",    // zero-width space
    "０１０１９０-１２３４", // fullwidth digits
    "010190/1234",
    "010190_1234",
    "101901234", // Excel number cell, leading zero lost
    "beboer 311299 - 4321 ringede",
    "cpr:010190-1234.",
];

/// Notes with phone numbers, dates, times and amounts: all accepted.
#[doc(hidden)]
pub const ACCEPTED: &[&str] = &[
    "Ring til inspektøren på 12 34 56 78",
    "tlf. +45 12345678 eller 87 65 43 21",
    "møde 12.03.2025 kl. 10-12",
    "møde 12.03.2025 kl. 14.30",
    "huslejen steg 1.250.000 kr. i 2024",
    "afdeling 1234-5678 og 2025-2026",
    "sag nr. 2024-123456",
    "fraflytninger 2023: 14, 2024: 21",
    "ejendom 1234567890", // day 12, month 34: not a date
    "budget 150000000 kr.",
    "periode 2025Q3, 43,5 %",
    "",
];

#[cfg(test)]
mod tests {
    use super::*;

    /// The battery of issue 18: every form must be refused.
    #[test]
    fn every_written_form_of_a_cpr_number_is_found() {
        for t in REFUSED {
            assert!(looks_like_cpr(t), "not found: {t:?}");
        }
    }

    /// Ordinary notes with numbers pass.
    #[test]
    fn phone_numbers_dates_and_amounts_pass() {
        for t in ACCEPTED {
            assert!(!looks_like_cpr(t), "false positive: {t:?}");
        }
    }

    #[test]
    fn redaction_replaces_only_the_number() {
        assert_eq!(
            redact("Beboer 010190-1234 klager").as_deref(),
            Some("Beboer [CPR-nummer fjernet] klager")
        );
        assert_eq!(redact("ingen numre her"), None);
    }
}
