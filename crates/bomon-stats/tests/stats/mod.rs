//! Test modules.

mod medpar;
mod properties;
mod reference;
