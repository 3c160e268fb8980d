//! Polars SQL
//! This crate provides a SQL interface for Polars DataFrames
#![deny(missing_docs)]
// bomon: a vendored dependency; its warnings are not ours to fix.
#![allow(warnings)]
mod context;
pub mod function_registry;
mod functions;
pub mod keywords;
mod sql_expr;
mod table_functions;
mod types;

pub use context::SQLContext;
pub use sql_expr::sql_expr;
