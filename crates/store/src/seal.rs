//! Encryption at rest of the columns that identify a person or describe their health: one small
//! interface — [`seal`], [`unseal`] and the blind indexes — over AES-256-GCM, with the keys kept
//! outside the database (a key file or an environment variable, read by the CLI and installed
//! here once per process).
//!
//! A sealed value is text: `s1.<key id>.<base64url(nonce ‖ ciphertext ‖ tag)>`, the column's name
//! bound as associated data so that a value copied into another column does not open. The key id
//! lets values sealed under older keys be read while `qipan keys rotate` re-seals them. Text
//! without the prefix is a value written before sealing existed; it reads as itself until the
//! sealing pass reaches it.
//!
//! Exact lookups by ID number stay index lookups through a keyed blind index (HMAC-SHA-256 under
//! a separate index key, truncated to 128 bits) of the whole number and of its last four
//! characters, the part a masked number shows. The index key is not rotated with the data keys:
//! re-keying it would leave the unique index on (ID number, unit) blind for the whole pass.

use std::sync::{Arc, RwLock};

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use rand_core::{OsRng, RngCore};
use sha2::Sha256;

use crate::{StoreError, StoreResult};

const PREFIX: &str = "s1.";
const NONCE_LEN: usize = 12;

/// One data key: its id (`k1`, `k2`, …) and its 256 bits.
#[derive(Clone)]
struct DataKey {
    id: String,
    cipher: Aes256Gcm,
    raw: [u8; 32],
}

/// The keys of an installation: the data keys, oldest first (the last seals new values), and
/// the index key of the blind indexes.
#[derive(Clone)]
pub struct Keyring {
    keys: Vec<DataKey>,
    index: [u8; 32],
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<&str> = self.keys.iter().map(|k| k.id.as_str()).collect();
        f.debug_struct("Keyring").field("keys", &ids).finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyringError {
    #[error("entry {entry}: expected `index <64 hex digits>` or `k<n> <64 hex digits>`")]
    Syntax { entry: usize },
    #[error("entry {entry}: the key is not 64 hexadecimal digits (256 bits)")]
    BadKey { entry: usize },
    #[error("entry {entry}: key {id} appears twice")]
    Repeated { entry: usize, id: String },
    #[error("no index key (a line `index <64 hex digits>`)")]
    NoIndex,
    #[error("no data key (a line `k1 <64 hex digits>`)")]
    NoDataKey,
}

fn random_key() -> [u8; 32] {
    let mut k = [0u8; 32];
    OsRng.fill_bytes(&mut k);
    k
}

fn data_key(id: String, raw: [u8; 32]) -> DataKey {
    DataKey { id, cipher: Aes256Gcm::new(&raw.into()), raw }
}

fn mac(key: &[u8; 32], parts: &[&[u8]]) -> [u8; 32] {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    for p in parts {
        m.update(p);
    }
    m.finalize().into_bytes().into()
}

impl Keyring {
    /// A new keyring: one data key `k1` and an index key, from the operating system's generator.
    pub fn generate() -> Keyring {
        Keyring { keys: vec![data_key("k1".into(), random_key())], index: random_key() }
    }

    /// Reads the text of a key file (or of `QIPAN_DATA_KEYS`, where `;` may separate lines).
    /// Errors name the entry by its place among the keys, comments and blank lines not counted.
    pub fn parse(text: &str) -> Result<Keyring, KeyringError> {
        let mut keys: Vec<DataKey> = Vec::new();
        let mut index = None;
        let entries = text
            .lines()
            .filter(|l| !l.trim_start().starts_with('#'))
            .flat_map(|l| l.split(';'))
            .map(str::trim)
            .filter(|l| !l.is_empty());
        for (n, line) in entries.enumerate() {
            let line_no = n + 1;
            let mut parts = line.split_whitespace();
            let (Some(id), Some(hex_key), None) = (parts.next(), parts.next(), parts.next()) else {
                return Err(KeyringError::Syntax { entry: line_no });
            };
            let raw: [u8; 32] = hex::decode(hex_key)
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or(KeyringError::BadKey { entry: line_no })?;
            if id == "index" {
                if index.replace(raw).is_some() {
                    return Err(KeyringError::Repeated { entry: line_no, id: id.into() });
                }
            } else if id.strip_prefix('k').is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())) {
                if keys.iter().any(|k| k.id == id) {
                    return Err(KeyringError::Repeated { entry: line_no, id: id.into() });
                }
                keys.push(data_key(id.into(), raw));
            } else {
                return Err(KeyringError::Syntax { entry: line_no });
            }
        }
        let index = index.ok_or(KeyringError::NoIndex)?;
        if keys.is_empty() {
            return Err(KeyringError::NoDataKey);
        }
        Ok(Keyring { keys, index })
    }

    /// The text of a key file.
    pub fn to_text(&self) -> String {
        let mut out = String::from(
            "# Qipan data keys. The last k-line seals new values; older ones open values not yet re-sealed.\n\
             # Keep this file off the database server's backups: whoever holds both reads everything.\n",
        );
        out.push_str(&format!("index {}\n", hex::encode(self.index)));
        for k in &self.keys {
            out.push_str(&format!("{} {}\n", k.id, hex::encode(k.raw)));
        }
        out
    }

    /// This keyring with one more data key, which becomes the current one.
    pub fn with_new_key(&self) -> Keyring {
        let next = self.keys.iter().filter_map(|k| k.id[1..].parse::<u32>().ok()).max().unwrap_or(0) + 1;
        let mut ring = self.clone();
        ring.keys.push(data_key(format!("k{next}"), random_key()));
        ring
    }

    /// The id of the key new values are sealed with.
    pub fn current_id(&self) -> &str {
        &self.current().id
    }

    fn current(&self) -> &DataKey {
        self.keys.last().expect("a keyring has a data key")
    }

    /// The ids of every data key, oldest first, and the index key's (`index`).
    pub fn ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.keys.iter().map(|k| k.id.clone()).collect();
        ids.push("index".into());
        ids
    }

    /// A check value of a key (its id or `index`): recorded in the database so that a wrong key
    /// file is refused at start-up instead of producing unreadable values. Reveals nothing of the key.
    pub fn fingerprint(&self, id: &str) -> Option<String> {
        let raw = if id == "index" { &self.index } else { &self.keys.iter().find(|k| k.id == id)?.raw };
        Some(hex::encode(&mac(raw, &[b"qipan data key check"])[..8]))
    }

    /// Opens a stored value of `column` (`table.column`) with this keyring, for a check outside
    /// the store; the store itself opens with the installed keyring.
    pub fn open(&self, column: &str, stored: &str) -> Result<String, String> {
        self.unseal(column, stored)
    }

    fn seal(&self, column: &str, plain: &str) -> String {
        let key = self.current();
        let mut nonce = [0u8; NONCE_LEN];
        OsRng.fill_bytes(&mut nonce);
        let sealed = key
            .cipher
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: plain.as_bytes(), aad: column.as_bytes() })
            .expect("AES-GCM encrypts any message under 64 GiB");
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        format!("{PREFIX}{}.{}", key.id, URL_SAFE_NO_PAD.encode(bytes))
    }

    fn unseal(&self, column: &str, stored: &str) -> Result<String, String> {
        let Some(rest) = stored.strip_prefix(PREFIX) else { return Ok(stored.to_owned()) };
        let (id, body) = rest.split_once('.').ok_or("no key id")?;
        let key = self
            .keys
            .iter()
            .find(|k| k.id == id)
            .ok_or_else(|| format!("sealed under key {id}, not in the key file"))?;
        let bytes = URL_SAFE_NO_PAD.decode(body).map_err(|_| "not base64".to_owned())?;
        if bytes.len() < NONCE_LEN + 16 {
            return Err("too short".into());
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let plain = key
            .cipher
            .decrypt(Nonce::from_slice(nonce), Payload { msg: sealed, aad: column.as_bytes() })
            .map_err(|_| format!("does not open under key {id}: changed outside Qipan or moved from another column"))?;
        String::from_utf8(plain).map_err(|_| "not UTF-8".to_owned())
    }

    fn index(&self, kind: &[u8], value: &str) -> String {
        hex::encode(&mac(&self.index, &[kind, b":", value.as_bytes()])[..16])
    }
}

/// The key id a stored value is sealed under; `None` for a value in clear.
pub(crate) fn sealed_under(stored: &str) -> Option<&str> {
    stored.strip_prefix(PREFIX).and_then(|rest| rest.split_once('.')).map(|(id, _)| id)
}

static KEYRING: RwLock<Option<Arc<Keyring>>> = RwLock::new(None);

/// Installs the keys this process seals and opens values with (once at start-up; again only
/// when a rotation adds a key).
pub fn install_keyring(ring: Keyring) {
    *KEYRING.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(ring));
}

/// The installed keys; [`StoreError::NoKeys`] before any are.
pub fn keyring() -> StoreResult<Arc<Keyring>> {
    KEYRING.read().unwrap_or_else(|e| e.into_inner()).clone().ok_or(StoreError::NoKeys)
}

/// Seals a value of `column` (`table.column`) under the current key.
pub(crate) fn seal(column: &str, plain: &str) -> StoreResult<String> {
    Ok(keyring()?.seal(column, plain))
}

pub(crate) fn seal_opt(column: &str, plain: Option<&str>) -> StoreResult<Option<String>> {
    plain.map(|p| seal(column, p)).transpose()
}

pub(crate) fn unseal(column: &str, stored: &str) -> StoreResult<String> {
    keyring()?
        .unseal(column, stored)
        .map_err(|detail| StoreError::Corrupt { what: "sealed value", detail: format!("{column}: {detail}") })
}

pub(crate) fn unseal_opt(column: &str, stored: Option<String>) -> StoreResult<Option<String>> {
    stored.map(|s| unseal(column, &s)).transpose()
}

/// The blind index of a whole ID number (as stored: upper-case X).
pub fn id_index(id_number: &str) -> StoreResult<String> {
    Ok(keyring()?.index(b"id", &id_number.to_uppercase()))
}

/// The blind index of the last four characters of an ID number: what a masked number shows,
/// and what a clerk reading one over the counter types.
pub fn id_tail_index(id_number: &str) -> StoreResult<String> {
    let upper = id_number.to_uppercase();
    let tail = &upper[upper.len().saturating_sub(4)..];
    Ok(keyring()?.index(b"tail4", tail))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_only_under_its_key_and_column() {
        let ring = Keyring::generate();
        let sealed = ring.seal("persons.phone", "13800138000");
        assert!(sealed.starts_with("s1.k1.") && !sealed.contains("13800138000"), "{sealed}");
        assert_eq!(ring.unseal("persons.phone", &sealed).unwrap(), "13800138000");
        assert_ne!(ring.seal("persons.phone", "13800138000"), sealed, "a fresh nonce each time");
        assert!(ring.unseal("persons.id_number", &sealed).is_err(), "moved to another column");
        assert!(Keyring::generate().unseal("persons.phone", &sealed).is_err(), "another installation's key");
        let mut tampered = sealed.clone();
        let last = tampered.pop().unwrap();
        tampered.push(if last == 'A' { 'B' } else { 'A' });
        assert!(ring.unseal("persons.phone", &tampered).is_err());
        assert_eq!(ring.unseal("persons.phone", "13800138000").unwrap(), "13800138000", "a value from before sealing");
    }

    #[test]
    fn a_rotated_ring_opens_old_values_and_seals_under_the_new_key() {
        let ring = Keyring::generate();
        let old = ring.seal("c", "x");
        let rotated = Keyring::parse(&ring.with_new_key().to_text()).unwrap();
        assert_eq!(rotated.current_id(), "k2");
        assert_eq!(rotated.unseal("c", &old).unwrap(), "x");
        assert_eq!(sealed_under(&rotated.seal("c", "x")), Some("k2"));
        assert_eq!(rotated.index(b"id", "1"), ring.index(b"id", "1"), "the index key stays");
        assert_eq!(rotated.fingerprint("k1"), ring.fingerprint("k1"));
        assert_ne!(rotated.fingerprint("k2"), rotated.fingerprint("k1"));
    }

    #[test]
    fn a_malformed_key_file_names_its_entry() {
        let good = "index 00000000000000000000000000000000000000000000000000000000000000ff";
        let key = "k1 00000000000000000000000000000000000000000000000000000000000000aa";
        assert!(Keyring::parse(&format!("# c\n{good}\n{key}\n")).is_ok());
        assert_eq!(Keyring::parse(&format!("{good}\nk1 abc")).unwrap_err(), KeyringError::BadKey { entry: 2 });
        assert_eq!(
            Keyring::parse(&format!("{good}\nkey1 {}", &key[3..])).unwrap_err(),
            KeyringError::Syntax { entry: 2 }
        );
        assert_eq!(
            Keyring::parse(&format!("{good};{key};{key}")).unwrap_err(),
            KeyringError::Repeated { entry: 3, id: "k1".into() }
        );
        assert_eq!(Keyring::parse(key).unwrap_err(), KeyringError::NoIndex);
        assert_eq!(Keyring::parse(good).unwrap_err(), KeyringError::NoDataKey);
    }
}
