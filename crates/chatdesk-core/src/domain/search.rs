//! A search query: the words to find, all of them, case-insensitively. Operators and
//! punctuation a user types are not syntax: they only separate words.

use super::Invalid;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery {
    terms: Vec<String>,
}

impl SearchQuery {
    pub const MAX_TERMS: usize = 10;

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let bad = |m: &str| Invalid::new("q", "invalid_query", m);
        if raw.chars().count() > 200 {
            return Err(bad("q must be at most 200 characters"));
        }
        let terms: Vec<String> = raw
            .split(|c: char| !c.is_alphanumeric())
            .filter(|t| !t.is_empty())
            .map(str::to_lowercase)
            .collect();
        if terms.is_empty() {
            return Err(bad("q must contain at least one word"));
        }
        if terms.len() > Self::MAX_TERMS {
            return Err(bad("q may contain at most 10 words"));
        }
        Ok(Self { terms })
    }

    pub fn terms(&self) -> &[String] {
        &self.terms
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_only() {
        assert_eq!(
            SearchQuery::parse("Parcel  \"lost\" OR-*").unwrap().terms(),
            ["parcel", "lost", "or"]
        );
        assert_eq!(
            SearchQuery::parse("áo thun").unwrap().terms(),
            ["áo", "thun"]
        );
        assert_eq!(
            SearchQuery::parse("  *** ").unwrap_err().code,
            "invalid_query"
        );
        assert!(SearchQuery::parse(&"a ".repeat(11)).is_err());
    }
}
