//! The reports on hand-built reviews, where every figure is known: disclosure
//! control in every format, Danish letters, the workbook's sheets, charts.
//! One test binary for the crate.

mod report;
