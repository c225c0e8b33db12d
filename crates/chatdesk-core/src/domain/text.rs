//! Short text values (tenant ids, topics, titles, …) share one parsing rule set:
//! trimmed, non-empty, bounded in characters, and free of control characters.

use super::Invalid;

/// Parse a bounded, single-line text field.
pub(crate) fn bounded_line(
    raw: &str,
    field: &'static str,
    code: &'static str,
    max_chars: usize,
) -> Result<String, Invalid> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(Invalid::new(
            field,
            code,
            format!("{field} must not be empty"),
        ));
    }
    if trimmed.chars().count() > max_chars {
        return Err(Invalid::new(
            field,
            code,
            format!("{field} must be at most {max_chars} characters"),
        ));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(Invalid::new(
            field,
            code,
            format!("{field} must not contain control characters"),
        ));
    }
    Ok(trimmed.to_owned())
}

/// Declares a newtype over `String` whose only constructor is `parse`, using [`bounded_line`].
macro_rules! line_newtype {
    ($(#[$doc:meta])* $name:ident, field = $field:literal, code = $code:literal, max = $max:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub const MAX_CHARS: usize = $max;

            pub fn parse(raw: &str) -> Result<Self, $crate::domain::Invalid> {
                $crate::domain::text::bounded_line(raw, $field, $code, $max).map(Self)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        $crate::domain::text::deserialize_by_parse!($name);
    };
}
pub(crate) use line_newtype;

/// Deserializes a type from its text form through its `parse`, so that what is read back
/// (from another node, say) is as valid as what a client sent.
macro_rules! deserialize_by_parse {
    ($name:ty) => {
        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                <$name>::parse(&raw).map_err(|e| serde::de::Error::custom(e.message))
            }
        }
    };
}
pub(crate) use deserialize_by_parse;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_bounds() {
        assert_eq!(bounded_line("  hi ", "f", "c", 2).unwrap(), "hi");
        assert!(bounded_line("   ", "f", "c", 2).is_err());
        assert!(bounded_line("abc", "f", "c", 2).is_err());
        assert!(bounded_line("a\u{0}b", "f", "c", 10).is_err());
        // Counted in characters, not bytes.
        assert!(bounded_line("éé", "f", "c", 2).is_ok());
    }
}
