//! Aggregate queries of the statistical reports, and the monthly snapshots.
