//! Typed ids of the things a URL names: a record, an exchange item, an order, an account, an API
//! token. Parsed once at the edge (a path segment that is not one names nothing: 404), then
//! passed on as what they are, so that an item's id cannot be handed where a record's is meant.

use std::fmt;

/// What every typed id offers.
pub trait TypedId: Copy + Sized {
    /// Catalogue key of the thing it names, for "no such …" answers.
    const WHAT: &'static str;
    fn new(raw: i64) -> Self;
    fn get(self) -> i64;

    /// A path segment as an id: digits of a positive number, nothing else.
    fn parse(raw: &str) -> Option<Self> {
        if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        raw.parse::<i64>().ok().filter(|n| *n > 0).map(Self::new)
    }
}

macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(i64);

        impl TypedId for $name {
            const WHAT: &'static str = $what;
            fn new(raw: i64) -> Self {
                $name(raw)
            }
            fn get(self) -> i64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = String::deserialize(d)?;
                <$name as TypedId>::parse(&raw)
                    .ok_or_else(|| serde::de::Error::custom(format!("`{raw}` is not the id of a {}", $what)))
            }
        }
    };
}

typed_id!(
    /// A personal record.
    PersonId,
    "thing.record"
);
typed_id!(
    /// An exchange item.
    ItemId,
    "thing.exchange_item"
);
typed_id!(
    /// A supervision order.
    OrderId,
    "order.thing"
);
typed_id!(
    /// An account.
    AccountId,
    "thing.account"
);
typed_id!(
    /// A department's API token.
    TokenId,
    "thing.token"
);

/// The id of a kind of case.
pub trait CaseId: TypedId {
    const KIND: crate::case::CaseKind;
}

impl CaseId for ItemId {
    const KIND: crate::case::CaseKind = crate::case::CaseKind::Exchange;
}

impl CaseId for OrderId {
    const KIND: crate::case::CaseKind = crate::case::CaseKind::Order;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_is_a_positive_number_written_plainly() {
        assert_eq!(PersonId::parse("42").map(TypedId::get), Some(42));
        for bad in ["", "0", "-1", "+1", "1e3", " 1", "abc", "99999999999999999999"] {
            assert_eq!(PersonId::parse(bad), None, "{bad}");
        }
        assert_eq!(ItemId::WHAT, "thing.exchange_item");
    }
}
