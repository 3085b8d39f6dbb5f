//! Tests of the worklist part.
