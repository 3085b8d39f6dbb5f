//! The audit log's tamper evidence: each entry carries the SHA-256 of the previous entry's hash
//! and its own content, so editing or deleting an entry in the table breaks the chain from
//! there on. This module computes and checks the chain; storing it is the store's business.

use chrono::{DateTime, SubsecRound, Utc};
use sha2::{Digest, Sha256};

/// The hash that precedes the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One audit entry, as hashed. `detail` is JSON text (for a change: `{"before":…,"after":…}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: DateTime<Utc>,
    /// Account id of the actor, if any (a failed login with an unknown name has none).
    pub actor_id: Option<i64>,
    /// The name the actor used or holds, as it was at the time.
    pub actor_name: String,
    pub action: String,
    /// The org unit the entry concerns (the actor's or the target's), for scoped searching.
    pub org_code: Option<String>,
    pub target: Option<String>,
    pub detail: String,
    pub address: Option<String>,
}

/// Timestamps are kept to the microsecond: both engines store that much, so a re-read entry
/// hashes as it did when written.
pub fn audit_time(at: DateTime<Utc>) -> DateTime<Utc> {
    at.trunc_subsecs(6)
}

fn put(hasher: &mut Sha256, field: &str) {
    // Length-prefixed, so that moving text from one field to the next changes the hash.
    hasher.update(field.len().to_le_bytes());
    hasher.update(field.as_bytes());
}

/// The hash of an entry that follows `prev_hash`.
pub fn chain_hash(prev_hash: &str, e: &AuditEntry) -> String {
    let mut h = Sha256::new();
    put(&mut h, prev_hash);
    put(&mut h, &e.seq.to_string());
    put(&mut h, &e.at.timestamp_micros().to_string());
    put(&mut h, &e.actor_id.map(|i| i.to_string()).unwrap_or_default());
    put(&mut h, &e.actor_name);
    put(&mut h, &e.action);
    put(&mut h, e.org_code.as_deref().unwrap_or(""));
    put(&mut h, e.target.as_deref().unwrap_or(""));
    put(&mut h, &e.detail);
    put(&mut h, e.address.as_deref().unwrap_or(""));
    hex::encode(h.finalize())
}

/// Where a chain first breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainBreak {
    /// The entry's stored hash does not match its content: it was edited.
    Altered { seq: i64 },
    /// The entry's stored previous hash is not the hash of the entry before it, or a sequence
    /// number is missing: an entry was deleted or inserted.
    Gap { seq: i64, expected_seq: i64 },
}

/// Checks entries (in sequence order, each with its stored `prev_hash` and `hash`) continuing
/// from `prev` (the hash and seq of the last entry already checked, or `(GENESIS, 0)`).
/// Returns the last `(hash, seq)` so that a long log can be checked in batches.
pub fn verify_chain<'a>(
    mut prev: (String, i64),
    entries: impl IntoIterator<Item = (&'a AuditEntry, &'a str, &'a str)>,
) -> Result<(String, i64), ChainBreak> {
    for (entry, prev_hash, hash) in entries {
        if entry.seq != prev.1 + 1 || prev_hash != prev.0 {
            return Err(ChainBreak::Gap { seq: entry.seq, expected_seq: prev.1 + 1 });
        }
        if chain_hash(prev_hash, entry) != hash {
            return Err(ChainBreak::Altered { seq: entry.seq });
        }
        prev = (hash.to_owned(), entry.seq);
    }
    Ok(prev)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(seq: i64, action: &str) -> AuditEntry {
        AuditEntry {
            seq,
            at: audit_time(DateTime::parse_from_rfc3339("2026-03-01T01:00:00.123456789Z").unwrap().to_utc()),
            actor_id: Some(7),
            actor_name: "zhangli".into(),
            action: action.into(),
            org_code: Some("371602".into()),
            target: None,
            detail: "{}".into(),
            address: Some("127.0.0.1".into()),
        }
    }

    fn chain(n: i64) -> Vec<(AuditEntry, String, String)> {
        let mut prev = GENESIS.to_owned();
        (1..=n)
            .map(|seq| {
                let e = entry(seq, "login.success");
                let hash = chain_hash(&prev, &e);
                let row = (e, prev.clone(), hash.clone());
                prev = hash;
                row
            })
            .collect()
    }

    fn check(rows: &[(AuditEntry, String, String)]) -> Result<(String, i64), ChainBreak> {
        verify_chain((GENESIS.to_owned(), 0), rows.iter().map(|(e, p, h)| (e, p.as_str(), h.as_str())))
    }

    /// A known answer, computed outside Qipan (Python's hashlib over the length-prefixed
    /// fields): a change of the hash format, which would orphan every archived chain, fails here.
    #[test]
    fn the_hash_of_an_entry_is_pinned() {
        assert_eq!(
            chain_hash(GENESIS, &entry(1, "login.success")),
            "12ed56f738b61f23b8d81ad5a0f6ae6c7486f7816e98ceedcd25f2ba0104d32b"
        );
    }

    #[test]
    fn an_intact_chain_verifies() {
        let rows = chain(5);
        assert_eq!(check(&rows), Ok((rows[4].2.clone(), 5)));
    }

    #[test]
    fn an_edit_is_found_at_the_edited_entry() {
        let mut rows = chain(5);
        rows[2].0.action = "logout".into();
        assert_eq!(check(&rows), Err(ChainBreak::Altered { seq: 3 }));
    }

    #[test]
    fn a_deletion_is_found_where_the_gap_is() {
        let mut rows = chain(5);
        rows.remove(1);
        assert_eq!(check(&rows), Err(ChainBreak::Gap { seq: 3, expected_seq: 2 }));
    }

    #[test]
    fn moving_text_between_fields_changes_the_hash() {
        let mut a = entry(1, "ab");
        a.actor_name = "c".into();
        let mut b = entry(1, "a");
        b.actor_name = "bc".into();
        assert_ne!(chain_hash(GENESIS, &a), chain_hash(GENESIS, &b));
    }
}
