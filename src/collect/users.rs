//! User names by uid (and uids by name), from the system's user list through sysinfo.

use std::collections::HashMap;

/// A uid ↔ name table, loaded once per run when a column or filter needs names.
#[derive(Debug, Default)]
pub struct UserNames {
    by_uid: HashMap<u32, String>,
}

impl UserNames {
    /// Loads the system's users (sysinfo reads `/etc/passwd`).
    pub fn load() -> Self {
        let by_uid = sysinfo::Users::new_with_refreshed_list()
            .map(|users| {
                users
                    .iter()
                    .map(|user| (**user.id(), user.name().to_owned()))
                    .collect()
            })
            .unwrap_or_default();
        Self { by_uid }
    }

    /// The user's name, or the uid as text when it has no name (like `ps`).
    pub fn name(&self, uid: u32) -> String {
        self.by_uid
            .get(&uid)
            .cloned()
            .unwrap_or_else(|| uid.to_string())
    }

    /// The uid for a user name or a numeric uid.
    pub fn resolve(&self, name_or_uid: &str) -> Option<u32> {
        if let Ok(uid) = name_or_uid.parse() {
            return Some(uid);
        }
        self.by_uid
            .iter()
            .find(|(_, name)| name.as_str() == name_or_uid)
            .map(|(&uid, _)| uid)
    }
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
    }
}
