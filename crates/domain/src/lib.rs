//! Qipan's domain: the pure types and rules of the floating-population system.
//!
//! Nothing here performs I/O, touches a database or knows about HTTP. Every type that carries a
//! business rule is constructed once through a fallible constructor and trusted afterwards.

pub mod account;
pub mod audit;
pub mod authz;
pub mod calendar;
pub mod case;
pub mod clock;
pub mod codes;
pub mod csv;
pub mod divisions;
pub mod exchange;
pub mod id_number;
pub mod ids;
pub mod org;
pub mod person;
pub mod pinyin_index;
pub mod privacy;
pub mod quality;
pub mod record;
pub mod report;
pub mod sections;
pub mod supervision;
pub mod worklist;

pub use clock::{Clock, ClockError};
pub use org::{OrgCode, OrgCodeError, OrgLevel, OrgPath};
