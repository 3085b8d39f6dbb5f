//! Password hashes and random tokens. Argon2id for passwords (slow on purpose, so it runs off
//! the async threads); SHA-256 for session and API tokens, which are long random values and
//! need no slowing down.

use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use sha2::{Digest, Sha256};

fn argon2() -> Argon2<'static> {
    // OWASP's first recommended Argon2id setting: 19 MiB, 2 passes, 1 lane.
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(19 * 1024, 2, 1, None).expect("valid parameters"))
}

/// Argon2 takes 19 MiB and tens of milliseconds per call: at most this many run at once, so
/// that a flood of sign-in attempts queues instead of exhausting memory and CPU.
static ARGON2_SLOTS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(4);

/// Hashes a password (PHC string) on a blocking thread.
pub async fn hash_password(password: String) -> String {
    let _slot = ARGON2_SLOTS.acquire().await.expect("the semaphore is never closed");
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        argon2()
            .hash_password(password.as_bytes(), &salt)
            .expect("argon2 hashing cannot fail with valid parameters")
            .to_string()
    })
    .await
    .expect("the hashing task does not panic")
}

/// Checks a password against a stored hash on a blocking thread. A malformed hash never matches.
pub async fn verify_password(password: String, hash: String) -> bool {
    let _slot = ARGON2_SLOTS.acquire().await.expect("the semaphore is never closed");
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash).is_ok_and(|parsed| argon2().verify_password(password.as_bytes(), &parsed).is_ok())
    })
    .await
    .unwrap_or(false)
}

/// A hash to verify against when the username is unknown, so that the answer takes as long as
/// for a known one.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| {
        let salt = SaltString::generate(&mut OsRng);
        argon2().hash_password(b"decoy-password-never-matches", &salt).expect("hashing").to_string()
    })
}

/// A random token of 32 bytes, hex-encoded.
/// `n` random bytes from the operating system.
pub fn random_bytes(n: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; n];
    OsRng.fill_bytes(&mut bytes);
    bytes
}

pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// A random password that meets the policy: for resets and generated accounts.
pub fn random_password() -> String {
    // No look-alike characters (0/O, 1/l/I), so it can be read out over the phone.
    const LOWER: &[u8] = b"abcdefghijkmnpqrstuvwxyz";
    const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
    const DIGIT: &[u8] = b"23456789";
    let mut bytes = [0u8; 16];
    OsRng.fill_bytes(&mut bytes);
    let mut out = String::new();
    for (i, b) in bytes.iter().enumerate() {
        let set = match i % 4 {
            0 | 1 => LOWER,
            2 => UPPER,
            _ => DIGIT,
        };
        if i == 8 {
            out.push('-');
        }
        out.push(set[usize::from(*b) % set.len()] as char);
    }
    out
}

/// SHA-256 of a token, hex-encoded: what the database keeps instead of the token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_password_verifies_against_its_own_hash_only() {
        let hash = hash_password("Correct-horse-9".into()).await;
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("Correct-horse-9".into(), hash.clone()).await);
        assert!(!verify_password("correct-horse-9".into(), hash).await);
        assert!(!verify_password("x".into(), "not a hash".into()).await);
    }

    #[test]
    fn generated_passwords_meet_the_policy() {
        let user = domain::account::Username::parse("someone").unwrap();
        for _ in 0..50 {
            let p = random_password();
            assert!(domain::account::NewPassword::parse(&p, &user).is_ok(), "{p}");
        }
        assert_ne!(random_token(), random_token());
    }
}
