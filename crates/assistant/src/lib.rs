//! The assistant's doors to dueflow: [`tools`], the task operations a model
//! may call as the user it acts for; [`chat`], conversations in plain
//! language that act through them; and [`mcp`], the MCP server that offers
//! them to AI clients. Both stand on the application layer, as the REST API
//! and the web app do.

pub mod chat;
pub mod mcp;
pub mod tools;
