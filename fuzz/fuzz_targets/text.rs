//! Text parsers: the period syntax, Danish numbers, the indicator catalogue
//! and rule-set TOML. The first byte picks the parser.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&k, rest)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    match k % 4 {
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
    }
});
