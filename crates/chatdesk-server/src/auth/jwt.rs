//! JSON Web Tokens: HS256 with the server's secret (tokens it issues, and any issuer sharing
//! the secret), plus RS256/ES256 verified with a configured public key.

use super::verified::now_secs;
use chatdesk_core::domain::{BusinessId, UserId};
use chatdesk_core::identity::{Principal, Role};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{
    decode, decode_header, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation,
};
use serde::{Deserialize, Serialize};
use std::time::Duration;

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub exp: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub business_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum TokenError {
    Expired,
    Invalid(String),
}

pub struct JwtKeys {
    hs_encode: EncodingKey,
    hs_decode: DecodingKey,
    public: Option<(Algorithm, DecodingKey)>,
    /// Seconds of clock difference forgiven when checking `exp` and `nbf`.
    leeway: u64,
}

/// jsonwebtoken's own default, kept as ours unless configured.
pub const DEFAULT_LEEWAY_SECS: u64 = 60;

impl JwtKeys {
    pub fn new(secret: &str) -> Self {
        Self {
            hs_encode: EncodingKey::from_secret(secret.as_bytes()),
            hs_decode: DecodingKey::from_secret(secret.as_bytes()),
            public: None,
            leeway: DEFAULT_LEEWAY_SECS,
        }
    }

    pub fn with_leeway(mut self, secs: u64) -> Self {
        self.leeway = secs;
        self
    }

    /// Also accept tokens signed by the holder of this public key.
    pub fn with_public_key(mut self, algorithm: &str, pem: &[u8]) -> anyhow::Result<Self> {
        let (alg, key) = match algorithm.to_ascii_uppercase().as_str() {
            "RS256" => (Algorithm::RS256, DecodingKey::from_rsa_pem(pem)?),
            "ES256" => (Algorithm::ES256, DecodingKey::from_ec_pem(pem)?),
            other => anyhow::bail!("jwt_public_key_algorithm must be RS256 or ES256, not {other}"),
        };
        self.public = Some((alg, key));
        Ok(self)
    }

    pub fn issue(&self, sub: &str, role: Role, business_id: Option<&str>, ttl: Duration) -> String {
        let now = now_secs();
        let claims = Claims {
            sub: sub.to_owned(),
            exp: now + ttl.as_secs(),
            iat: Some(now),
            role: Some(role.as_str().to_owned()),
            business_id: business_id.map(str::to_owned),
            email: None,
            name: None,
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.hs_encode)
            .expect("HS256 signing cannot fail")
    }

    pub fn verify(&self, token: &str) -> Result<Principal, TokenError> {
        self.verify_with_exp(token).map(|(principal, _)| principal)
    }

    /// A token's principal and its `exp` (seconds since the epoch).
    pub fn verify_with_exp(&self, token: &str) -> Result<(Principal, u64), TokenError> {
        let header = decode_header(token).map_err(|e| TokenError::Invalid(e.to_string()))?;
        let key = match (header.alg, &self.public) {
            (Algorithm::HS256, _) => &self.hs_decode,
            (alg, Some((expected, key))) if alg == *expected => key,
            (alg, _) => {
                return Err(TokenError::Invalid(format!(
                    "tokens signed with {alg:?} are not accepted"
                )))
            }
        };
        let mut validation = Validation::new(header.alg);
        validation.set_required_spec_claims(&["exp", "sub"]);
        validation.leeway = self.leeway;
        let claims = decode::<Claims>(token, key, &validation)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => TokenError::Expired,
                kind => TokenError::Invalid(in_our_words(kind)),
            })?
            .claims;
        let user = UserId::parse(&claims.sub).map_err(|e| TokenError::Invalid(e.message))?;
        let role = match claims.role.as_deref() {
            Some(r) => Role::parse(r).map_err(|e| TokenError::Invalid(e.message))?,
            None => Role::Customer,
        };
        let business = claims
            .business_id
            .as_deref()
            .map(BusinessId::parse)
            .transpose()
            .map_err(|e| TokenError::Invalid(e.message))?;
        Ok((Principal::user(user, role, business), claims.exp))
    }
}

/// Why a token was refused, said for the client, not in the library's names.
fn in_our_words(kind: &ErrorKind) -> String {
    match kind {
        ErrorKind::InvalidSignature => "the token's signature does not match".into(),
        ErrorKind::ImmatureSignature => "the token is not valid yet (nbf)".into(),
        ErrorKind::MissingRequiredClaim(claim) => format!("the token has no {claim} claim"),
        ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => {
            "the token's algorithm is not accepted".into()
        }
        ErrorKind::Json(_) => "the token's claims are not of the expected types".into(),
        _ => "the token is malformed".into(),
    }
}

/// Parse a lifetime like `90s`, `15m`, `1h`, `7d` (a bare number is seconds).
pub fn parse_ttl(raw: &str) -> Result<Duration, String> {
    let raw = raw.trim();
    let (digits, unit) = raw.split_at(raw.find(|c: char| !c.is_ascii_digit()).unwrap_or(raw.len()));
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("not a duration: {raw:?}"))?;
    let secs = match unit {
        "" | "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => {
            return Err(format!(
                "unknown duration unit in {raw:?}: use s, m, h or d"
            ))
        }
    };
    if secs == 0 {
        return Err("a token lifetime must be positive".into());
    }
    Ok(Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_and_verify() {
        let keys = JwtKeys::new("secret");
        let t = keys.issue("alice", Role::Agent, Some("shop"), Duration::from_secs(60));
        let p = keys.verify(&t).unwrap();
        assert_eq!(p.role, Role::Agent);
        assert_eq!(p.business_id.unwrap().as_str(), "shop");
        assert!(JwtKeys::new("other").verify(&t).is_err());
        assert!(matches!(
            keys.verify("garbage"),
            Err(TokenError::Invalid(_))
        ));
    }

    /// A customer token for `a` signed with `secret`, expiring at `exp`.
    fn signed_expiring(exp: u64) -> String {
        let claims = Claims {
            sub: "a".into(),
            exp,
            iat: None,
            role: None,
            business_id: None,
            email: None,
            name: None,
        };
        encode(
            &Header::default(),
            &claims,
            &EncodingKey::from_secret(b"secret"),
        )
        .unwrap()
    }

    #[test]
    fn expired_tokens_are_refused() {
        let t = signed_expiring(now_secs() - 3600);
        assert_eq!(JwtKeys::new("secret").verify(&t), Err(TokenError::Expired));
    }

    #[test]
    fn the_leeway_is_a_setting_and_refusals_are_in_our_words() {
        let t = signed_expiring(now_secs() - 30);
        assert!(JwtKeys::new("secret").verify(&t).is_ok(), "within 60 s");
        assert_eq!(
            JwtKeys::new("secret").with_leeway(0).verify(&t),
            Err(TokenError::Expired)
        );
        assert_eq!(
            JwtKeys::new("other").verify(&t),
            Err(TokenError::Invalid(
                "the token's signature does not match".into()
            ))
        );
    }

    #[test]
    fn a_token_without_exp_is_refused() {
        #[derive(Serialize)]
        struct NoExp {
            sub: String,
        }
        let t = encode(
            &Header::default(),
            &NoExp { sub: "a".into() },
            &EncodingKey::from_secret(b"secret"),
        )
        .unwrap();
        assert!(matches!(
            JwtKeys::new("secret").verify(&t),
            Err(TokenError::Invalid(_))
        ));
    }

    #[test]
    fn ttl() {
        assert_eq!(parse_ttl("1h").unwrap(), Duration::from_secs(3600));
        assert_eq!(parse_ttl("90").unwrap(), Duration::from_secs(90));
        assert!(parse_ttl("1y").is_err());
        assert!(parse_ttl("0s").is_err());
        assert!(parse_ttl("").is_err());
    }
}
