//! Supervision orders (督办) and the monitoring queries.
