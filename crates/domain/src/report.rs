//! The statistical report tables (报表, DESIGN §9): their rows, columns and counting rules.
