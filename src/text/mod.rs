//! Pure display-text primitives shared by every layer: terminal escaping ([`escape::Escaped`])
//! and human units. The bottom layer: imports nothing from the crate.

pub mod escape;
pub mod units;
