//! Import profiles end to end (issue 17): the real published lists
//! 2010-2017 through the shipped `ghettolister` profile; the three layouts
//! housing staff receive (LBF Beboerdata, the ministry's area table, a
//! BoSocData extract) to the same stored values as canonical files;
//! suppressed cells; profile errors; the dry run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::common::*;

fn real_lists() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/real/ghettolister-2010-2017.csv");
    if p.is_file() {
        Some(p)
    } else {
        eprintln!(
            "SKIPPED: {} is absent (CI has ../shared beside the checkout)",
            p.display()
        );
        None
    }
}

fn ingest_profile(
    store: &Path,
    profile: &str,
    files: &[&Path],
    extra: &[&str],
) -> std::process::Output {
    let mut c = bomon();
    c.args(["ingest", "--profile", profile])
        .args(extra)
        .arg("--store")
        .arg(store);
    for f in files {
        c.arg(f);
    }
    c.output().unwrap()
}

fn csv_rows(path: &Path) -> Vec<BTreeMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let head: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
    r.records()
        .map(|x| {
            let x = x.unwrap();
            head.iter()
                .cloned()
                .zip(x.iter().map(str::to_string))
                .collect()
        })
        .collect()
}

fn nfc(s: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    s.nfc().collect()
}

/// The real lists 2010-2017 as published (`../shared/real`), with the
/// command a user would type: `bomon ingest --profile ghettolister FILE`,
/// then `bomon categorize --period YEAR` under the rule set in force. The
/// published decision is reproduced for 264 of 265 rows; the one difference
/// is Ringparken, Slagelse 2012, whose transcribed figures are garbled
/// (shared/real/README.md: it meets 1 of 3 criteria yet is on the list).
#[test]
fn the_real_lists_2010_2017_are_decided_as_published_but_ringparken_2012() {
    let Some(file) = real_lists() else { return };
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let o = ingest_profile(&store, "ghettolister", &[&file], &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("not mapped by the profile (not stored): area, on_ghetto_list, new_on_list, residents_as_stored"),
        "{}",
        stderr(&o)
    );
    let published = csv_rows(&file);
    assert_eq!(published.len(), 265);
    let mut decided = BTreeMap::new();
    for y in 2010..=2017 {
        let out = dir.path().join(format!("lists-{y}"));
        let o = bomon()
            .args(["categorize", "--period", &y.to_string(), "--store"])
            .arg(&store)
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        let want = if y < 2014 {
            "national-2010"
        } else {
            "national-2014"
        };
        assert!(stderr(&o).contains(want), "{y}: {}", stderr(&o));
        for r in csv_rows(&out.join("areas.csv")) {
            decided.insert((y.to_string(), r["area_id"].clone()), r["udsat"] == "true");
        }
        // The output says which figures it used.
        for r in csv_rows(&out.join("criteria.csv")) {
            assert_eq!(r["source"], "published area figure");
        }
    }
    let mut same = 0;
    let mut differ = Vec::new();
    for r in &published {
        let key = (r["list_year"].clone(), nfc(&r["area_spelling_fixed"]));
        let got = *decided
            .get(&key)
            .unwrap_or_else(|| panic!("{key:?} not categorised"));
        if got == (r["on_ghetto_list"] == "True") {
            same += 1;
        } else {
            differ.push(key);
        }
    }
    assert_eq!(
        differ,
        vec![("2012".to_string(), "Ringparken, Slagelse".to_string())],
        "decided otherwise than published"
    );
    assert_eq!(same, 264);
}

/// (department, period, indicator) -> (numerator, denominator, value, suppressed).
type Stored = BTreeMap<(String, String, String), (String, String, String, String)>;

fn stored(store: &Path, table: &str, id: &str) -> Stored {
    let q = query_csv(
        store,
        &format!("SELECT {id}, period, indicator, numerator, denominator, value, suppressed FROM {table} ORDER BY {id}, period, indicator"),
    );
    let mut m = BTreeMap::new();
    let mut r = csv::Reader::from_reader(q.as_bytes());
    for rec in r.records() {
        let x = rec.unwrap();
        m.insert(
            (x[0].to_string(), x[1].to_string(), x[2].to_string()),
            (
                x[3].to_string(),
                x[4].to_string(),
                x[5].to_string(),
                x[6].to_string(),
            ),
        );
    }
    m
}

fn close(a: &str, b: &str) -> bool {
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => (x - y).abs() <= 1e-9 * x.abs().max(1.0),
        _ => a == b,
    }
}

/// Profile and canonical stores hold the same figures; suppressed cells
/// (present only through the profile) are listed.
fn assert_same(profile: &Stored, canonical: &Stored) -> Vec<(String, String, String)> {
    let mut suppressed = Vec::new();
    for (k, p) in profile {
        if p.3 == "true" {
            assert_eq!(
                (p.0.as_str(), p.1.as_str(), p.2.as_str()),
                ("", "", ""),
                "{k:?}"
            );
            suppressed.push(k.clone());
            continue;
        }
        let c = canonical
            .get(k)
            .unwrap_or_else(|| panic!("{k:?} only through the profile"));
        assert!(
            close(&p.0, &c.0) && close(&p.1, &c.1) && close(&p.2, &c.2),
            "{k:?}: {p:?} vs {c:?}"
        );
    }
    assert_eq!(profile.len() - suppressed.len(), canonical.len(), "rows");
    suppressed
}

const DEPS: &str = "department_id,name,organisation,municipality_code,area_id,housing_type,tenancies,construction_year\n\
0001-001,Skovparken,Boligforeningen Øst,751,751-A1,family,420,1968\n\
0001-002,Engparken,Boligforeningen Øst,751,751-A1,family,1210,1972\n";

fn store_with_departments(dir: &Path, name: &str) -> PathBuf {
    let store = dir.join(name);
    let d = write(dir, "departments.csv", DEPS);
    let o = ingest(&store, &[&d]);
    assert!(o.status.success(), "{}", stderr(&o));
    store
}

/// LBF Beboerdata: an XLSX with title lines, the department id in B2, the
/// years across from row 5, category rows with counts and percentages
/// ("43,5 %" as text, numbers as cells), and a "diskr." cell.
fn lbf_workbook(path: &Path) {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("Tabel 4").unwrap();
    ws.write_string(
        0,
        0,
        "Beboerdata - Landsbyggefonden. Tabel 4: Beskæftigelse og flytninger",
    )
    .unwrap();
    ws.write_string(1, 0, "Afdeling").unwrap();
    ws.write_string(1, 1, "0001-001").unwrap();
    ws.write_string(2, 0, "Skovparken, Boligforeningen Øst")
        .unwrap();
    ws.write_string(4, 0, "").unwrap();
    for (k, y) in (2021..=2024).enumerate() {
        ws.write_number(4, 1 + k as u16, f64::from(y)).unwrap();
    }
    let rows: [(&str, [&str; 4]); 7] = [
        ("Beboere i alt", ["1.020", "1.034", "1.011", "998"]),
        ("Husstande", ["401", "405", "402", "399"]),
        ("Beboere 18-64 år", ["1.480", "612", "598", "590"]),
        (
            "Beboere 18-64 år uden for arbejdsmarkedet (pct.)",
            ["43,5 %", "41,2 %", "diskr.", "39,8 %"],
        ),
        ("Lejemål", ["420", "420", "420", "420"]),
        (
            "Fraflytninger (pct. af lejemål)",
            ["12,4", "11,9", "13,1", "10,0"],
        ),
        ("Børn 0-17 år", ["310", "300", "295", "290"]),
    ];
    for (r, (label, vals)) in rows.iter().enumerate() {
        let row = 5 + r as u32;
        ws.write_string(row, 0, *label).unwrap();
        for (k, v) in vals.iter().enumerate() {
            // Plain counts as number cells, the rest as text, as in the exports.
            match v.replace('.', "").parse::<f64>() {
                Ok(n) if !v.contains(',') && !v.contains('%') => {
                    ws.write_number(row, 1 + k as u16, n).unwrap()
                }
                _ => ws.write_string(row, 1 + k as u16, *v).unwrap(),
            };
        }
    }
    wb.save(path).unwrap();
}

#[test]
fn lbf_beboerdata_layout_stores_what_the_canonical_file_stores() {
    let dir = tempfile::tempdir().unwrap();
    let x = dir.path().join("beboerdata-0001-001.xlsx");
    lbf_workbook(&x);
    let sp = store_with_departments(dir.path(), "p");
    let o = ingest_profile(&sp, "lbf-beboerdata", &[&x], &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("not mapped by the profile (not stored): row \"Børn 0-17 år\""),
        "{}",
        stderr(&o)
    );
    assert!(
        stderr(&o).contains("1 cell(s) suppressed at the source"),
        "{}",
        stderr(&o)
    );
    // The same figures, canonical: numerators = percent / 100 x base, unrounded.
    let mut canon = String::from("department_id,period,indicator,numerator,denominator,value\n");
    let (res, hh, base, pct) = (
        [1020, 1034, 1011, 998],
        [401, 405, 402, 399],
        [1480.0, 612.0, 598.0, 590.0],
        [Some(43.5), Some(41.2), None, Some(39.8)],
    );
    let moves = [12.4, 11.9, 13.1, 10.0];
    for k in 0..4 {
        let y = 2021 + k;
        canon.push_str(&format!("0001-001,{y},residents,,,{}\n", res[k]));
        canon.push_str(&format!("0001-001,{y},households,,,{}\n", hh[k]));
        if let Some(p) = pct[k] {
            canon.push_str(&format!(
                "0001-001,{y},outside_labour_18_64,{},{},\n",
                p / 100.0 * base[k],
                base[k]
            ));
        }
        canon.push_str(&format!(
            "0001-001,{y},move_out_rate,{},420,\n",
            moves[k] / 100.0 * 420.0
        ));
    }
    let sc = store_with_departments(dir.path(), "c");
    let c = write(dir.path(), "canonical.csv", &canon);
    let o = ingest(&sc, &[&c]);
    assert!(o.status.success(), "{}", stderr(&o));
    let p = stored(&sp, "observations", "department_id");
    let suppressed = assert_same(&p, &stored(&sc, "observations", "department_id"));
    assert_eq!(
        suppressed,
        vec![(
            "0001-001".into(),
            "2023".into(),
            "outside_labour_18_64".into()
        )]
    );
    // 43.5 % of 1,480 is 643.8, kept with its precision.
    let n = query_csv(&sp, "SELECT numerator FROM observations WHERE period = '2021' AND indicator = 'outside_labour_18_64'");
    assert!(n.starts_with("numerator\n643.8"), "{n}");
}

/// The ministry's area table: sheet "Kriterier", title lines, header in row
/// 3, one area per row, percentages with one decimal, income in percent of
/// the region, municipality by name with and without "Kommune".
#[test]
fn ministry_area_table_is_stored_as_published_area_figures() {
    let dir = tempfile::tempdir().unwrap();
    let x = dir.path().join("omraadeliste-2017.xlsx");
    let mut wb = rust_xlsxwriter::Workbook::new();
    let notes = wb.add_worksheet();
    notes.set_name("Noter").unwrap();
    notes
        .write_string(0, 0, "Kilde: Transport-, Bygnings- og Boligministeriet")
        .unwrap();
    let ws = wb.add_worksheet();
    ws.set_name("Kriterier").unwrap();
    ws.write_string(0, 0, "Liste over udsatte boligområder pr. 1. december 2017")
        .unwrap();
    let head = [
        "Boligområde",
        "Kommune",
        "Antal beboere",
        "Andel 18-64-årige uden for arbejdsmarked eller uddannelse (pct.)",
        "Andel indvandrere og efterkommere fra ikke-vestlige lande (pct.)",
        "Andel dømte (pct.)",
        "Andel 30-59-årige med alene grundskole (pct.)",
        "Gennemsnitlig bruttoindkomst (pct. af regionen)",
    ];
    for (c, h) in head.iter().enumerate() {
        ws.write_string(2, c as u16, *h).unwrap();
    }
    let rows: [[&str; 8]; 3] = [
        [
            "Gellerupparken/Toveshøj",
            "Aarhus Kommune",
            "6.548",
            "54,2",
            "83,1",
            "3,12",
            "68,0",
            "46,1",
        ],
        [
            "Tåstrupgård",
            "Høje-Taastrup",
            "2.178",
            "43,9",
            "74,2",
            "2,70",
            "59,9",
            "51,0",
        ],
        [
            "Sundholmsvej-kvarteret",
            "København",
            "1.030",
            "38,0",
            "47,5",
            "x",
            "51,4",
            "57,3",
        ],
    ];
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            ws.write_string(3 + r as u32, c as u16, *v).unwrap();
        }
    }
    ws.write_string(7, 0, "Note: x = diskretioneret").unwrap();
    wb.save(&x).unwrap();
    let store = dir.path().join("s");
    let o = ingest_profile(&store, "ministeriet-omraadeliste", &[&x], &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let p = stored(&store, "area_observations", "area_id");
    let get = |a: &str, i: &str| p[&(a.to_string(), "2017".to_string(), i.to_string())].clone();
    let v = |s: &str| {
        (
            String::new(),
            String::new(),
            s.to_string(),
            "false".to_string(),
        )
    };
    // The same figures in canonical form: fractions, counts as values.
    assert_eq!(get("Tåstrupgård", "residents"), v("2178"));
    assert!(close(&get("Tåstrupgård", "income_ratio_15_64").2, "0.51"));
    assert!(close(
        &get("Tåstrupgård", "outside_labour_18_64").2,
        "0.439"
    ));
    assert!(close(
        &get("Gellerupparken/Toveshøj", "convicted_18plus").2,
        "0.0312"
    ));
    assert_eq!(
        get("Sundholmsvej-kvarteret", "convicted_18plus"),
        (
            String::new(),
            String::new(),
            String::new(),
            "true".to_string()
        )
    );
    assert_eq!(p.len(), 18);
    // Without `sheet` and `header_row` the header is found below the title
    // lines of the first sheet that has it... here the first non-empty sheet
    // is "Noter", so name the sheet but let the header row be detected.
    let shipped = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("datasets/profiles/ministeriet-omraadeliste.toml"),
    )
    .unwrap();
    let detect = write(
        dir.path(),
        "detect.toml",
        &shipped.replace("header_row = 3\n", ""),
    );
    let s2 = dir.path().join("s2");
    let o = ingest_profile(&s2, detect.to_str().unwrap(), &[&x], &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stored(&s2, "area_observations", "area_id"), p);
    let m = query_csv(
        &store,
        "SELECT DISTINCT area_id, municipality_code FROM area_observations ORDER BY area_id",
    );
    assert_eq!(m, "area_id,municipality_code\nGellerupparken/Toveshøj,751\nSundholmsvej-kvarteret,101\nTåstrupgård,169\n");
    // Categorised though no departments file names these areas; a suppressed
    // criterion is missing data, not met.
    let out = dir.path().join("lists");
    let o = bomon()
        .args(["categorize", "--period", "2017", "--store"])
        .arg(&store)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let areas: BTreeMap<String, String> = csv_rows(&out.join("areas.csv"))
        .into_iter()
        .map(|r| (r["area_id"].clone(), r["udsat_criteria_met"].clone()))
        .collect();
    assert_eq!(areas["Gellerupparken/Toveshøj"], "5/5");
    // Tåstrupgård: 43.9 > 40, 74.2 > 50, 2.70 is not > 2.7, 59.9 > 50, 51.0 < 55.
    assert_eq!(areas["Tåstrupgård"], "4/5");
    assert_eq!(areas["Sundholmsvej-kvarteret"], "1/5");
}

/// A BoSocData extract: Windows-1252 CSV with ';', decimal comma, thousands
/// points, "43,5 %" in cells, Danish column names, "<5" where suppressed.
#[test]
fn bosocdata_extract_stores_what_the_canonical_file_stores() {
    let dir = tempfile::tempdir().unwrap();
    let text = "Afdelingsnr.;Afdeling;År;Antal beboere;Beboere 18-64 år;Beboere uden for arbejdsmarkedet;Indkomst i pct. af regionen;Lejemål;Fraflyttede lejemål;Kommentar\r\n\
0001-001;Skovparken;2024;1.020;612;43,5 %;51,0;420;<5;\r\n\
0001-002;Engparken;2024;2.904;1.480;38,1 %;62,4;1.210;131;ny opgørelse\r\n\
 0001-001 ;Skovparken;2023;1.034;598;41,2 %;52,3;420;48;\r\n";
    let (enc, _, _) = encoding_rs::WINDOWS_1252.encode(text);
    let f = dir.path().join("bosocdata.csv");
    std::fs::write(&f, &enc).unwrap();
    let sp = store_with_departments(dir.path(), "p");
    let o = ingest_profile(&sp, "bosocdata", &[&f], &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("not mapped by the profile (not stored): Kommentar"),
        "{}",
        stderr(&o)
    );
    let canon = "department_id,period,indicator,numerator,denominator,value\n\
0001-001,2024,residents,,,1020\n0001-001,2024,outside_labour_18_64,266.22,612,\n0001-001,2024,income_ratio_15_64,,,0.51\n\
0001-002,2024,residents,,,2904\n0001-002,2024,outside_labour_18_64,563.88,1480,\n0001-002,2024,income_ratio_15_64,,,0.624\n0001-002,2024,move_out_rate,131,1210,\n\
0001-001,2023,residents,,,1034\n0001-001,2023,outside_labour_18_64,246.376,598,\n0001-001,2023,income_ratio_15_64,,,0.523\n0001-001,2023,move_out_rate,48,420,\n";
    let sc = store_with_departments(dir.path(), "c");
    let c = write(dir.path(), "canonical.csv", canon);
    let o = ingest(&sc, &[&c]);
    assert!(o.status.success(), "{}", stderr(&o));
    let suppressed = assert_same(
        &stored(&sp, "observations", "department_id"),
        &stored(&sc, "observations", "department_id"),
    );
    assert_eq!(
        suppressed,
        vec![("0001-001".into(), "2024".into(), "move_out_rate".into())]
    );
    // The income ratio has no denominator: the review says it is not tested.
    let out = dir.path().join("r");
    let o = bomon()
        .args([
            "review",
            "--annual",
            "2024",
            "--no-report",
            "--no-record",
            "--store",
        ])
        .arg(&sp)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("income_ratio_15_64: no denominator: not tested (2 department(s)"),
        "{}",
        stderr(&o)
    );
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(
        m["not_tested_no_denominator"],
        serde_json::json!([{"indicator": "income_ratio_15_64", "departments": 2}])
    );
}

/// Suppressed at the source: stored, visible in query, never tested by the
/// review, never an error.
#[test]
fn suppressed_cells_are_stored_visible_and_never_tested() {
    let dir = tempfile::tempdir().unwrap();
    let x = dir.path().join("b.xlsx");
    lbf_workbook(&x);
    let store = store_with_departments(dir.path(), "s");
    let o = ingest_profile(&store, "lbf-beboerdata", &[&x], &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let q = query_csv(&store, "SELECT period, indicator, numerator, suppressed FROM observations WHERE suppressed ORDER BY period");
    assert_eq!(
        q,
        "period,indicator,numerator,suppressed\n2023,outside_labour_18_64,,true\n"
    );
    let o = bomon()
        .args(["show", "--department", "0001-001", "--store"])
        .arg(&store)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .contains("undertrykt ved kilden (intet tal, ikke testet): outside_labour_18_64 2023"),
        "{}",
        stdout(&o)
    );
    let out = dir.path().join("r");
    let o = bomon()
        .args(["review", "--annual", "2024", "--no-report", "--store"])
        .arg(&store)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    use polars::prelude::SerReader;
    let tests = polars::prelude::ParquetReader::new(
        std::fs::File::open(out.join("tests.parquet")).unwrap(),
    )
    .finish()
    .unwrap();
    let col = |n: &str| -> Vec<String> {
        tests
            .column(n)
            .unwrap()
            .str()
            .unwrap()
            .into_iter()
            .map(|v| v.unwrap_or("").to_string())
            .collect()
    };
    let (d, i, t, r) = (
        col("department_id"),
        col("indicator"),
        col("test"),
        col("rule"),
    );
    let count = |ind: &str| {
        (0..d.len())
            .filter(|&k| {
                d[k] == "0001-001"
                    && i[k] == ind
                    && t[k] == "development"
                    && r[k].contains("last_year")
            })
            .count()
    };
    // 2024 against 2023 cannot be tested where 2023 was suppressed; it is
    // where the figure was given.
    assert_eq!(
        count("outside_labour_18_64"),
        0,
        "a test on a suppressed figure"
    );
    assert!(count("move_out_rate") > 0, "rules: {r:?}");
}

/// Profile mistakes are errors naming the profile, the key and what was
/// found; nothing is stored (the store is not even created).
#[test]
fn profile_errors_name_profile_key_and_what_was_found() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s");
    let f = write(dir.path(), "t.csv", "Område;År;Andel (pct.)\nA;2024;12,5\n");
    let cases = [
        (
            "[source]\nid_column = \"Område\"\nperiod_column = \"År\"\nbogus = 1\n[[column]]\nheader = \"Andel (pct.)\"\nindicator = \"vacancy\"\n",
            vec!["unknown field `bogus`", "bad.toml"],
        ),
        (
            "[source]\nid_column = \"Område\"\nperiod_column = \"År\"\n[[column]]\nheader = \"Andel i pct\"\nindicator = \"vacancy\"\n",
            vec!["bad.toml", "key `column[1].header`", "\"Andel i pct\" not found", "the headers found: Område, År, Andel (pct.)"],
        ),
        (
            "[source]\nsheet = \"Data\"\nid_column = \"Område\"\nperiod_column = \"År\"\n[[column]]\nheader = \"Andel (pct.)\"\nindicator = \"vacancy\"\n",
            vec!["bad.toml", "key `source.sheet`", "CSV file, which has no sheets"],
        ),
        (
            "[source]\nid_column = \"Område\"\nperiod_column = \"År\"\n[[column]]\nheader = \"Andel (pct.)\"\nindicator = \"vacancy\"\nunit = \"pct\"\n",
            vec!["key `column[1].unit`", "expected percent, share, count, per_1000 or value"],
        ),
    ];
    for (text, wants) in cases {
        let p = write(dir.path(), "bad.toml", text);
        let o = ingest_profile(&store, p.to_str().unwrap(), &[&f], &[]);
        assert!(!o.status.success(), "accepted: {text}");
        for w in wants {
            assert!(stderr(&o).contains(w), "{w}: {}", stderr(&o));
        }
        assert!(!store.exists(), "a store was created");
    }
    // A sheet that is not in the workbook.
    let x = dir.path().join("b.xlsx");
    lbf_workbook(&x);
    let p = write(dir.path(), "sheet.toml", "[source]\nsheet = \"Tabel 9\"\nid_cell = \"B2\"\nperiods_across = true\n[[row]]\nlabel = \"Beboere i alt\"\nindicator = \"residents\"\nunit = \"count\"\n");
    let o = ingest_profile(&store, p.to_str().unwrap(), &[&x], &[]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("sheet \"Tabel 9\" not found")
            && stderr(&o).contains("its sheets: Tabel 4"),
        "{}",
        stderr(&o)
    );
    let o = ingest_profile(&store, "no-such-profile", &[&x], &[]);
    assert!(
        stderr(&o).contains("shipped: ghettolister"),
        "{}",
        stderr(&o)
    );
    assert!(!store.exists());
    // A cell that is neither a number nor a suppression mark.
    let bad = write(dir.path(), "bad.csv", "Afdelingsnr.;Afdeling;År;Antal beboere;Beboere 18-64 år;Beboere uden for arbejdsmarkedet;Indkomst i pct. af regionen;Lejemål;Fraflyttede lejemål\n0001-001;S;2024;1.020;612;fyrre;51,0;420;4\n");
    let sp = store_with_departments(dir.path(), "d");
    let before = query_csv(&sp, "SELECT count(*) AS n FROM snapshots");
    let o = ingest_profile(&sp, "bosocdata", &[&bad], &[]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("line 2, column 'Beboere uden for arbejdsmarkedet': expected a number"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        query_csv(&sp, "SELECT count(*) AS n FROM snapshots"),
        before
    );
}

/// `--dry-run` shows what the profile would store and stores nothing.
#[test]
fn dry_run_shows_rows_counts_suppressed_and_unmapped_and_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let x = dir.path().join("b.xlsx");
    lbf_workbook(&x);
    let store = store_with_departments(dir.path(), "s");
    let before = query_csv(&store, "SELECT count(*) AS n FROM snapshots");
    let o = ingest_profile(&store, "lbf-beboerdata", &[&x], &["--dry-run"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("observations (16 rows), first rows:"), "{out}");
    assert!(
        out.contains("outside_labour_18_64") && out.contains("2023"),
        "{out}"
    );
    assert!(out.contains("suppressed at the source: 1 cell(s)"), "{out}");
    assert!(out.contains("not mapped: row \"Børn 0-17 år\""), "{out}");
    assert!(
        stderr(&o).contains("dry run: nothing stored"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        query_csv(&store, "SELECT count(*) AS n FROM snapshots"),
        before
    );
    // On a store that does not exist: nothing is created.
    let none = dir.path().join("none");
    let o = ingest_profile(&none, "lbf-beboerdata", &[&x], &["--dry-run"]);
    assert!(!none.exists());
    let _ = o;
}
