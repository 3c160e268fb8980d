//! Every validation error names the file, the line (or sheet and cell), the
//! column and what was expected; a file with errors stores nothing.

use std::path::Path;

use super::common::*;

const DEPS: &str = "department_id,name,organisation,municipality_code,area_id,housing_type,tenancies,construction_year\n\
    D1,Håndværkerparken,Org,751,HP,family,380,1970\n\
    D2,Søndervangen,Org,751,SV,family,1250,1968\n";

/// A store holding the two departments above, and its directory.
fn store_with_departments() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let d = write(dir.path(), "deps.csv", DEPS);
    let store = dir.path().join("store");
    let out = ingest(&store, &[&d]);
    assert!(out.status.success(), "{}", stderr(&out));
    (dir, store)
}

/// Ingests `body` as `name` and returns stderr; asserts failure and that the
/// store still has exactly one snapshot with no observations.
fn rejected(dir: &Path, store: &Path, name: &str, body: &str) -> String {
    let f = write(dir, name, body);
    let out = ingest(store, &[&f]);
    assert!(!out.status.success(), "expected rejection of {name}");
    assert_eq!(
        query_csv(store, "SELECT count(*) AS n FROM observations"),
        "n\n0\n",
        "nothing from a rejected file may be stored"
    );
    assert_eq!(
        query_csv(store, "SELECT count(*) AS n FROM snapshots"),
        "n\n1\n"
    );
    stderr(&out)
}

const HEAD: &str = "department_id;period;indicator;numerator;denominator;value\n";

#[test]
fn ingest_rejects_unknown_indicator_naming_line_and_column() {
    let (dir, store) = store_with_departments();
    let e = rejected(
        dir.path(),
        &store,
        "o.csv",
        &format!("{HEAD}D1;2024;move_out_rate;4;380;\nD1;2024;moveout;4;380;\n"),
    );
    assert!(
        e.contains("o.csv, line 3, column 'indicator': unknown indicator \"moveout\""),
        "{e}"
    );
}

#[test]
fn ingest_rejects_unknown_department() {
    let (dir, store) = store_with_departments();
    let e = rejected(
        dir.path(),
        &store,
        "o.csv",
        &format!("{HEAD}D9;2024;move_out_rate;4;380;\nD9;2023;move_out_rate;4;380;\n"),
    );
    assert!(e.contains("o.csv, line 2, column 'department_id': unknown department 'D9' (2 row(s), first at line 2)"), "{e}");
}

#[test]
fn ingest_rejects_malformed_period() {
    let (dir, store) = store_with_departments();
    let e = rejected(
        dir.path(),
        &store,
        "o.csv",
        &format!("{HEAD}D1;2024Q5;move_out_rate;4;380;\n"),
    );
    assert!(e.contains("o.csv, line 2, column 'period': expected a period like 2025 or 2025Q3, found \"2024Q5\""), "{e}");
}

#[test]
fn ingest_rejects_negative_counts() {
    let (dir, store) = store_with_departments();
    let e = rejected(
        dir.path(),
        &store,
        "o.csv",
        &format!("{HEAD}D1;2024;move_out_rate;-4;380;\nD1;2024;residents;;;-3\n"),
    );
    assert!(
        e.contains("o.csv, line 2, column 'numerator': expected a numerator >= 0, found -4"),
        "{e}"
    );
    assert!(
        e.contains("o.csv, line 3, column 'value': expected a value >= 0, found -3"),
        "{e}"
    );
}

#[test]
fn ingest_rejects_numerator_above_denominator_for_a_share() {
    let (dir, store) = store_with_departments();
    // A rate per 1,000 (complaints) may exceed its denominator; a share may not.
    let e = rejected(
        dir.path(),
        &store,
        "o.csv",
        &format!("{HEAD}D1;2024Q1;complaints;400;380;\nD1;2024;move_out_rate;381;380;\n"),
    );
    assert!(
        e.contains("o.csv, line 3, column 'numerator': numerator 381 exceeds denominator 380"),
        "{e}"
    );
    assert!(
        !e.contains("line 2"),
        "complaints may exceed households: {e}"
    );
}

#[test]
fn ingest_rejects_duplicate_observations_in_one_file() {
    let (dir, store) = store_with_departments();
    let e = rejected(
        dir.path(),
        &store,
        "o.csv",
        &format!("{HEAD}D1;2024;move_out_rate;4;380;\nD2;2024;move_out_rate;4;380;\nD1;2024;move_out_rate;5;380;\n"),
    );
    assert!(
        e.contains("o.csv, line 4, column 'indicator': duplicate observation for department 'D1', period 2024, indicator 'move_out_rate' (first at line 2)"),
        "{e}"
    );
}

#[test]
fn ingest_rejects_missing_required_column() {
    let (dir, store) = store_with_departments();
    let e = rejected(
        dir.path(),
        &store,
        "o.csv",
        "department_id;indicator;numerator;denominator\nD1;move_out_rate;4;380\n",
    );
    assert!(
        e.contains("o.csv, line 1: missing required column(s) 'period'"),
        "{e}"
    );
}

#[test]
fn ingest_rejects_wrong_type_naming_what_was_expected() {
    let (dir, store) = store_with_departments();
    let e = rejected(
        dir.path(),
        &store,
        "o.csv",
        &format!("{HEAD}D1;2024;move_out_rate;4;tre hundrede;\n"),
    );
    assert!(
        e.contains("o.csv, line 2, column 'denominator': expected a denominator (number with decimal comma), found \"tre hundrede\""),
        "{e}"
    );
}

#[test]
fn ingest_lists_all_errors_of_a_file_up_to_a_cap() {
    let (dir, store) = store_with_departments();
    let mut body = String::from(HEAD);
    for i in 0..150 {
        body.push_str(&format!("D1;{};move_out_rate;x;380;\n", 1951 + i));
    }
    let e = rejected(dir.path(), &store, "o.csv", &body);
    assert!(e.contains("150 problem(s)"), "{e}");
    assert!(e.contains("o.csv, line 2, column 'numerator'"), "{e}");
    assert!(e.contains("o.csv, line 101, column 'numerator'"), "{e}");
    assert!(!e.contains("o.csv, line 102,"), "cap is 100 listed: {e}");
    assert!(e.contains("and 50 more problem(s) not listed"), "{e}");
}

#[test]
fn ingest_rejects_bad_departments_naming_each_cell() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let d = write(
        dir.path(),
        "d.csv",
        "department_id;name;organisation;municipality_code;area_id;housing_type;tenancies;construction_year\n\
         D1;A;Org;7510;;family;10;1970\n\
         D2;B;Org;751;;villa;10,5;1970\n\
         D1;C;Org;751;;youth;10;1970\n",
    );
    let out = ingest(&store, &[&d]);
    assert!(!out.status.success());
    let e = stderr(&out);
    assert!(
        e.contains(
            "d.csv, line 2, column 'municipality_code': expected a 3-digit municipality code"
        ),
        "{e}"
    );
    assert!(e.contains("d.csv, line 3, column 'housing_type': expected a housing type (family, elderly or youth), found \"villa\""), "{e}");
    assert!(
        e.contains("d.csv, line 3, column 'tenancies': expected a whole number of tenancies"),
        "{e}"
    );
    assert!(
        e.contains("d.csv, line 4, column 'department_id': duplicate department id 'D1'"),
        "{e}"
    );
    assert!(
        !store.join("manifest.json").exists(),
        "a failed first ingest creates no snapshot"
    );
}

#[test]
fn ingest_names_sheet_and_cell_in_workbooks() {
    use rust_xlsxwriter::Workbook;
    let (dir, store) = store_with_departments();
    let mut wb = Workbook::new();
    let s = wb.add_worksheet().set_name("Nøgletal").unwrap();
    for (c, h) in [
        "department_id",
        "period",
        "indicator",
        "numerator",
        "denominator",
    ]
    .iter()
    .enumerate()
    {
        s.write_string(0, c as u16, *h).unwrap();
    }
    s.write_string(1, 0, "D1").unwrap();
    s.write_string(1, 1, "2024").unwrap();
    s.write_string(1, 2, "move_out_rate").unwrap();
    s.write_number(1, 3, 4.0).unwrap();
    s.write_string(1, 4, "mange").unwrap();
    let p = dir.path().join("o.xlsx");
    wb.save(&p).unwrap();
    let out = ingest(&store, &[&p]);
    assert!(!out.status.success());
    let e = stderr(&out);
    assert!(
        e.contains(
            "o.xlsx, sheet 'Nøgletal' cell E2, column 'denominator': expected a denominator"
        ),
        "{e}"
    );
}

#[test]
fn ingest_names_row_and_column_in_parquet_files() {
    use polars::prelude::*;
    let (dir, store) = store_with_departments();
    let mut df = df!(
        "department_id" => ["D1", "D2"],
        "period" => ["2024", "2024"],
        "indicator" => ["move_out_rate", "move_out_rate"],
        "numerator" => [4.0, -1.0],
        "denominator" => [380.0, 1250.0],
    )
    .unwrap();
    let p = dir.path().join("o.parquet");
    ParquetWriter::new(std::fs::File::create(&p).unwrap())
        .finish(&mut df)
        .unwrap();
    let out = ingest(&store, &[&p]);
    assert!(!out.status.success());
    let e = stderr(&out);
    assert!(
        e.contains("o.parquet, row 2, column 'numerator': expected a numerator >= 0, found -1"),
        "{e}"
    );
}

#[test]
fn a_bad_file_rejects_the_whole_ingest_command() {
    let (dir, store) = store_with_departments();
    let good = write(
        dir.path(),
        "good.csv",
        &format!("{HEAD}D1;2024;move_out_rate;4;380;\n"),
    );
    let bad = write(
        dir.path(),
        "bad.csv",
        &format!("{HEAD}D1;2024;move_out_rate;4;nul;\n"),
    );
    let out = ingest(&store, &[&good, &bad]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("bad.csv, line 2"));
    assert_eq!(
        query_csv(&store, "SELECT count(*) AS n FROM observations"),
        "n\n0\n"
    );
}

#[test]
fn unrecognised_header_and_unknown_file_type_are_explained() {
    let (dir, store) = store_with_departments();
    let f = write(dir.path(), "x.csv", "foo;bar\n1;2\n");
    let e = stderr(&ingest(&store, &[&f]));
    assert!(
        e.contains("x.csv, line 1: cannot tell which table this is"),
        "{e}"
    );
    let f = write(dir.path(), "x.json", "{}");
    let e = stderr(&ingest(&store, &[&f]));
    assert!(e.contains("x.json: unknown file type"), "{e}");
}
