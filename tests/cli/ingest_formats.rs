//! The same data from every format and dialect reads back identically.

use std::path::{Path, PathBuf};

use polars::prelude::*;

use super::common::*;

/// Danish Excel: `;`, decimal comma, thousands points, Windows-1252.
fn danish_csv(dir: &Path) -> (PathBuf, PathBuf) {
    let mut d = String::from(
        "afdeling;navn;organisation;kommunekode;boligområde;boligtype;lejemål;opførelsesår\n",
    );
    for (id, name, area, ty, ten, year) in DEPARTMENTS {
        let ten = if ten >= 1000 {
            format!("{}.{:03}", ten / 1000, ten % 1000)
        } else {
            ten.to_string()
        };
        d.push_str(&format!(
            "{id};{name};Boligforeningen Øst;751;{area};{ty};{ten};{year}\n"
        ));
    }
    let (enc, _, _) = encoding_rs::WINDOWS_1252.encode(&d);
    let dp = dir.join("afdelinger.csv");
    std::fs::write(&dp, &enc).unwrap();

    let fmt = |v: Option<f64>| -> String {
        match v {
            None => String::new(),
            Some(v) => {
                let int = v.trunc() as i64;
                let frac = v - v.trunc();
                let mut s = int.to_string();
                if int >= 1000 {
                    let t = int.to_string();
                    let n = t.len();
                    s = t
                        .chars()
                        .enumerate()
                        .flat_map(|(i, c)| {
                            if i > 0 && (n - i).is_multiple_of(3) {
                                vec!['.', c]
                            } else {
                                vec![c]
                            }
                        })
                        .collect();
                }
                if frac != 0.0 {
                    s.push_str(&format!(",{}", ((frac * 10.0).round() as i64)));
                }
                s
            }
        }
    };
    let mut o = String::from("department_id;period;indicator;numerator;denominator;value\r\n");
    for (id, p, ind, n, den, v) in OBSERVATIONS {
        o.push_str(&format!(
            "{id};{p};{ind};{};{};{}\r\n",
            fmt(n),
            fmt(den),
            fmt(v)
        ));
    }
    o.push_str(";;;;;\r\n"); // Excel's trailing blank row
    let (enc, _, _) = encoding_rs::WINDOWS_1252.encode(&o);
    let op = dir.join("observationer.csv");
    std::fs::write(&op, &enc).unwrap();
    (dp, op)
}

/// English CSV: `,`, decimal point, UTF-8 with a byte-order mark, quoted thousands.
fn english_csv(dir: &Path) -> (PathBuf, PathBuf) {
    let mut d = String::from("\u{feff}department_id,name,organisation,municipality_code,area_id,housing_type,tenancies,construction_year\n");
    for (id, name, area, ty, ten, year) in DEPARTMENTS {
        let ten = if ten >= 1000 {
            format!("\"{},{:03}\"", ten / 1000, ten % 1000)
        } else {
            ten.to_string()
        };
        d.push_str(&format!(
            "{id},\"{name}\",Boligforeningen Øst,751,{area},{ty},{ten},{year}\n"
        ));
    }
    let dp = write(dir, "departments.csv", &d);
    let f = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
    let mut o = String::from("department_id,period,indicator,numerator,denominator,value\n");
    for (id, p, ind, n, den, v) in OBSERVATIONS {
        o.push_str(&format!("{id},{p},{ind},{},{},{}\n", f(n), f(den), f(v)));
    }
    let op = write(dir, "observations.csv", &o);
    (dp, op)
}

/// One workbook with a departments sheet and an observations sheet.
fn workbook(dir: &Path) -> PathBuf {
    use rust_xlsxwriter::Workbook;
    let mut wb = Workbook::new();
    let s = wb.add_worksheet().set_name("Afdelinger").unwrap();
    for (c, h) in [
        "department_id",
        "name",
        "organisation",
        "municipality_code",
        "area_id",
        "housing_type",
        "tenancies",
        "construction_year",
    ]
    .iter()
    .enumerate()
    {
        s.write_string(0, c as u16, *h).unwrap();
    }
    for (r, (id, name, area, ty, ten, year)) in DEPARTMENTS.iter().enumerate() {
        let r = r as u32 + 1;
        s.write_string(r, 0, *id).unwrap();
        s.write_string(r, 1, *name).unwrap();
        s.write_string(r, 2, "Boligforeningen Øst").unwrap();
        s.write_number(r, 3, 751.0).unwrap(); // Excel keeps codes as numbers
        if !area.is_empty() {
            s.write_string(r, 4, *area).unwrap();
        }
        s.write_string(r, 5, *ty).unwrap();
        s.write_number(r, 6, *ten as f64).unwrap();
        s.write_number(r, 7, f64::from(*year)).unwrap();
    }
    let s = wb.add_worksheet().set_name("Data").unwrap();
    for (c, h) in [
        "department_id",
        "period",
        "indicator",
        "numerator",
        "denominator",
        "value",
    ]
    .iter()
    .enumerate()
    {
        s.write_string(0, c as u16, *h).unwrap();
    }
    for (r, (id, p, ind, n, den, v)) in OBSERVATIONS.iter().enumerate() {
        let r = r as u32 + 1;
        s.write_string(r, 0, *id).unwrap();
        if p.len() == 4 {
            s.write_number(r, 1, p.parse::<f64>().unwrap()).unwrap(); // a year typed as a number
        } else {
            s.write_string(r, 1, *p).unwrap();
        }
        s.write_string(r, 2, *ind).unwrap();
        for (c, x) in [(3u16, n), (4, den), (5, v)] {
            if let Some(x) = x {
                s.write_number(r, c, *x).unwrap();
            }
        }
    }
    wb.add_worksheet().set_name("Tom").unwrap(); // an empty sheet is skipped
    let p = dir.join("data.xlsx");
    wb.save(&p).unwrap();
    p
}

fn parquet(dir: &Path) -> (PathBuf, PathBuf) {
    let mut d = df!(
        "department_id" => DEPARTMENTS.iter().map(|d| d.0).collect::<Vec<_>>(),
        "name" => DEPARTMENTS.iter().map(|d| d.1).collect::<Vec<_>>(),
        "organisation" => DEPARTMENTS.iter().map(|_| "Boligforeningen Øst").collect::<Vec<_>>(),
        "municipality_code" => DEPARTMENTS.iter().map(|_| 751i64).collect::<Vec<_>>(),
        "area_id" => DEPARTMENTS.iter().map(|d| (!d.2.is_empty()).then_some(d.2)).collect::<Vec<_>>(),
        "housing_type" => DEPARTMENTS.iter().map(|d| d.3).collect::<Vec<_>>(),
        "tenancies" => DEPARTMENTS.iter().map(|d| d.4).collect::<Vec<_>>(),
        "construction_year" => DEPARTMENTS.iter().map(|d| d.5).collect::<Vec<_>>(),
    )
    .unwrap();
    let dp = dir.join("departments.parquet");
    ParquetWriter::new(std::fs::File::create(&dp).unwrap())
        .finish(&mut d)
        .unwrap();
    let mut o = df!(
        "department_id" => OBSERVATIONS.iter().map(|o| o.0).collect::<Vec<_>>(),
        "period" => OBSERVATIONS.iter().map(|o| o.1).collect::<Vec<_>>(),
        "indicator" => OBSERVATIONS.iter().map(|o| o.2).collect::<Vec<_>>(),
        "numerator" => OBSERVATIONS.iter().map(|o| o.3).collect::<Vec<_>>(),
        "denominator" => OBSERVATIONS.iter().map(|o| o.4).collect::<Vec<_>>(),
        "value" => OBSERVATIONS.iter().map(|o| o.5).collect::<Vec<_>>(),
    )
    .unwrap();
    let op = dir.join("observations.parquet");
    ParquetWriter::new(std::fs::File::create(&op).unwrap())
        .finish(&mut o)
        .unwrap();
    (dp, op)
}

/// The expected CSV output of OBSERVATIONS_SQL, written by hand from OBSERVATIONS.
fn expected_observations() -> String {
    let mut rows: Vec<_> = OBSERVATIONS.to_vec();
    rows.sort_by(|a, b| (a.0, a.1, a.2).cmp(&(b.0, b.1, b.2)));
    let f = |v: Option<f64>| match v {
        None => String::new(),
        Some(v) if v.fract() == 0.0 => format!("{}", v as i64),
        Some(v) => v.to_string(),
    };
    let mut s = String::from("department_id,period,indicator,numerator,denominator,value\n");
    for (id, p, ind, n, d, v) in rows {
        s.push_str(&format!("{id},{p},{ind},{},{},{}\n", f(n), f(d), f(v)));
    }
    s
}

#[test]
fn ingest_reads_identical_values_from_every_format_and_dialect() {
    let dir = tempfile::tempdir().unwrap();
    let (dd, dk) = danish_csv(dir.path());
    let (ed, ek) = english_csv(dir.path());
    let wb = workbook(dir.path());
    let (pd, pk) = parquet(dir.path());
    let cases: Vec<(&str, Vec<&Path>)> = vec![
        ("windows-1252 ; decimal comma", vec![&dd, &dk]),
        ("utf-8 , decimal point", vec![&ed, &ek]),
        ("xlsx", vec![&wb]),
        ("parquet", vec![&pd, &pk]),
    ];
    let expected = expected_observations();
    let mut departments = Vec::new();
    for (label, files) in cases {
        let store = dir.path().join(label.replace([' ', ';', ','], "_"));
        let out = ingest(&store, &files);
        assert!(out.status.success(), "{label}: {}", stderr(&out));
        assert_eq!(query_csv(&store, OBSERVATIONS_SQL), expected, "{label}");
        departments.push((label, query_csv(&store, DEPARTMENTS_SQL)));
    }
    let first = &departments[0].1;
    assert!(
        first.contains("D1,Håndværkerparken,Boligforeningen Øst,751,HP,family,380,1970"),
        "{first}"
    );
    assert!(
        first.contains("D2,Søndervangen,Boligforeningen Øst,751,SV,family,1250,1968"),
        "{first}"
    );
    assert!(
        first.contains("D3,Vejlby Vest Ældreboliger,Boligforeningen Øst,751,,elderly,96,1985"),
        "{first}"
    );
    for (label, d) in &departments {
        assert_eq!(d, first, "departments from {label}");
    }
}

#[test]
fn ingest_reads_wide_files_into_the_same_long_rows() {
    let dir = tempfile::tempdir().unwrap();
    let (dd, _) = english_csv(dir.path());
    let wide = write(
        dir.path(),
        "wide.csv",
        "department_id;period;residents;move_out_rate_num;move_out_rate_den;outside_labour_18_64_num;outside_labour_18_64_den\n\
         D1;2024;1.020;42;380;;\n\
         D2;2024;;;;210,5;1.480\n",
    );
    let store = dir.path().join("s");
    let out = ingest(&store, &[&dd, &wide]);
    assert!(out.status.success(), "{}", stderr(&out));
    let got = query_csv(
        &store,
        "SELECT department_id, indicator, numerator, denominator, value FROM observations \
         WHERE numerator IS NOT NULL OR value IS NOT NULL ORDER BY department_id, indicator",
    );
    assert_eq!(
        got,
        "department_id,indicator,numerator,denominator,value\n\
         D1,move_out_rate,42,380,\n\
         D1,residents,,,1020\n\
         D2,outside_labour_18_64,210.5,1480,\n"
    );
}

#[test]
fn dialect_can_be_forced_by_flags() {
    let dir = tempfile::tempdir().unwrap();
    let (dd, _) = english_csv(dir.path());
    // "1.234" is ambiguous: decimal point or a thousands point. Forced, it is a decimal.
    let obs = write(
        dir.path(),
        "o.csv",
        "department_id|period|indicator|numerator|denominator\nD2|2024Q3|vacancy|1.234|115000\n",
    );
    let store = dir.path().join("s");
    assert!(ingest(&store, &[&dd]).status.success());
    let out = bomon()
        .args([
            "ingest",
            "--delimiter",
            "|",
            "--decimal",
            "point",
            "--encoding",
            "utf-8",
            "--store",
        ])
        .arg(&store)
        .arg(&obs)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        query_csv(&store, "SELECT numerator FROM observations"),
        "numerator\n1.234\n"
    );
}
