//! User names by uid (and uids by name), asked of NSS (getpwuid_r/getpwnam_r through nix) and
//! cached for the run, so every account `ps` shows by name shows by name here too.

use std::collections::HashMap;
use std::sync::Mutex;

use nix::unistd::{Gid, Group, Uid, User};

/// A uid ↔ name cache, filled on demand from NSS when a column or filter needs names.
#[derive(Debug, Default)]
pub struct UserNames {
    by_uid: Mutex<HashMap<u32, Option<String>>>,
    by_gid: Mutex<HashMap<u32, Option<String>>>,
}

impl UserNames {
    /// An empty cache; names are looked up the first time each uid is asked for.
    pub fn load() -> Self {
        Self::default()
    }

    /// The user's name, or the uid as text when it has no name (like `ps`).
    pub fn name(&self, uid: u32) -> String {
        cached(&self.by_uid, uid, || {
            User::from_uid(Uid::from_raw(uid))
                .ok()
                .flatten()
                .map(|user| user.name)
        })
    }

    /// The group's name (getgrgid_r through NSS), or the gid as text when it has none.
    pub fn group_name(&self, gid: u32) -> String {
        cached(&self.by_gid, gid, || {
            Group::from_gid(Gid::from_raw(gid))
                .ok()
                .flatten()
                .map(|group| group.name)
        })
    }

    /// The uid for a user name or a numeric uid.
    pub fn resolve(&self, name_or_uid: &str) -> Option<u32> {
        if let Ok(uid) = name_or_uid.parse() {
            return Some(uid);
        }
        let user = User::from_name(name_or_uid).ok().flatten()?;
        let uid = user.uid.as_raw();
        self.by_uid
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(uid, Some(user.name));
        Some(uid)
    }
}

/// The name of `id` from `cache`, asking `lookup` the first time; the id as text when it has
/// no name.
fn cached(
    cache: &Mutex<HashMap<u32, Option<String>>>,
    id: u32,
    lookup: impl FnOnce() -> Option<String>,
) -> String {
    let mut cache = cache
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    cache
        .entry(id)
        .or_insert_with(lookup)
        .clone()
        .unwrap_or_else(|| id.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_is_uid_zero() {
        let users = UserNames::load();
        assert_eq!(users.resolve("root"), Some(0));
        assert_eq!(users.name(0), "root");
        assert_eq!(users.resolve("4242"), Some(4242));
        assert_eq!(users.name(4_000_000), "4000000");
        assert_eq!(users.resolve("no-such-user-here"), None);
        assert_eq!(users.group_name(0), "root");
        assert_eq!(users.group_name(4_000_000), "4000000");
    }
}
