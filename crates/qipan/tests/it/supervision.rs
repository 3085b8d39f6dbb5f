//! Tests of the supervision part.
