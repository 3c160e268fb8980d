//! Test modules.

mod properties;
mod reference;
