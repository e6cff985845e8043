//! The registry's maps and sets of pool names: `Vec`s kept sorted by name.
//!
//! A process has a handful of pools, for which a binary search of a sorted `Vec` is as
//! quick as a B-tree's; and the B-tree's code, compiled again for every key and value
//! type, was a quarter of what this crate gave the compiler to build (measured with
//! `cargo llvm-lines`), in every user's build.

/// Values by name, sorted by name, each name once.
#[derive(Clone, Debug)]
pub(crate) struct ByName<V> {
    entries: Vec<(Box<str>, V)>,
}

impl<V> ByName<V> {
    pub(crate) const fn new() -> Self {
        ByName {
            entries: Vec::new(),
        }
    }

    /// Where `name` is, or where it would go.
    fn find(&self, name: &str) -> Result<usize, usize> {
        self.entries
            .binary_search_by(|(entry, _)| (**entry).cmp(name))
    }

    pub(crate) fn get(&self, name: &str) -> Option<&V> {
        let place = self.find(name).ok()?;
        self.entries.get(place).map(|(_, value)| value)
    }

    pub(crate) fn contains(&self, name: &str) -> bool {
        self.find(name).is_ok()
    }

    /// Puts `value` under `name`, replacing the value there, if any.
    pub(crate) fn insert(&mut self, name: &str, value: V) {
        match self.find(name) {
            Ok(place) => self.entries[place].1 = value,
            Err(place) => self.entries.insert(place, (name.into(), value)),
        }
    }

    pub(crate) fn remove(&mut self, name: &str) -> Option<V> {
        let place = self.find(name).ok()?;
        Some(self.entries.remove(place).1)
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// The names and their values, by name.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &V)> {
        self.entries.iter().map(|(name, value)| (&**name, value))
    }

    /// The names, in order.
    pub(crate) fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(name, _)| &**name)
    }

    /// The values, by name.
    pub(crate) fn values(&self) -> impl Iterator<Item = &V> {
        self.entries.iter().map(|(_, value)| value)
    }
}

impl<V> IntoIterator for ByName<V> {
    type Item = (Box<str>, V);
    type IntoIter = std::vec::IntoIter<(Box<str>, V)>;

    /// The names and their values, by name.
    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

/// Adds `item` to `sorted`, a sorted `Vec` without duplicates, in its place (nothing if it
/// is there already): the registry's sets of names.
pub(crate) fn insert_sorted<T: Ord>(sorted: &mut Vec<T>, item: T) {
    if let Err(place) = sorted.binary_search(&item) {
        sorted.insert(place, item);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_stay_sorted_and_unique() {
        let mut map = ByName::new();
        for (name, value) in [("io", 1), ("db", 2), ("cpu", 3), ("db", 4)] {
            map.insert(name, value);
        }
        assert_eq!(map.names().collect::<Vec<_>>(), ["cpu", "db", "io"]);
        assert_eq!(map.get("db"), Some(&4), "a name again replaces its value");
        assert_eq!(map.remove("cpu"), Some(3));
        assert!(!map.contains("cpu") && map.get("cpu").is_none());
        assert_eq!(map.len(), 2);

        let mut set = Vec::new();
        for name in ["b", "a", "c", "a"] {
            insert_sorted(&mut set, name);
        }
        assert_eq!(set, ["a", "b", "c"]);
    }
}
