//! Command-line grammar. Server-side commands share [`ServerArgs`]; each
//! flag also has a `DUEFLOW_*` environment twin and a key in the TOML file.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, CommandFactory, Parser, Subcommand};

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
    /// Serve MCP on standard input and output for an AI client, acting as
    /// the token's user through a running server (see docs/assistant.md).
    Mcp(ClientArgs),
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
    /// Log lines as `text` (default) or `json`, one object per line with
    /// the trace id of the request or event it is about.
    #[arg(long)]
    pub log_format: Option<String>,
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
    /// Due: 2026-12-01, tomorrow, 'fri 9am', 'next monday', +3d, or an RFC 3339 date-time.
    #[arg(long)]
    pub due: Option<String>,
    /// none, low, medium, high or urgent (any case).
    #[arg(long)]
    pub priority: Option<String>,
    /// A tag; repeat for several (replaces the tags on edit).
    #[arg(long = "tag")]
    pub tags: Vec<String>,
    /// Markdown notes.
    #[arg(long)]
    pub notes: Option<String>,
    /// Repeat: in words ('every monday', 'every 2 weeks', 'weekday') or an RFC 5545 RRULE (FREQ=WEEKLY;BYDAY=MO).
    #[arg(long)]
    pub every: Option<String>,
}

/// What only an edit can do: take a value away.
#[derive(Args, Clone, Default)]
pub struct Clearing {
    /// Remove the due date (and so the reminders relative to it).
    #[arg(long, conflicts_with = "due")]
    pub no_due: bool,
    /// Stop repeating.
    #[arg(long, conflicts_with = "every")]
    pub no_recurrence: bool,
    /// Remove every tag.
    #[arg(long, conflicts_with_all = ["tags", "untag"])]
    pub clear_tags: bool,
    /// Remove one tag; repeat for several.
    #[arg(long, conflicts_with = "tags")]
    pub untag: Vec<String>,
}

#[derive(Subcommand)]
pub enum TaskCmd {
    /// Add a task. Its text is read as quick add ('pay rent every month on
    /// the 1st at 9am #bills !high'; see docs/quick-add.md) unless --literal.
    Add {
        title: String,
        /// Keep the text as the title, reading no dates, tags or other phrases in it.
        #[arg(long)]
        literal: bool,
        #[command(flatten)]
        fields: TaskFields,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// List tasks matching a query (see docs/query-language.md); a word
    /// starting with '-' negates it (-tag:home).
    List {
        /// Query, e.g. 'priority>=high tag:work due<=7d -tag:home'.
        query: Vec<String>,
        /// Sort keys, e.g. 'due' or '-priority,due' ('-' for descending).
        #[arg(long, allow_hyphen_values = true)]
        sort: Option<String>,
        /// Tasks to show, 1 to 500.
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=500))]
        limit: u32,
        /// Every matching task, page after page (with --json, one task per line).
        #[arg(long, conflicts_with = "cursor")]
        all: bool,
        /// Start after the page that gave this `next_cursor` (from --json).
        #[arg(long)]
        cursor: Option<String>,
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
        clearing: Clearing,
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

/// The arguments as given, with the query words of `task list` that start
/// with one '-' (negations such as `-tag:home`) moved behind `--`, where
/// clap takes them as words rather than flags. Flags and their values stay
/// where they are; `--` given by the user keeps working.
pub fn with_negations_as_words(args: Vec<OsString>) -> Vec<OsString> {
    let is = |i: usize, word: &str| args.get(i).is_some_and(|a| a == word);
    if !(is(1, "task") && is(2, "list")) {
        return args;
    }
    let command = Cli::command();
    let Some(list) = command
        .find_subcommand("task")
        .and_then(|t| t.find_subcommand("list"))
    else {
        return args;
    };
    let takes_value = |long: &str| {
        list.get_arguments()
            .any(|a| a.get_long() == Some(long) && a.get_action().takes_values())
    };
    let mut flags = args[..3].to_vec();
    let mut words = Vec::new();
    let mut rest = args[3..].iter();
    while let Some(arg) = rest.next() {
        let text = arg.to_string_lossy();
        if text == "--" {
            words.extend(rest.by_ref().cloned());
        } else if let Some(long) = text.strip_prefix("--") {
            flags.push(arg.clone());
            if !long.contains('=') && takes_value(long) {
                flags.extend(rest.next().cloned());
            }
        } else if text == "-h" {
            flags.push(arg.clone());
        } else {
            words.push(arg.clone());
        }
    }
    if !words.is_empty() {
        flags.push("--".into());
        flags.extend(words);
    }
    flags
}

#[cfg(test)]
mod tests {
    use super::*;

    fn moved(args: &str) -> Vec<String> {
        let args = args.split(' ').map(OsString::from).collect();
        with_negations_as_words(args)
            .into_iter()
            .map(|a| a.into_string().unwrap())
            .collect()
    }

    #[test]
    fn negated_words_go_behind_the_separator() {
        assert_eq!(
            moved("dueflow task list -tag:home --sort -due --json due<=7d --limit 5"),
            [
                "dueflow",
                "task",
                "list",
                "--sort",
                "-due",
                "--json",
                "--limit",
                "5",
                "--",
                "-tag:home",
                "due<=7d"
            ]
        );
        assert_eq!(
            moved("dueflow task list --sort=-due -- -tag:x"),
            ["dueflow", "task", "list", "--sort=-due", "--", "-tag:x"]
        );
        assert_eq!(
            moved("dueflow task add -x"),
            ["dueflow", "task", "add", "-x"]
        );
        assert_eq!(
            moved("dueflow task list -h"),
            ["dueflow", "task", "list", "-h"]
        );
    }
}
