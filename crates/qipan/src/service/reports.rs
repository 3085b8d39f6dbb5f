//! Statistical reports (报表): tables for a subtree and a period, exports, monthly snapshots.
