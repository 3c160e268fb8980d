//! Test modules.

mod count_cusum;
mod medpar;
mod properties;
mod reference;
mod window_scan;
