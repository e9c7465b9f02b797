//! What the published OpenAPI document says about every operation alike, so
//! that a route only declares what is its own: the two ways to authenticate
//! (a bearer token, or the web session cookie), the 401 every secured
//! operation answers, and the one problem+json body of every error answer.
//!
//! A handler writes `security(("bearer" = []))` when it needs a user, and
//! lists its own error statuses with a description only (`(status = 404,
//! description = "no such task")`); [`Contract`] turns that into the bearer
//! or cookie alternatives, adds the 401, the 400 of a malformed parameter
//! and the 400/413/415 of a malformed body, and gives each error the
//! `Problem` schema (and a 401 or 429 its header). Request bodies refuse
//! unknown fields (`#[serde(deny_unknown_fields)]` on every body type), and
//! the document says so of every object they are made of; no string a
//! client sends may hold a NUL (`crate::text`), and the document says so of
//! every string no enum, standard format or pattern already confines.

use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, ParameterIn, PathItem};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{
    AdditionalProperties, ArrayItems, Schema, SchemaFormat, SchemaType, Type,
};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{Components, RefOr, Response};
use utoipa::{Modify, PartialSchema, ToSchema};

use crate::auth::SESSION_COOKIE;
use crate::problem::{PROBLEM_JSON, Problem};
use crate::text::NO_NUL_PATTERN;

/// Security scheme of an `Authorization: Bearer <token>` header.
const BEARER: &str = "bearer";
/// Security scheme of the web session cookie.
const COOKIE: &str = "cookie";

/// Applies the shared parts of the contract; see the module comment.
pub struct Contract;

impl Modify for Contract {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(
                Http::builder()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An API token (`dueflow token create`, POST /api/v1/tokens) or the \
                         token of a login session",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            COOKIE,
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                SESSION_COOKIE,
                "The web session cookie set by POST /api/v1/auth/login",
            ))),
        );
        components
            .schemas
            .insert(Problem::name().into_owned(), Problem::schema());
        let mut bodies = Vec::new();
        for item in openapi.paths.paths.values() {
            for op in operations(item) {
                let body = op.request_body.iter().flat_map(|b| b.content.values());
                bodies.extend(body.filter_map(|c| c.schema.clone()));
            }
        }
        let mut closed = std::collections::BTreeSet::new();
        for schema in &mut bodies {
            close(components, schema, &mut closed);
        }
        for item in openapi.paths.paths.values_mut() {
            operations_mut(item).for_each(complete);
        }
    }
}

fn operations_mut(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.patch,
        &mut item.head,
        &mut item.options,
        &mut item.trace,
    ]
    .into_iter()
    .flatten()
}

fn operations(item: &PathItem) -> impl Iterator<Item = &Operation> {
    [
        &item.get,
        &item.put,
        &item.post,
        &item.delete,
        &item.patch,
        &item.head,
        &item.options,
        &item.trace,
    ]
    .into_iter()
    .flatten()
}

/// Request bodies refuse unknown fields (`#[serde(deny_unknown_fields)]`):
/// say so of every named object a request body is made of, and give each
/// string in it [`without_nul`].
fn close(
    components: &mut Components,
    schema: &mut RefOr<Schema>,
    closed: &mut std::collections::BTreeSet<String>,
) {
    match schema {
        RefOr::Ref(r) => {
            let name = r
                .ref_location
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_owned();
            if !closed.insert(name.clone()) {
                return;
            }
            if let Some(mut inner) = components.schemas.remove(&name) {
                if let RefOr::T(Schema::Object(object)) = &mut inner {
                    object.additional_properties =
                        Some(Box::new(AdditionalProperties::FreeForm(false)));
                }
                close(components, &mut inner, closed);
                components.schemas.insert(name, inner);
            }
        }
        RefOr::T(Schema::Object(o)) => {
            for p in o.properties.values_mut() {
                without_nul(p);
                close(components, p, closed);
            }
        }
        RefOr::T(Schema::Array(a)) => {
            if let ArrayItems::RefOrSchema(items) = &mut a.items {
                without_nul(items);
                close(components, items, closed);
            }
        }
        RefOr::T(Schema::OneOf(s)) => s
            .items
            .iter_mut()
            .for_each(|i| close(components, i, closed)),
        RefOr::T(Schema::AnyOf(s)) => s
            .items
            .iter_mut()
            .for_each(|i| close(components, i, closed)),
        RefOr::T(Schema::AllOf(s)) => s
            .items
            .iter_mut()
            .for_each(|i| close(components, i, closed)),
        RefOr::T(_) => {}
    }
}

/// A string a client sends holds no NUL (see `crate::text`): say so of
/// each one that no enum, standard format or pattern already confines.
fn without_nul(schema: &mut RefOr<Schema>) {
    match schema {
        RefOr::T(Schema::Object(o)) => {
            let string = match &o.schema_type {
                SchemaType::Type(t) => *t == Type::String,
                SchemaType::Array(ts) => ts.contains(&Type::String),
                SchemaType::AnyValue => false,
            };
            let known_format = matches!(o.format, Some(SchemaFormat::KnownFormat(_)));
            if string && o.enum_values.is_none() && o.pattern.is_none() && !known_format {
                o.pattern = Some(NO_NUL_PATTERN.into());
            }
        }
        RefOr::T(Schema::OneOf(s)) => s.items.iter_mut().for_each(without_nul),
        _ => {}
    }
}

fn complete(op: &mut Operation) {
    let secured = op
        .security
        .as_ref()
        .is_some_and(|s| s.iter().any(|r| *r != SecurityRequirement::default()));
    if secured {
        op.security = Some(vec![
            SecurityRequirement::new(BEARER, Vec::<String>::new()),
            SecurityRequirement::new(COOKIE, Vec::<String>::new()),
        ]);
        answers(op, "401", "no valid token or session cookie was sent");
    }
    if op.parameters.as_ref().is_some_and(|p| !p.is_empty()) {
        answers(op, "400", "a parameter is invalid");
    }
    for p in op.parameters.iter_mut().flatten() {
        if p.parameter_in == ParameterIn::Query
            && let Some(schema) = &mut p.schema
        {
            without_nul(schema);
        }
    }
    if op.request_body.is_some() {
        answers(
            op,
            "400",
            "the body is not valid JSON or a field is invalid",
        );
        answers(op, "413", "the body is larger than the server accepts");
        answers(op, "415", "the body is not sent as application/json");
    }
    for (status, response) in &mut op.responses.responses {
        if let RefOr::T(response) = response
            && is_error(status)
        {
            with_problem_body(status, response);
        }
    }
}

/// Document that `op` can answer `status`, unless it already says so.
fn answers(op: &mut Operation, status: &str, description: &str) {
    op.responses
        .responses
        .entry(status.into())
        .or_insert_with(|| RefOr::T(ResponseBuilder::new().description(description).build()));
}

fn is_error(status: &str) -> bool {
    status.starts_with('4') || status.starts_with('5')
}

/// Every error answer carries a `Problem` as `application/problem+json`,
/// with the headers its status comes with.
fn with_problem_body(status: &str, response: &mut Response) {
    let header = |description: &str| {
        HeaderBuilder::new()
            .schema(String::schema())
            .description(Some(description))
            .build()
    };
    match status {
        "401" => {
            response
                .headers
                .entry("WWW-Authenticate".into())
                .or_insert_with(|| header("the authentication scheme to use: `Bearer`"));
        }
        "429" => {
            response
                .headers
                .entry("Retry-After".into())
                .or_insert_with(|| header("seconds to wait before trying again"));
        }
        _ => {}
    }
    response.content.clear();
    response.content.insert(
        PROBLEM_JSON.into(),
        ContentBuilder::new()
            .schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
                Problem::name(),
            ))))
            .build(),
    );
}
