//! The advice given with an outcome, as pure functions of the area's rules and what the caller
//! said: consent guidance ([`consent`]) and the next steps that fit the level ([`next_steps`]).

pub mod consent;
pub mod next_steps;
