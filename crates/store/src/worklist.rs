//! The clerk's day: what is due in a unit's subtree, and the marks (done, snoozed) on it.
