//! Readers of the files staff bring: the plan table (TSV) and the member and advisor lists (CSV).

pub mod csv;
pub mod plan;
