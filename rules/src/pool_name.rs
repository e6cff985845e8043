//! What a pool may be named.

/// The pool `#[offload]` and `run` use unless told otherwise.
pub const DEFAULT_POOL: &str = "default";

/// Why a text cannot name a pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BadPoolName {
    /// The name is empty.
    Empty,
    /// The name holds this character: white space, a control character, or one of `,` `=`
    /// `:`, which `OFFLOAD_POOLS` could not write.
    Forbidden(char),
}

impl BadPoolName {
    /// The rule the name breaks, for a message that quotes the name beside it.
    #[must_use]
    pub fn reason(self) -> &'static str {
        match self {
            BadPoolName::Empty => "a pool name cannot be empty",
            BadPoolName::Forbidden(_) => {
                "a pool name cannot contain white space, control characters, ',', '=' or ':'"
            }
        }
    }
}

/// Checks that `name` can name a pool: it is not empty, and has nothing that
/// `OFFLOAD_POOLS` could not write (white space, control characters, `,`, `=`, `:`).
///
/// # Errors
///
/// What is wrong with it, with the first character at fault.
pub fn check_pool_name(name: &str) -> Result<(), BadPoolName> {
    if name.is_empty() {
        return Err(BadPoolName::Empty);
    }
    match name
        .chars()
        .find(|&c| c.is_whitespace() || c.is_control() || matches!(c, ',' | '=' | ':'))
    {
        Some(bad) => Err(BadPoolName::Forbidden(bad)),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_offload_pools_can_write_are_accepted() {
        for name in ["db", "db-replica", "io_2", "Ünïcode", "a.b"] {
            assert_eq!(check_pool_name(name), Ok(()), "{name:?}");
        }
    }

    #[test]
    fn the_first_character_at_fault_is_named() {
        assert_eq!(check_pool_name(""), Err(BadPoolName::Empty));
        assert_eq!(check_pool_name("a b:c"), Err(BadPoolName::Forbidden(' ')));
        assert_eq!(check_pool_name("db=2"), Err(BadPoolName::Forbidden('=')));
        assert_eq!(check_pool_name("x\n"), Err(BadPoolName::Forbidden('\n')));
    }
}
