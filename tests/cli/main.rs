//! Integration tests: the procscope binary run against fixture trees and against processes
//! the tests start themselves.

mod columns;
mod common;
mod contract;
mod deputy;
mod exact;
mod fds_ports;
mod fixtures;
mod groups;
mod hostile;
mod hostile_text;
mod kill;
mod kill_ns;
mod mem;
mod node;
mod output;
mod permission;
mod pmap_x;
mod props;
mod ps_live;
mod schema;
mod security;
mod show_live;
mod stress;
mod terminal;
mod threads;
mod tree_kill;
