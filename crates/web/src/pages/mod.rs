//! The pages and the forms they post, one module per part of the app.

pub mod auth;
pub mod calendar;
pub mod editor;
pub mod notifications;
pub mod offline;
pub mod organize;
mod row;
pub mod settings;
pub mod suggest;
pub mod tasks;
pub mod webhook;
