//! Account operations: users (name, password, time zone, e-mail address),
//! logging in under the login limits, API tokens and login sessions, and
//! e-mail verification. The doors add only what is theirs: a cookie, their
//! cache of looked-up tokens, closing the live streams of a revoked token.

pub mod limiter;
pub mod password;
pub mod secret;
mod tokens;
mod users;
mod verification;

pub use tokens::Session;
pub use users::{ProfileChange, user_name};
pub use verification::VerificationSent;
