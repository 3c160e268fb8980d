//! The fuzz targets' regression corpus (fuzz/regressions/<target>/): every
//! input that ever crashed or hung a parser, plus hand-made adversarial
//! ones, run through the same entry points as the fuzz targets (fuzz/), each
//! under a time bound. CI runs only this corpus; scripts/fuzz.sh fuzzes.

use std::path::Path;
use std::time::{Duration, Instant};

fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/regressions")
        .join(target);
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            (p.display().to_string(), std::fs::read(&p).unwrap())
        })
        .collect();
    v.sort();
    assert!(!v.is_empty(), "{}", dir.display());
    v
}

fn bounded(name: &str, f: impl FnOnce()) {
    let t = Instant::now();
    f();
    assert!(
        t.elapsed() < Duration::from_secs(20),
        "{name} took {:?}",
        t.elapsed()
    );
}

#[test]
fn regression_corpus_runs_clean() {
    for (name, data) in corpus("csv") {
        bounded(&name, || {
            let _ = bomon_store::fuzzing::csv(&data);
        });
    }
    let dir = tempfile::tempdir().unwrap();
    for (name, data) in corpus("files") {
        let Some((&k, rest)) = data.split_first() else {
            continue;
        };
        let ext = ["xlsx", "parquet", "csv", "ods"][(k % 4) as usize];
        let path = dir.path().join(format!("input.{ext}"));
        std::fs::write(&path, rest).unwrap();
        bounded(&name, || match k % 4 {
            0 | 3 => {
                let _ = bomon_store::fuzzing::workbook(&path);
                let _ = bomon_store::fuzzing::assessment_form(&path);
            }
            1 => {
                let _ = bomon_store::fuzzing::parquet(&path);
            }
            _ => {
                let _ = bomon_store::fuzzing::assessment_form(&path);
            }
        });
    }
    for (name, data) in corpus("text") {
        let Some((&k, rest)) = data.split_first() else {
            continue;
        };
        let Ok(text) = std::str::from_utf8(rest) else {
            continue;
        };
        bounded(&name, || match k % 4 {
            0 => {
                let _ = bomon_store::fuzzing::period(text);
            }
            1 => {
                let _ = bomon_store::fuzzing::number(text);
            }
            2 => {
                let _ = bomon_store::fuzzing::catalogue(text);
            }
            _ => {
                let ids = ["move_out_rate", "outside_labour_18_64", "non_western"];
                let _ = bomon_rules::ruleset::RuleSet::from_toml(text, "fuzz.toml", &ids);
            }
        });
    }
}
