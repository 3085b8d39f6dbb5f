//! The statistical report tables (报表, DESIGN §9): their rows, columns and counting rules.
//!
//! A table is data: its id, its title (a catalogue key), its rows and its columns, each saying
//! what it counts. The figures come from the store as *groups* — people counted by a handful of
//! keys (sex, age band, marital status, reason, origin, whether present at the period's end,
//! arrived or left in it, and flags drawn from the record's sections) — so that a province of
//! ten million records becomes a few thousand grouped rows in SQL, and this module turns them
//! into cells with plain sums. It must not do I/O: periods, deadlines, layouts and cell
//! arithmetic only. docs/reports.md says in words what every row and column counts.

mod exchange;
mod groups;
mod period;
mod tables;

pub use exchange::*;
pub use groups::*;
pub use period::*;
pub use tables::*;
