//! Integration tests: the procscope binary run against fixture trees and against processes
//! the tests start themselves.

mod architecture;
mod budget;
mod columns;
mod common;
mod contract;
mod deputy;
mod exact;
mod export;
mod fds_ports;
mod fixtures;
mod groups;
mod hostile;
mod hostile_text;
mod jvm;
mod kill;
mod kill_ns;
mod mem;
mod node;
mod node_family;
mod node_roles;
mod output;
mod permission;
mod pmap_x;
mod ports_diag;
mod profile;
mod props;
mod ps_live;
mod schema;
mod security;
mod show_live;
mod stress;
#[path = "../support/system_user.rs"]
mod system_user;
mod terminal;
mod threads;
mod top;
mod top_first_refresh;
mod top_refresh;
mod tree_kill;
mod who;
