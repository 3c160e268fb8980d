//! CSV input files: every encoding, separator and decimal mark, through
//! dialect detection and the validators.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = bomon_store::fuzzing::csv(data);
});
