//! Capability sets (`CapEff:` and friends in /proc/PID/status, 64-bit hex masks) decoded to
//! the names libcap uses (`cap_chown`...). Pure.

/// Capability names by bit number (linux/capability.h, up to CAP_CHECKPOINT_RESTORE = 40).
const NAMES: &[&str] = &[
    "cap_chown",
    "cap_dac_override",
    "cap_dac_read_search",
    "cap_fowner",
    "cap_fsetid",
    "cap_kill",
    "cap_setgid",
    "cap_setuid",
    "cap_setpcap",
    "cap_linux_immutable",
    "cap_net_bind_service",
    "cap_net_broadcast",
    "cap_net_admin",
    "cap_net_raw",
    "cap_ipc_lock",
    "cap_ipc_owner",
    "cap_sys_module",
    "cap_sys_rawio",
    "cap_sys_chroot",
    "cap_sys_ptrace",
    "cap_sys_pacct",
    "cap_sys_admin",
    "cap_sys_boot",
    "cap_sys_nice",
    "cap_sys_resource",
    "cap_sys_time",
    "cap_sys_tty_config",
    "cap_mknod",
    "cap_lease",
    "cap_audit_write",
    "cap_audit_control",
    "cap_setfcap",
    "cap_mac_override",
    "cap_mac_admin",
    "cap_syslog",
    "cap_wake_alarm",
    "cap_block_suspend",
    "cap_audit_read",
    "cap_perfmon",
    "cap_bpf",
    "cap_checkpoint_restore",
];

/// Parses a status mask (`000001ffffffffff`).
pub fn parse_mask(text: &[u8]) -> Option<u64> {
    u64::from_str_radix(std::str::from_utf8(text).ok()?.trim(), 16).ok()
}

/// The names of the bits set in `mask`, lowest first; bits the table does not know are
/// named by number (`38` → `cap_perfmon`, `45` → `45`), as capsh does.
pub fn cap_names(mask: u64) -> Vec<String> {
    (0..64)
        .filter(|bit| mask & (1 << bit) != 0)
        .map(|bit| {
            NAMES
                .get(bit as usize)
                .map_or_else(|| bit.to_string(), |name| (*name).to_owned())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_decode_like_capsh() {
        // capsh --decode=0000000000003000 → cap_net_admin,cap_net_raw
        assert_eq!(parse_mask(b"0000000000003000"), Some(0x3000));
        assert_eq!(cap_names(0x3000), ["cap_net_admin", "cap_net_raw"]);
        assert_eq!(cap_names(0x20), ["cap_kill"]);
        let all = cap_names(parse_mask(b"000001ffffffffff").unwrap());
        assert_eq!(all.len(), 41);
        assert_eq!(all.last().unwrap(), "cap_checkpoint_restore");
        assert_eq!(cap_names(1 << 45), ["45"]);
        assert!(cap_names(0).is_empty());
        assert_eq!(parse_mask(b"zz"), None);
    }
}
