//! The MCP server: the [`tools`](crate::tools) offered to AI clients over
//! MCP's streamable HTTP transport, stateless, each request answered with
//! plain JSON. The HTTP door authenticates every request before it gets
//! here and leaves the caller's [`User`] in the request's extensions, so a
//! refused token is an HTTP 401, never a tool result.

use std::sync::Arc;

use axum::http::request::Parts;
use dueflow_app::App;
use dueflow_domain::trace::TraceParent;
use dueflow_store::User;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ErrorData, RoleServer, ServerHandler};

use crate::tools::{ToolError, Tools, catalogue};

const INSTRUCTIONS: &str = "dueflow is the user's task list. Find a task's id with \
    search_tasks or list_tasks before changing it; add tasks from the user's own words with \
    quick_add; ask the user before delete_task. Dates without an offset are read in the \
    user's time zone.";

/// The tools of one application, as an MCP server.
#[derive(Clone)]
pub struct McpServer {
    tools: Tools,
}

impl ServerHandler for McpServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("dueflow", env!("CARGO_PKG_VERSION")))
            .with_instructions(INSTRUCTIONS)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(catalogue().to_vec()))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        catalogue().iter().find(|t| t.name == name).cloned()
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let parts = context.extensions.get::<Parts>();
        let user = parts
            .and_then(|p| p.extensions.get::<User>())
            .cloned()
            .ok_or_else(|| ErrorData::internal_error("the request has no caller", None))?;
        // The HTTP request's span, from the API's trace middleware.
        let trace = parts
            .and_then(|p| p.extensions.get::<TraceParent>())
            .copied()
            .unwrap_or_else(TraceParent::root);
        let args = request.arguments.unwrap_or_default();
        let result = match self.tools.call(&user, trace, &request.name, args).await {
            Ok(answer) => CallToolResult::structured(answer),
            // An unknown tool is the client's protocol error; anything else
            // the model can read and correct.
            Err(e @ ToolError::Unknown(_)) => {
                return Err(ErrorData::invalid_params(e.to_string(), None));
            }
            Err(e) => CallToolResult::error(vec![ContentBlock::text(e.to_string())]),
        };
        Ok(result.into())
    }
}

/// The streamable HTTP endpoint (mounted at `/mcp`), stateless: every
/// request carries its own credentials, so any `api` replica answers it.
/// The `Host` header is not limited: requests are authenticated, and those
/// authenticated by the session cookie are checked for their origin before
/// they get here. `body_limit` bounds a request's body.
pub fn service(
    app: App,
    body_limit: usize,
) -> StreamableHttpService<McpServer, NeverSessionManager> {
    let server = McpServer {
        tools: Tools::new(app),
    };
    let mut config = StreamableHttpServerConfig::default().disable_allowed_hosts();
    config.legacy_session_mode = false;
    config.json_response = true;
    config.max_request_body_bytes = body_limit;
    StreamableHttpService::new(
        move || Ok(server.clone()),
        Arc::new(NeverSessionManager::default()),
        config,
    )
}
