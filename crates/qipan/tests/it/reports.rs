//! Tests of the reports part.
