//! Binary inputs: XLSX workbooks, Parquet files and assessment forms. The
//! first byte picks the parser; the rest is written to a file in /dev/shm.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&k, rest)) = data.split_first() else { return };
    let ext = match k % 4 {
        0 => "xlsx",
        1 => "parquet",
        2 => "csv",
        _ => "ods",
    };
    let dir = std::env::temp_dir();
    let path = dir.join(format!("bomon-fuzz-{}.{ext}", std::process::id()));
    if std::fs::write(&path, rest).is_err() {
        return;
    }
    match k % 4 {
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
    }
});
