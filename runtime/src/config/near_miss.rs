//! Pool names that nearly match: the same name in another case, or one typing slip away
//! (a character added, left out, replaced, or two neighbours swapped).

/// Whether `a` and `b` differ, but only in the case of their letters (`DB` and `db`).
pub(crate) fn differ_only_in_case(a: &str, b: &str) -> bool {
    a != b && a.to_lowercase() == b.to_lowercase()
}

/// Whether `a` and `b` differ, but only in case or by one edit, ignoring case: a character
/// inserted, deleted or substituted, or two adjacent characters transposed (`db` and
/// `dbb`, `bd`, `Db`).
pub(crate) fn is_near_miss(a: &str, b: &str) -> bool {
    if a == b {
        return false;
    }
    let a: Vec<char> = a.to_lowercase().chars().collect();
    let b: Vec<char> = b.to_lowercase().chars().collect();
    let prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let (a, b) = (&a[prefix..], &b[prefix..]);
    let suffix = a
        .iter()
        .rev()
        .zip(b.iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (a, b) = (&a[..a.len() - suffix], &b[..b.len() - suffix]);
    match (a, b) {
        // The same but for case, or one character added, left out or replaced.
        ([], []) | ([], [_]) | ([_], []) | ([_], [_]) => true,
        ([x1, x2], [y1, y2]) => x1 == y2 && x2 == y1,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_and_one_edit_are_near_misses_and_nothing_else_is() {
        for (a, b) in [
            ("DB", "db"),
            ("Db", "db"),
            ("dbb", "db"),
            ("d", "db"),
            ("db", "bd"),
            ("cpu", "gpu"),
            ("io", "iox"),
            ("xio", "io"),
            ("Dbx", "db"),
            ("défaut", "défault"),
        ] {
            assert!(is_near_miss(a, b), "{a:?} {b:?}");
            assert!(is_near_miss(b, a), "{b:?} {a:?}");
        }
        for (a, b) in [
            ("db", "db"),
            ("db", "io"),
            ("dbxx", "db"),
            ("abc", "cba"),
            ("default", "cpu"),
            ("", "ab"),
        ] {
            assert!(!is_near_miss(a, b), "{a:?} {b:?}");
        }
        assert!(differ_only_in_case("DB", "db"));
        assert!(!differ_only_in_case("db", "db"));
        assert!(!differ_only_in_case("dbb", "db"));
    }
}
