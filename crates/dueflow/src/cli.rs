//! Command-line grammar. Server-side commands share [`ServerArgs`]; each
//! flag also has a `DUEFLOW_*` environment twin and a key in the TOML file.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "dueflow",
    version,
    about = "Self-hosted, event-driven task manager"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the server (all roles in one process by default).
    Serve(ServerArgs),
    /// Create or upgrade the database schema, then exit.
    Migrate(ServerArgs),
    /// Manage users.
    #[command(subcommand)]
    User(UserCmd),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCmd),
    /// Work with tasks on a running server.
    #[command(subcommand)]
    Task(TaskCmd),
}

/// Settings shared by the commands that open the database.
#[derive(Args, Clone, Default)]
pub struct ServerArgs {
    /// TOML configuration file.
    #[arg(long, env = "DUEFLOW_CONFIG")]
    pub config: Option<PathBuf>,
    /// Directory for the SQLite database file (default: ./data).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// `sqlite:PATH` or `postgres://…` (default: SQLite file in the data directory).
    #[arg(long = "database")]
    pub database_url: Option<String>,
    /// Address to listen on (default: 127.0.0.1:8080).
    #[arg(long)]
    pub listen: Option<String>,
    /// Roles to run, comma-separated (default: all): api, recurring, scheduler, notifier, audit.
    #[arg(long)]
    pub roles: Option<String>,
    /// Event bus: inproc (default), kafka or dapr.
    #[arg(long)]
    pub bus: Option<String>,
    /// Kafka-protocol brokers, host:port,…
    #[arg(long)]
    pub kafka_brokers: Option<String>,
}

#[derive(Subcommand)]
pub enum UserCmd {
    /// Create a user; the password comes from a prompt or standard input.
    Add {
        name: String,
        /// Read the password from standard input (first line).
        #[arg(long)]
        password_stdin: bool,
        /// IANA time zone of the user (default UTC).
        #[arg(long)]
        tz: Option<String>,
        /// How the user writes numeric dates: dmy (default), mdy or ymd.
        #[arg(long)]
        date_order: Option<String>,
        #[command(flatten)]
        server: ServerArgs,
    },
}

#[derive(Subcommand)]
pub enum TokenCmd {
    /// Create an API token for a user; prints it alone on the last line.
    Create {
        user: String,
        /// What the token is for.
        #[arg(long, default_value = "cli")]
        label: String,
        #[command(flatten)]
        server: ServerArgs,
    },
}

/// Where the client finds the server and its token.
#[derive(Args, Clone)]
pub struct ClientArgs {
    /// Server URL (default http://127.0.0.1:8080, or `server` in the client config).
    #[arg(long, env = "DUEFLOW_SERVER", global = true)]
    pub server: Option<String>,
    /// API token (or `token` in ~/.config/dueflow/client.toml).
    #[arg(long, env = "DUEFLOW_TOKEN", global = true, hide_env_values = true)]
    pub token: Option<String>,
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Args, Clone, Default)]
pub struct TaskFields {
    /// Due date (YYYY-MM-DD) or RFC 3339 date-time; "none" clears it on edit.
    #[arg(long)]
    pub due: Option<String>,
    /// none, low, medium, high or urgent.
    #[arg(long)]
    pub priority: Option<String>,
    /// A tag; repeat for several (replaces the tags on edit).
    #[arg(long = "tag")]
    pub tags: Vec<String>,
    /// Markdown notes.
    #[arg(long)]
    pub notes: Option<String>,
    /// RFC 5545 RRULE, e.g. FREQ=WEEKLY;BYDAY=MO.
    #[arg(long)]
    pub every: Option<String>,
}

#[derive(Subcommand)]
pub enum TaskCmd {
    /// Add a task.
    Add {
        title: String,
        #[command(flatten)]
        fields: TaskFields,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// List tasks matching a query (see docs/query-language.md).
    List {
        /// Query, e.g. 'priority>=high tag:work due<=7d'; after `--`, a
        /// word may start with '-' to negate it (-- -tag:home).
        query: Vec<String>,
        /// Sort keys, e.g. 'due' or '-priority,due' ('-' for descending).
        #[arg(long, allow_hyphen_values = true)]
        sort: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: u32,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Mark a task done.
    Done {
        id: String,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Change a task.
    Edit {
        id: String,
        #[arg(long)]
        title: Option<String>,
        #[command(flatten)]
        fields: TaskFields,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Delete a task.
    Rm {
        id: String,
        #[command(flatten)]
        client: ClientArgs,
    },
}
