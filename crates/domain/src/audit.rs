//! The audit log's tamper evidence: each entry carries a hash of the previous entry's hash and
//! its own content, so editing or deleting an entry in the table breaks the chain from there on.
//!
//! The hash is keyed: HMAC-SHA-256 with a key kept outside the database (`h1:…`), so that
//! someone who can write the database cannot recompute a rewritten tail. Entries written before
//! the key existed carry a plain SHA-256 (64 hex digits) and still verify; after the first keyed
//! entry a plain one is a break. This module computes and checks the chain; storing it is the
//! store's business, and loading the key the command line's.

use std::sync::OnceLock;

use chrono::{DateTime, SubsecRound, Utc};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// The prefix of a keyed hash.
pub const KEYED: &str = "h1:";

/// The secret of the keyed chain: at least 32 bytes, never stored in the database.
#[derive(Clone, PartialEq, Eq)]
pub struct ChainKey(Vec<u8>);

impl std::fmt::Debug for ChainKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChainKey(…)")
    }
}

impl ChainKey {
    /// A key from its hexadecimal form (64 hex digits or more).
    pub fn from_hex(text: &str) -> Result<ChainKey, String> {
        let bytes = hex::decode(text.trim()).map_err(|_| "the audit key is not hexadecimal".to_owned())?;
        ChainKey::from_bytes(bytes)
    }

    pub fn from_bytes(bytes: Vec<u8>) -> Result<ChainKey, String> {
        if bytes.len() < 32 {
            return Err(format!("the audit key has {} bytes; it needs at least 32", bytes.len()));
        }
        Ok(ChainKey(bytes))
    }

    pub fn to_hex(&self) -> String {
        hex::encode(&self.0)
    }
}

static KEY: OnceLock<ChainKey> = OnceLock::new();

/// Installs the key of this process's chain, once: the command line loads it before anything
/// is appended. A second, different key is refused (one process, one chain).
pub fn install_key(key: ChainKey) -> Result<(), String> {
    let installed = KEY.get_or_init(|| key.clone());
    if *installed == key { Ok(()) } else { Err("a different audit key is already in use".to_owned()) }
}

/// The key installed for this process, if any.
pub fn installed_key() -> Option<&'static ChainKey> {
    KEY.get()
}

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

/// Feeds the fields, each length-prefixed so that moving text from one field to the next changes
/// the hash.
fn feed(prev_hash: &str, e: &AuditEntry, mut update: impl FnMut(&[u8])) {
    let mut put = |field: &str| {
        update(&field.len().to_le_bytes());
        update(field.as_bytes());
    };
    put(prev_hash);
    put(&e.seq.to_string());
    put(&e.at.timestamp_micros().to_string());
    put(&e.actor_id.map(|i| i.to_string()).unwrap_or_default());
    put(&e.actor_name);
    put(&e.action);
    put(e.org_code.as_deref().unwrap_or(""));
    put(e.target.as_deref().unwrap_or(""));
    put(&e.detail);
    put(e.address.as_deref().unwrap_or(""));
}

/// The hash of an entry that follows `prev_hash`: keyed (`h1:` and the HMAC) with a key, plain
/// SHA-256 without one.
pub fn chain_hash_with(key: Option<&ChainKey>, prev_hash: &str, e: &AuditEntry) -> String {
    match key {
        Some(ChainKey(k)) => {
            let mut mac = Hmac::<Sha256>::new_from_slice(k).expect("HMAC takes a key of any length");
            feed(prev_hash, e, |b| mac.update(b));
            format!("{KEYED}{}", hex::encode(mac.finalize().into_bytes()))
        }
        None => {
            let mut h = Sha256::new();
            feed(prev_hash, e, |b| h.update(b));
            hex::encode(h.finalize())
        }
    }
}

/// The hash of an entry that follows `prev_hash`, with this process's key.
pub fn chain_hash(prev_hash: &str, e: &AuditEntry) -> String {
    chain_hash_with(installed_key(), prev_hash, e)
}

/// The head of the chain as it stood at a moment, written out of the database (an append-only
/// file) so that a tail removed or rewritten together with the head row is still noticed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchor {
    pub at: DateTime<Utc>,
    pub seq: i64,
    pub hash: String,
}

impl Anchor {
    /// One line of the anchors file: `time seq hash`.
    pub fn line(&self) -> String {
        format!("{} {} {}", self.at.to_rfc3339(), self.seq, self.hash)
    }

    pub fn parse(line: &str) -> Result<Anchor, String> {
        let mut parts = line.split_whitespace();
        let (Some(at), Some(seq), Some(hash), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
            return Err(format!("not an anchor line: `{line}`"));
        };
        let at = DateTime::parse_from_rfc3339(at).map_err(|_| format!("bad time in `{line}`"))?.to_utc();
        let seq = seq.parse().map_err(|_| format!("bad sequence number in `{line}`"))?;
        Ok(Anchor { at, seq, hash: hash.to_owned() })
    }
}

/// How the log disagrees with an anchor written out of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnchorBreak {
    /// The log ends before an entry that was anchored: its tail was removed (and the head row
    /// set back).
    Truncated { anchored: i64, at: DateTime<Utc>, head: i64 },
    /// The anchored entry is there with another hash: the tail was rewritten.
    Rewritten { seq: i64, at: DateTime<Utc> },
}

/// Where a chain first breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainBreak {
    /// The entry's stored hash does not match its content: it was edited.
    Altered { seq: i64 },
    /// The entry's stored previous hash is not the hash of the entry before it, or a sequence
    /// number is missing: an entry was deleted or inserted.
    Gap { seq: i64, expected_seq: i64 },
    /// A plain hash after a keyed one: someone without the key rewrote the entry.
    Unkeyed { seq: i64 },
    /// The entry is keyed and this process has no key to check it with.
    NoKey { seq: i64 },
}

/// Checks entries (in sequence order, each with its stored `prev_hash` and `hash`) continuing
/// from `prev` (the hash and seq of the last entry already checked, or `(GENESIS, 0)`).
/// Returns the last `(hash, seq)` so that a long log can be checked in batches.
pub fn verify_chain<'a>(
    prev: (String, i64),
    entries: impl IntoIterator<Item = (&'a AuditEntry, &'a str, &'a str)>,
) -> Result<(String, i64), ChainBreak> {
    verify_chain_with(installed_key(), prev, entries)
}

/// [`verify_chain`] with a given key.
pub fn verify_chain_with<'a>(
    key: Option<&ChainKey>,
    mut prev: (String, i64),
    entries: impl IntoIterator<Item = (&'a AuditEntry, &'a str, &'a str)>,
) -> Result<(String, i64), ChainBreak> {
    for (entry, prev_hash, hash) in entries {
        if entry.seq != prev.1 + 1 || prev_hash != prev.0 {
            return Err(ChainBreak::Gap { seq: entry.seq, expected_seq: prev.1 + 1 });
        }
        let keyed = hash.starts_with(KEYED);
        if !keyed && prev.0.starts_with(KEYED) {
            return Err(ChainBreak::Unkeyed { seq: entry.seq });
        }
        let expected = match (keyed, key) {
            (true, None) => return Err(ChainBreak::NoKey { seq: entry.seq }),
            (true, Some(k)) => chain_hash_with(Some(k), prev_hash, entry),
            (false, _) => chain_hash_with(None, prev_hash, entry),
        };
        if expected != hash {
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

    /// Known answers, computed outside Qipan (Python's hashlib and hmac over the length-prefixed
    /// fields): a change of the hash format, which would orphan every archived chain, fails here.
    #[test]
    fn the_hash_of_an_entry_is_pinned() {
        assert_eq!(
            chain_hash_with(None, GENESIS, &entry(1, "login.success")),
            "12ed56f738b61f23b8d81ad5a0f6ae6c7486f7816e98ceedcd25f2ba0104d32b"
        );
        let key = ChainKey::from_bytes((0u8..32).collect()).unwrap();
        assert_eq!(
            chain_hash_with(Some(&key), GENESIS, &entry(1, "login.success")),
            "h1:84bb713e322bf6fbcdc27a3c0b27c52b67322ce5d13d32d25dc5335bb6734768"
        );
    }

    #[test]
    fn a_keyed_chain_refuses_a_tail_rewritten_without_the_key() {
        let key = ChainKey::from_bytes(vec![7; 32]).unwrap();
        let mut prev = GENESIS.to_owned();
        let mut rows = Vec::new();
        for seq in 1..=4 {
            // The first two entries come from before the key: plain hashes, still valid.
            let k = (seq > 2).then_some(&key);
            let e = entry(seq, "login.success");
            let hash = chain_hash_with(k, &prev, &e);
            rows.push((e, prev.clone(), hash.clone()));
            prev = hash;
        }
        let check = |rows: &[(AuditEntry, String, String)], key: Option<&ChainKey>| {
            verify_chain_with(key, (GENESIS.to_owned(), 0), rows.iter().map(|(e, p, h)| (e, p.as_str(), h.as_str())))
        };
        assert_eq!(check(&rows, Some(&key)).map(|(_, seq)| seq), Ok(4));
        assert_eq!(check(&rows, None), Err(ChainBreak::NoKey { seq: 3 }), "keyed entries need the key");
        let other = ChainKey::from_bytes(vec![8; 32]).unwrap();
        assert_eq!(check(&rows, Some(&other)), Err(ChainBreak::Altered { seq: 3 }), "and the right one");
        // Someone with the database but not the key edits entry 4 and recomputes it plainly.
        let mut forged = rows.clone();
        forged[3].0.actor_name = "someone_else".into();
        forged[3].2 = chain_hash_with(None, &forged[3].1, &forged[3].0);
        assert_eq!(check(&forged, Some(&key)), Err(ChainBreak::Unkeyed { seq: 4 }));
        assert!(ChainKey::from_hex("abcd").is_err() && ChainKey::from_hex("zz").is_err());
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
