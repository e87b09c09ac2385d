//! Who may log in: the credential checks and the fingerprint that ties tokens to them.

use async_trait::async_trait;
use sha2::{Digest, Sha256};
use std::fmt;
use std::sync::Arc;
use subtle::{Choice, ConstantTimeEq};

/// A source of admin credentials: a database, LDAP, an identity provider, ...
///
/// Implement it with the `async-trait` crate, as [`Backend`](crate::backend::Backend):
///
/// ```
/// use waygate::admin::{Auth, AuthBackend};
///
/// struct Operators;
///
/// #[async_trait::async_trait]
/// impl AuthBackend for Operators {
///     async fn authenticate(&self, username: &str, password: &str) -> bool {
///         // Look the user up; compare password hashes in constant time.
///         username == "ops" && password == "let-me-in"
///     }
///
///     fn fingerprint(&self) -> String {
///         // Changes whenever the credential store does, so old tokens stop working.
///         "operators-v3".to_owned()
///     }
/// }
///
/// let auth = Auth::custom(Operators);
/// ```
#[async_trait]
pub trait AuthBackend: Send + Sync + 'static {
    /// Whether `password` is `username`'s. Compare secrets in constant time.
    async fn authenticate(&self, username: &str, password: &str) -> bool;

    /// A text that changes when the credentials change: it is mixed into the token signing
    /// key, so changing it invalidates every token issued before. The default is the type's
    /// name (stable across restarts, blind to credential changes), as in the Python original.
    fn fingerprint(&self) -> String {
        let name = std::any::type_name::<Self>();
        let name = name.split('<').next().unwrap_or(name);
        name.rsplit("::").next().unwrap_or(name).to_owned()
    }
}

/// How the admin API authenticates its users: one user, several, or an [`AuthBackend`].
///
/// Tokens are signed with a key derived from the secret key and a fingerprint of these
/// credentials (the first 16 hex digits of a SHA-256, computed as the Python original does),
/// so changing a password or adding a user logs everyone out.
///
/// Passwords are compared in constant time: the given and the configured username and
/// password are each hashed with SHA-256 and the digests compared with
/// [`subtle::ConstantTimeEq`], over every configured user, so neither a wrong password's
/// length nor which user exists shows in the response time.
#[derive(Clone)]
pub struct Auth {
    backend: Arc<dyn AuthBackend>,
    fingerprint: String,
}

impl Auth {
    /// One user.
    pub fn single(username: impl Into<String>, password: impl Into<String>) -> Self {
        let (username, password) = (username.into(), password.into());
        let fingerprint = fingerprint(&format!("{username}:{password}"));
        Self {
            backend: Arc::new(Users::new([(username, password)])),
            fingerprint,
        }
    }

    /// Several users. A username listed twice keeps its last password.
    pub fn users<I, U, P>(users: I) -> Self
    where
        I: IntoIterator<Item = (U, P)>,
        U: Into<String>,
        P: Into<String>,
    {
        let mut users: Vec<(String, String)> = users
            .into_iter()
            .map(|(u, p)| (u.into(), p.into()))
            .collect();
        let backend = Users::new(users.iter().cloned());
        users.sort();
        let material = users
            .iter()
            .map(|(u, p)| format!("{u}\0{p}"))
            .collect::<Vec<_>>()
            .join("|");
        Self {
            backend: Arc::new(backend),
            fingerprint: fingerprint(&material),
        }
    }

    /// Credentials checked by your own backend.
    pub fn custom(backend: impl AuthBackend) -> Self {
        let fingerprint = fingerprint(&backend.fingerprint());
        Self {
            backend: Arc::new(backend),
            fingerprint,
        }
    }

    /// The 16-hex-digit fingerprint mixed into the signing key.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// Whether the credentials are valid.
    pub(crate) async fn authenticate(&self, username: &str, password: &str) -> bool {
        self.backend.authenticate(username, password).await
    }
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the credentials.
        f.debug_struct("Auth")
            .field("fingerprint", &self.fingerprint)
            .finish_non_exhaustive()
    }
}

/// The fingerprint of open mode (no auth configured).
pub(crate) fn open_fingerprint() -> String {
    fingerprint("open")
}

/// The first 16 hex digits of the SHA-256 of `material`.
fn fingerprint(material: &str) -> String {
    let mut hex = super::token::hex(&Sha256::digest(material.as_bytes()));
    hex.truncate(16);
    hex
}

/// The built-in user list, kept as SHA-256 digests and compared in constant time.
struct Users {
    users: Vec<([u8; 32], [u8; 32])>,
}

impl Users {
    fn new(users: impl IntoIterator<Item = (String, String)>) -> Self {
        let mut digests: Vec<([u8; 32], [u8; 32])> = Vec::new();
        for (username, password) in users {
            let user = sha256(&username);
            // The last password of a username wins, as in the Python original's dict.
            digests.retain(|(u, _)| *u != user);
            digests.push((user, sha256(&password)));
        }
        Self { users: digests }
    }
}

#[async_trait]
impl AuthBackend for Users {
    async fn authenticate(&self, username: &str, password: &str) -> bool {
        let (user, pass) = (sha256(username), sha256(password));
        // Every entry is compared, matched or not: the time does not depend on which user
        // (if any) matches.
        let mut ok = Choice::from(0);
        for (u, p) in &self.users {
            ok |= u.ct_eq(&user) & p.ct_eq(&pass);
        }
        ok.into()
    }
}

fn sha256(text: &str) -> [u8; 32] {
    Sha256::digest(text.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `hashlib.sha256(material.encode()).hexdigest()[:16]`, computed by Python.
    #[test]
    fn fingerprints_match_the_python_original() {
        assert_eq!(
            Auth::single("admin", "secret").fingerprint(),
            "901b281c4e0c4007"
        );
        assert_eq!(open_fingerprint(), "2348f99874421257");
        let users = Auth::users([("bob", "b"), ("alice", "a")]);
        assert_eq!(users.fingerprint(), "f310b59e792c4238");
        // Order-independent.
        assert_eq!(
            Auth::users([("alice", "a"), ("bob", "b")]).fingerprint(),
            users.fingerprint()
        );
    }

    #[tokio::test]
    async fn built_in_users() {
        let auth = Auth::users([("alice", "a"), ("bob", "b"), ("alice", "new")]);
        assert!(auth.authenticate("bob", "b").await);
        assert!(auth.authenticate("alice", "new").await);
        assert!(
            !auth.authenticate("alice", "a").await,
            "the last password wins"
        );
        assert!(!auth.authenticate("bob", "a").await);
        assert!(!auth.authenticate("carol", "b").await);
        assert!(!auth.authenticate("", "").await);
    }

    struct Ldap;

    #[async_trait]
    impl AuthBackend for Ldap {
        async fn authenticate(&self, _: &str, _: &str) -> bool {
            true
        }
    }

    #[test]
    fn custom_fingerprint_defaults_to_the_type_name() {
        assert_eq!(Ldap.fingerprint(), "Ldap");
        assert_eq!(
            Auth::custom(Ldap).fingerprint(),
            "1ff9fe33415fa7c6",
            "the backend's fingerprint is hashed"
        );
        assert_eq!(
            format!("{:?}", Auth::single("admin", "secret")),
            "Auth { fingerprint: \"901b281c4e0c4007\", .. }"
        );
    }
}
