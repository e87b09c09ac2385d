//! Versions for the `semver_*` operators, read and ordered as the Python original reads them:
//! PEP 440 (`packaging.version.Version`), which takes `1.2.3`, `v2.0`, `1.0rc1`, `1.0.post2`,
//! `2.0.dev3`, `1!1.0`, `1.0+local` and `1.2.3-beta.1` (as `1.2.3b1`), and refuses what it
//! cannot read (the comparison is then false).

use std::cmp::Ordering;

/// A parsed version, comparable as PEP 440 orders versions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Version {
    epoch: u64,
    /// Trailing zeros dropped: `1.0` equals `1`.
    release: Vec<u64>,
    pre: Option<(u8, u64)>,
    post: Option<u64>,
    dev: Option<u64>,
    local: Vec<LocalPart>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum LocalPart {
    Number(u64),
    Text(String),
}

impl PartialOrd for LocalPart {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for LocalPart {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Self::Number(a), Self::Number(b)) => a.cmp(b),
            (Self::Text(a), Self::Text(b)) => a.cmp(b),
            // Numbers sort after text.
            (Self::Number(_), Self::Text(_)) => Ordering::Greater,
            (Self::Text(_), Self::Number(_)) => Ordering::Less,
        }
    }
}

/// A cursor over the lower-cased text.
struct Cursor<'a> {
    text: &'a str,
}

impl<'a> Cursor<'a> {
    fn eat(&mut self, prefix: &str) -> bool {
        match self.text.strip_prefix(prefix) {
            Some(rest) => {
                self.text = rest;
                true
            }
            None => false,
        }
    }

    fn eat_separator(&mut self) -> bool {
        self.eat(".") || self.eat("-") || self.eat("_")
    }

    fn number(&mut self) -> Option<u64> {
        let digits = self.text.len()
            - self
                .text
                .trim_start_matches(|c: char| c.is_ascii_digit())
                .len();
        if digits == 0 {
            return None;
        }
        let (number, rest) = self.text.split_at(digits);
        self.text = rest;
        number.parse().ok()
    }

    /// The first of `words` the text starts with, after an optional separator.
    fn word(&mut self, words: &[&'static str]) -> Option<&'static str> {
        let saved = self.text;
        self.eat_separator();
        // Longest first, so that `rc` is not read as `r`.
        let found = words
            .iter()
            .filter(|word| self.text.starts_with(**word))
            .max_by_key(|word| word.len())
            .copied();
        match found {
            Some(word) => {
                self.text = &self.text[word.len()..];
                Some(word)
            }
            None => {
                self.text = saved;
                None
            }
        }
    }

    /// An optional number after an optional separator (absent: 0).
    fn implicit_number(&mut self) -> u64 {
        let saved = self.text;
        self.eat_separator();
        match self.number() {
            Some(n) => n,
            None => {
                self.text = saved;
                0
            }
        }
    }
}

impl Version {
    /// Reads `text` as PEP 440 does; `None` for what it refuses.
    pub(crate) fn parse(text: &str) -> Option<Self> {
        let lowered = text.trim().to_ascii_lowercase();
        let mut c = Cursor { text: &lowered };
        c.eat("v");
        let mut epoch = 0;
        let mut first = c.number()?;
        if c.eat("!") {
            epoch = first;
            first = c.number()?;
        }
        let mut release = vec![first];
        loop {
            let saved = c.text;
            if c.eat(".") {
                if let Some(n) = c.number() {
                    release.push(n);
                    continue;
                }
            }
            c.text = saved;
            break;
        }
        while release.len() > 1 && release.last() == Some(&0) {
            release.pop();
        }
        let pre = c
            .word(&["alpha", "beta", "preview", "pre", "rc", "a", "b", "c"])
            .map(|word| {
                let rank = match word {
                    "a" | "alpha" => 0,
                    "b" | "beta" => 1,
                    _ => 2,
                };
                (rank, c.implicit_number())
            });
        let post =
            if c.text.starts_with('-') && c.text[1..].starts_with(|ch: char| ch.is_ascii_digit()) {
                c.eat("-");
                c.number()
            } else {
                c.word(&["post", "rev", "r"]).map(|_| c.implicit_number())
            };
        let dev = c.word(&["dev"]).map(|_| c.implicit_number());
        let mut local = Vec::new();
        if c.eat("+") {
            let parts = std::mem::take(&mut c.text);
            for part in parts.split(['.', '-', '_']) {
                if part.is_empty() || !part.bytes().all(|b| b.is_ascii_alphanumeric()) {
                    return None;
                }
                local.push(match part.parse() {
                    Ok(n) => LocalPart::Number(n),
                    Err(_) => LocalPart::Text(part.to_owned()),
                });
            }
        }
        c.text.is_empty().then_some(Self {
            epoch,
            release,
            pre,
            post,
            dev,
            local,
        })
    }

    /// The pre-release part of PEP 440's sort key, as `packaging` builds it: a dev release
    /// of a final version sorts before its pre-releases, a final version after them.
    fn pre_key(&self) -> (i8, u8, u64) {
        match (self.pre, self.post, self.dev) {
            (None, None, Some(_)) => (-1, 0, 0),
            (None, _, _) => (1, 0, 0),
            (Some((rank, n)), _, _) => (0, rank, n),
        }
    }

    /// The post-release part: none sorts first.
    fn post_key(&self) -> (i8, u64) {
        self.post.map_or((-1, 0), |n| (0, n))
    }

    /// The dev-release part: none sorts last.
    fn dev_key(&self) -> (i8, u64) {
        self.dev.map_or((1, 0), |n| (0, n))
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        self.epoch
            .cmp(&other.epoch)
            .then_with(|| compare_release(&self.release, &other.release))
            .then_with(|| self.pre_key().cmp(&other.pre_key()))
            .then_with(|| self.post_key().cmp(&other.post_key()))
            .then_with(|| self.dev_key().cmp(&other.dev_key()))
            .then_with(|| self.local.cmp(&other.local))
    }
}

/// Release segments compared with missing ones as zeros.
fn compare_release(a: &[u64], b: &[u64]) -> Ordering {
    let len = a.len().max(b.len());
    (0..len)
        .map(|i| a.get(i).unwrap_or(&0).cmp(b.get(i).unwrap_or(&0)))
        .find(|o| o.is_ne())
        .unwrap_or(Ordering::Equal)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(text: &str) -> Version {
        Version::parse(text).unwrap_or_else(|| panic!("{text} should parse"))
    }

    #[test]
    fn pep_440_order() {
        // `packaging`'s own ordering examples.
        let ordered = [
            "1.0.dev456",
            "1.0a1",
            "1.0a2.dev456",
            "1.0a12.dev456",
            "1.0a12",
            "1.0b1.dev456",
            "1.0b2",
            "1.0b2.post345.dev456",
            "1.0b2.post345",
            "1.0rc1.dev456",
            "1.0rc1",
            "1.0",
            "1.0+abc.5",
            "1.0+abc.7",
            "1.0+5",
            "1.0.post456.dev34",
            "1.0.post456",
            "1.1.dev1",
        ];
        for pair in ordered.windows(2) {
            assert!(v(pair[0]) < v(pair[1]), "{} < {}", pair[0], pair[1]);
        }
        assert_eq!(v("1.0"), v("1"));
        assert_eq!(v("v2.1.0"), v("2.1"));
        assert!(v("1!0.5") > v("2.0"));
        assert!(v("1.10") > v("1.9"));
        assert_eq!(v("1.0-1"), v("1.0.post1"));
        assert_eq!(v("1.0C1"), v("1.0rc1"));
        assert_eq!(v("1.2.3-beta.1"), v("1.2.3b1"));
        for refused in ["", "abc", "1..2", "1.0+", "1.0 beta", "1.0-x"] {
            assert!(Version::parse(refused).is_none(), "{refused:?}");
        }
    }
}
