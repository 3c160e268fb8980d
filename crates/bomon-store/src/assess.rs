//! The qualitative-assessment log: reading filled-in assessment forms (CSV,
//! or the XLSX form sheet of a review's workbook), validating them like any
//! ingest, and appending them to the store. An assessment is never
//! overwritten: every entry has its own id; a correction is a new entry, and
//! the latest by date supersedes for its department and period.

use std::collections::HashSet;
use std::path::Path;

use polars::prelude::*;
use sha2::{Digest, Sha256};

use crate::error::{Error, Issue, Location, Rejection, Result};
use crate::store::{Store, StoredTable};

/// The form's vocabulary (columns, outcomes, roles), defined once in bomon-vocab.
pub use bomon_vocab::form::{Column as FormColumn, Outcome, Role, COLUMNS};

/// One assessment as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Department.
    pub department_id: String,
    /// The reviewed period it answers (`2025`, `2025Q3`).
    pub period: String,
    /// ISO date.
    pub assessed_on: String,
    /// Role of who assessed.
    pub role: String,
    /// Outcome.
    pub outcome: String,
    /// Free text, without personal data.
    pub note: String,
}

impl Entry {
    /// A stable id of the entry's content.
    pub fn id(&self) -> String {
        let mut h = Sha256::new();
        for f in [
            &self.department_id,
            &self.period,
            &self.assessed_on,
            &self.role,
            &self.outcome,
            &self.note,
        ] {
            h.update(f.as_bytes());
            h.update([0]);
        }
        hex::encode(&h.finalize()[..12])
    }
}

pub use crate::personal::looks_like_cpr;

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day number.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

/// Today's date as days since 1970-01-01 (UTC).
pub fn today() -> i64 {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    secs.div_euclid(86_400)
}

/// Parses `YYYY-MM-DD` (or `DD-MM-YYYY` / `DD.MM.YYYY`, as Danish Excel
/// writes) into days since 1970-01-01.
pub fn parse_date(s: &str) -> Option<i64> {
    let s = s.trim();
    let parts: Vec<&str> = s.split(['-', '.', '/']).collect();
    if parts.len() != 3 {
        return None;
    }
    let nums: Vec<i64> = parts
        .iter()
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let (y, m, d) = if parts[0].len() == 4 {
        (nums[0], nums[1], nums[2])
    } else if parts[2].len() == 4 {
        (nums[2], nums[1], nums[0])
    } else {
        return None;
    };
    if !(1..=12).contains(&m) || d < 1 {
        return None;
    }
    let days = days_from_civil(y, m as u32, d as u32);
    // Round-trip: rejects 2025-02-30.
    (civil_from_days(days) == (y, m as u32, d as u32)).then_some(days)
}

/// ISO form of a day number.
pub fn iso(days: i64) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

struct Raw {
    loc: Location,
    cells: Vec<String>,
}

fn col_letter(c: usize) -> String {
    let mut c = c as u32;
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (c % 26) as u8);
        if c < 26 {
            break;
        }
        c = c / 26 - 1;
    }
    s.reverse();
    String::from_utf8(s).unwrap_or_default()
}

/// Rows of the file from its header row on (the first row naming
/// `department_id`; a banner line above it, as in the report's form, is skipped).
fn read_rows(path: &Path, file: &str) -> std::result::Result<(Vec<String>, Vec<Raw>), Issue> {
    let issue = |location: Location, message: String| Issue {
        file: file.to_string(),
        location,
        column: None,
        message,
    };
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let mut rows: Vec<Raw> = Vec::new();
    let mut sheet_name = None;
    if ["xlsx", "xlsm", "xls", "ods"].contains(&ext.as_str()) {
        use calamine::{open_workbook_auto, Data, Reader};
        crate::source::check_archive(path).map_err(|m| issue(Location::File, m))?;
        let mut wb = open_workbook_auto(path)
            .map_err(|e| issue(Location::File, format!("not readable as a workbook: {e}")))?;
        let names = wb.sheet_names().to_vec();
        for name in names {
            let Ok(range) = wb.worksheet_range(&name) else {
                continue;
            };
            let has_header = range.rows().any(|r| {
                r.iter().any(|c| COLUMNS[0].matches(&c.to_string()))
                    && r.iter().any(|c| COLUMNS[4].matches(&c.to_string()))
            });
            if !has_header {
                continue;
            }
            if let Some(cell) = crate::source::uncached_formula(&mut wb, &name, &range) {
                return Err(issue(
                    Location::Cell {
                        sheet: name.clone(),
                        cell,
                    },
                    crate::source::FORMULA_WITHOUT_VALUE.into(),
                ));
            }
            let (r0, c0) = range.start().unwrap_or((0, 0));
            for (k, r) in range.rows().enumerate() {
                let cells = r
                    .iter()
                    .map(|c| match c {
                        Data::DateTime(dt) => iso(dt.as_f64().floor() as i64 - 25_569),
                        Data::Float(f) if f.fract() == 0.0 => format!("{}", *f as i64),
                        other => other.to_string().trim().to_string(),
                    })
                    .collect();
                rows.push(Raw {
                    loc: Location::Cell {
                        sheet: name.clone(),
                        cell: format!("{}{}", col_letter(c0 as usize), r0 as usize + k + 1),
                    },
                    cells,
                });
            }
            sheet_name = Some(name);
            break;
        }
        if sheet_name.is_none() {
            return Err(issue(
                Location::File,
                "no sheet with the assessment form's columns (department_id ... outcome, note)"
                    .into(),
            ));
        }
    } else {
        let bytes = std::fs::read(path).map_err(|e| issue(Location::File, e.to_string()))?;
        let (text, _) = crate::dialect::decode(&bytes, None);
        let delim = crate::dialect::detect_delimiter(&text);
        let mut rdr = csv::ReaderBuilder::new()
            .delimiter(delim)
            .has_headers(false)
            .flexible(true)
            .from_reader(text.as_bytes());
        for rec in rdr.records() {
            let rec = rec.map_err(|e| {
                let line = e.position().map_or(0, |p| p.line());
                issue(Location::Line(line), format!("not readable as CSV: {e}"))
            })?;
            let line = rec.position().map_or(0, |p| p.line());
            rows.push(Raw {
                loc: Location::Line(line),
                cells: rec.iter().map(|s| s.trim().to_string()).collect(),
            });
        }
    }
    let Some(h) = rows
        .iter()
        .position(|r| r.cells.iter().any(|c| COLUMNS[0].matches(c)))
    else {
        return Err(issue(
            Location::File,
            format!("no header row: expected the columns {}", column_list()),
        ));
    };
    let header = rows[h].cells.clone();
    Ok((header, rows.split_off(h + 1)))
}

/// "department_id (Afdeling (id)), ..." for messages.
fn column_list() -> String {
    COLUMNS
        .iter()
        .map(|c| format!("{} ({})", c.code, c.da))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Reads a form's rows (no store checks): the number of data rows.
pub fn read_form(path: &Path) -> std::result::Result<usize, Issue> {
    read_rows(path, &path.display().to_string()).map(|(_, rows)| rows.len())
}

/// Cell location of column `c` in a row.
fn at(loc: &Location, c: usize) -> Location {
    match loc {
        Location::Cell { sheet, cell } => {
            let row: String = cell
                .chars()
                .skip_while(|x| x.is_ascii_alphabetic())
                .collect();
            Location::Cell {
                sheet: sheet.clone(),
                cell: format!("{}{}", col_letter(c), row),
            }
        }
        other => other.clone(),
    }
}

/// What was imported.
#[derive(Debug, Clone)]
pub struct Imported {
    /// Entries appended.
    pub entries: usize,
    /// Rows of the form left empty (no outcome, no date): skipped.
    pub unfilled: usize,
    /// The new snapshot.
    pub snapshot: u32,
}

/// Reads, validates and appends the assessments of `path` to the store. Any
/// problem rejects the whole file with every problem listed; nothing stored.
pub fn import(store: &mut Store, path: &Path, catalogue_sha256: &str) -> Result<Imported> {
    let file = path.display().to_string();
    let fail = |issues: Vec<Issue>| {
        Error::Rejected(Rejection {
            issues,
            not_listed: vec![],
            action: "assessment import rejected, nothing stored",
        })
    };
    let (header, rows) = read_rows(path, &file).map_err(|i| fail(vec![i]))?;
    let mut idx = Vec::new();
    let mut issues = Vec::new();
    for c in COLUMNS {
        match header.iter().position(|h| c.matches(h)) {
            Some(i) => idx.push(i),
            None => issues.push(Issue {
                file: file.clone(),
                location: Location::File,
                column: Some(c.code.into()),
                message: format!("missing column: expected the columns {}", column_list()),
            }),
        }
    }
    if !issues.is_empty() {
        return Err(fail(issues));
    }
    // What the store knows: departments, reviewed (department, period),
    // entries - read under the writer's lock, so that a concurrent import
    // cannot slip the same entry in between this check and the commit.
    let lock = store.lock()?;
    let snap = store.snapshot(None)?;
    let ids: HashSet<String> = crate::frame::strings(
        &snap
            .table(StoredTable::Departments)?
            .collect()
            .map_err(|e| Error::polars("departments", e))?,
        "department_id",
    )?
    .into_iter()
    .flatten()
    .collect();
    let rd = snap
        .table(StoredTable::ReviewDepartments)?
        .collect()
        .map_err(|e| Error::polars("reviews", e))?;
    let reviewed: HashSet<(String, String)> = crate::frame::strings(&rd, "department_id")?
        .into_iter()
        .zip(crate::frame::strings(&rd, "period")?)
        .filter_map(|(d, p)| Some((d?, p?)))
        .collect();
    let stored: HashSet<String> = crate::frame::strings(
        &snap
            .table(StoredTable::Assessments)?
            .collect()
            .map_err(|e| Error::polars("assessments", e))?,
        "assessment_id",
    )?
    .into_iter()
    .flatten()
    .collect();
    let today = today();
    let mut entries: Vec<Entry> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut unfilled = 0;
    for r in &rows {
        let get = |k: usize| r.cells.get(idx[k]).cloned().unwrap_or_default();
        let (dep, period, date, role, outcome, note) =
            (get(0), get(1), get(2), get(3), get(4), get(5));
        // "2025K3" and "2025Q3" are one period; the store keeps the latter.
        let period = period
            .parse::<bomon_vocab::Period>()
            .map_or(period, |p| p.to_string());
        if dep.is_empty()
            && period.is_empty()
            && date.is_empty()
            && outcome.is_empty()
            && note.is_empty()
        {
            continue;
        }
        if date.is_empty() && outcome.is_empty() && role.is_empty() && note.is_empty() {
            unfilled += 1;
            continue;
        }
        let mut found: Vec<Issue> = Vec::new();
        let mut bad = |k: usize, message: String| {
            found.push(Issue {
                file: file.clone(),
                location: at(&r.loc, idx[k]),
                column: Some(COLUMNS[k].code.into()),
                message,
            })
        };
        if !ids.contains(&dep) {
            bad(
                0,
                format!("unknown department \"{dep}\": expected a department_id of the store"),
            );
        } else if !reviewed.contains(&(dep.clone(), period.clone())) {
            bad(1, format!("department {dep} was never reviewed for period \"{period}\": expected the period of a recorded review (bomon query \"SELECT period FROM review_departments WHERE department_id = '{dep}'\")"));
        }
        match parse_date(&date) {
            None => bad(2, format!("\"{date}\" is not a date: expected YYYY-MM-DD")),
            Some(d) if d > today => bad(
                2,
                format!("{} lies in the future (today is {})", iso(d), iso(today)),
            ),
            _ => {}
        }
        let role = match role.parse::<Role>() {
            Ok(r) => r.code().to_string(),
            Err(e) => {
                bad(3, e);
                role
            }
        };
        let outcome = match outcome.parse::<Outcome>() {
            Ok(o) => o.code().to_string(),
            Err(e) => {
                bad(4, e);
                outcome
            }
        };
        if looks_like_cpr(&note) {
            bad(5, "the note contains what looks like a CPR number: notes must not carry personal data (no names, addresses or CPR numbers)".into());
        }
        if !found.is_empty() {
            issues.extend(found);
            continue;
        }
        let e = Entry {
            department_id: dep,
            period,
            assessed_on: iso(parse_date(&date).unwrap_or(today)),
            role,
            outcome,
            note,
        };
        let id = e.id();
        let dup = if stored.contains(&id) {
            Some("this assessment is already in the store (identical entry): a correction is a new entry with its own date or note")
        } else if !seen.insert(id) {
            Some("duplicate row: the same assessment appears twice in the file")
        } else {
            None
        };
        match dup {
            Some(m) => issues.push(Issue {
                file: file.clone(),
                location: at(&r.loc, idx[0]),
                column: Some(COLUMNS[0].code.into()),
                message: m.into(),
            }),
            None => entries.push(e),
        }
    }
    if !issues.is_empty() {
        issues.sort_by_key(|i| match &i.location {
            Location::Line(l) => *l,
            _ => 0,
        });
        return Err(fail(issues));
    }
    if entries.is_empty() {
        return Err(fail(vec![Issue {
            file: file.clone(),
            location: Location::File,
            column: None,
            message: format!(
                "no filled-in assessment ({unfilled} row(s) without date and outcome)"
            ),
        }]));
    }
    let n = entries.len();
    let col = |f: &dyn Fn(&Entry) -> String| entries.iter().map(f).collect::<Vec<String>>();
    let df = DataFrame::new(vec![
        Column::new("assessment_id".into(), col(&|e| e.id())),
        Column::new("department_id".into(), col(&|e| e.department_id.clone())),
        Column::new("period".into(), col(&|e| e.period.clone())),
        Column::new("assessed_on".into(), col(&|e| e.assessed_on.clone())),
        Column::new("assessed_by_role".into(), col(&|e| e.role.clone())),
        Column::new("outcome".into(), col(&|e| e.outcome.clone())),
        Column::new("note".into(), col(&|e| e.note.clone())),
        Column::new(
            "source".into(),
            vec![
                path.file_name()
                    .map_or(file.clone(), |f| f.to_string_lossy().to_string());
                n
            ],
        ),
    ])
    .map_err(|e| Error::polars("assessments", e))?;
    let snapshot = store.commit(
        &lock,
        vec![(StoredTable::Assessments, df)],
        vec![],
        catalogue_sha256,
    )?;
    Ok(Imported {
        entries: n,
        unfilled,
        snapshot,
    })
}

/// What [`scrub`] did.
#[derive(Debug, Clone)]
pub struct Scrubbed {
    /// Notes redacted (every stored version, superseded ones included).
    pub notes: u64,
    /// Assessment ids whose note was redacted.
    pub ids: Vec<String>,
    /// The snapshot that records the redaction (`None`: nothing found).
    pub snapshot: Option<u32>,
}

/// Finds notes already in the store that hold a CPR-shaped number (older
/// versions of bomon caught fewer forms) and redacts them where they are
/// stored: every assessments file with such a note is rewritten with the
/// number replaced by [`crate::personal::REDACTED`], the old file deleted,
/// and a new snapshot records which files and ids were redacted (never the
/// numbers). Assessment ids and everything else stay as they were.
pub fn scrub(store: &mut Store) -> Result<Scrubbed> {
    let lock = store.lock()?;
    let mut ids = Vec::new();
    let mut notes = 0u64;
    let snapshot = store.redact(
        &lock,
        StoredTable::Assessments,
        "a note held a CPR-shaped number (bomon assess scrub)",
        &mut |df: DataFrame| {
            let note = crate::frame::strings(&df, "note")?;
            let id = crate::frame::strings(&df, "assessment_id")?;
            let mut changed = 0u64;
            let new: Vec<Option<String>> = note
                .iter()
                .zip(&id)
                .map(|(n, i)| {
                    let n = n.clone()?;
                    match crate::personal::redact(&n) {
                        Some(r) => {
                            changed += 1;
                            ids.extend(i.clone());
                            Some(r)
                        }
                        None => Some(n),
                    }
                })
                .collect();
            if changed == 0 {
                return Ok(None);
            }
            notes += changed;
            let mut df = df;
            df.replace("note", Series::new("note".into(), new))
                .map_err(|e| Error::polars("redacting notes", e))?;
            Ok(Some((df, changed)))
        },
    )?;
    ids.sort();
    ids.dedup();
    Ok(Scrubbed {
        notes,
        ids,
        snapshot,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(notes: &[&str]) -> DataFrame {
        let n = notes.len();
        let s = |v: &str| vec![v.to_string(); n];
        DataFrame::new(vec![
            Column::new(
                "assessment_id".into(),
                (0..n)
                    .map(|i| format!("id{i}-{}", notes[i].len()))
                    .collect::<Vec<_>>(),
            ),
            Column::new("department_id".into(), s("D1")),
            Column::new("period".into(), s("2025")),
            Column::new("assessed_on".into(), s("2025-11-01")),
            Column::new("assessed_by_role".into(), s("koordinator")),
            Column::new("outcome".into(), s("monitor")),
            Column::new(
                "note".into(),
                notes.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            ),
            Column::new("source".into(), s("form.csv")),
        ])
        .unwrap()
    }

    /// Notes stored by an older bomon (whose check missed these forms) are
    /// redacted in place: the history keeps only the redacted text, the old
    /// files are gone, the store verifies, and a second scrub finds nothing.
    #[test]
    fn scrub_redacts_stored_notes_and_keeps_only_the_redacted_text() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open_or_create(dir.path()).unwrap();
        for notes in [
            &["alt i orden", "Beboer 01.01.90-1234 ringede"][..],
            &[
                "ring 12 34 56 78",
                "cpr \u{FF10}\u{FF11}\u{FF10}\u{FF11}\u{FF19}\u{FF10}\u{2013}4321",
            ][..],
        ] {
            let lock = store.lock().unwrap();
            store
                .commit(
                    &lock,
                    vec![(StoredTable::Assessments, entries(notes))],
                    vec![],
                    "x",
                )
                .unwrap();
        }
        let r = scrub(&mut store).unwrap();
        assert_eq!(r.notes, 2);
        assert_eq!(r.snapshot, Some(3));
        let snap = store.snapshot(None).unwrap();
        let df = snap
            .history(StoredTable::Assessments)
            .unwrap()
            .collect()
            .unwrap();
        let notes: Vec<String> = crate::frame::strings(&df, "note")
            .unwrap()
            .into_iter()
            .flatten()
            .collect();
        assert_eq!(notes.len(), 4);
        assert!(notes.iter().all(|n| !looks_like_cpr(n)), "{notes:?}");
        assert!(notes.contains(&"Beboer [CPR-nummer fjernet] ringede".to_string()));
        assert!(notes.contains(&"ring 12 34 56 78".to_string()));
        // Only the files the manifest lists remain; nothing to verify wrong.
        let files: Vec<_> = std::fs::read_dir(dir.path().join("data/assessments"))
            .unwrap()
            .collect();
        assert_eq!(files.len(), 2);
        assert!(store.verify().unwrap().is_empty());
        let reopened = Store::open(dir.path()).unwrap();
        assert_eq!(reopened.snapshots()[2].redactions.len(), 2);
        let mut store = reopened;
        assert_eq!(scrub(&mut store).unwrap().snapshot, None);
    }
}
