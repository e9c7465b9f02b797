//! The pages and the forms they post, one module per part of the app.

pub mod auth;
pub mod editor;
mod row;
pub mod tasks;
